#include "storage/traffic_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>

#include "storage/traffic_encoding.h"

namespace threatd::storage::traffic_sql {
namespace {

static_assert(std::endian::native == std::endian::little, "features are stored little-endian");

// Builds a statement: placeholders and expressions per dialect.
class Builder : public QueryBuilder {
 public:
  explicit Builder(Dialect d) : QueryBuilder(d) {}

  // A time column as epoch microseconds.
  std::string TimeCol(std::string_view col) const {
    return pg() ? fmt::format("(extract(epoch from {}) * 1000000)::int8", col) : std::string(col);
  }
  std::string BoolCol(std::string_view col) const {
    return pg() ? fmt::format("(CASE WHEN {} THEN 1 ELSE 0 END)", col) : std::string(col);
  }
  std::string Text(std::string_view col) const { return pg() ? fmt::format("{}::text", col) : std::string(col); }

  std::string ThreatColumns(std::string_view t) const {
    return fmt::format("{0}.id, {0}.traffic_data_id, {0}.prediction_score, {1}, {0}.threshold, {0}.model_version, {2}",
                       t, BoolCol(fmt::format("{}.is_attack", t)), TimeCol(fmt::format("{}.created_at", t)));
  }
  std::string AttackColumns(std::string_view t) const {
    return fmt::format(
        "{0}.id, {0}.traffic_data_id, {0}.attack_type_encoded, {0}.attack_type_name, {0}.confidence, "
        "{0}.model_version, {1}",
        t, TimeCol(fmt::format("{}.created_at", t)));
  }
  std::string ActionColumns(std::string_view t) const {
    return fmt::format(
        "{0}.id, {0}.attack_prediction_id, {0}.action_type, {0}.action_description, {1}, {0}.status, {2}, {3}, "
        "{0}.error_message, {0}.target, {0}.origin, {0}.mode, {4}",
        t, Text(fmt::format("{}.action_params", t)), TimeCol(fmt::format("{}.created_at", t)),
        TimeCol(fmt::format("{}.execution_time", t)), TimeCol(fmt::format("{}.expires_at", t)));
  }
  // traffic_data td LEFT JOIN its threat tp, attack ap and newest action a.
  std::string CompleteSelect() const {
    return fmt::format(
        "SELECT td.id, {}, td.source, td.batch_id, td.feature_schema_id, td.features, td.label, td.src_ip, "
        "td.dst_ip, td.src_port, td.dst_port, td.protocol, {}, {}, {} "
        "FROM traffic_data td "
        "LEFT JOIN threat_predictions tp ON tp.id = td.id "
        "LEFT JOIN attack_predictions ap ON ap.id = td.id "
        "LEFT JOIN self_healing_actions a ON a.id = "
        "(SELECT max(x.id) FROM self_healing_actions x WHERE x.attack_prediction_id = ap.id)",
        TimeCol("td.created_at"), ThreatColumns("tp"), AttackColumns("ap"), ActionColumns("a"));
  }
  std::string True() const { return pg() ? "true" : "1"; }

};

std::string NewestFirst(std::string_view t) { return fmt::format(" ORDER BY {0}.created_at DESC, {0}.id DESC", t); }

// A flow's predictions share its id and its created_at (schema v7), and only
// traffic_data indexes created_at: predictions by time are `t` joined to
// their flow `td`, filtered and ordered on td.created_at.
std::string WithFlow(std::string_view table) {
  return fmt::format("{} t JOIN traffic_data td ON td.id = t.id", table);
}
// For an aggregate: the join only when there is a time range to filter on.
std::string WithFlowIfRanged(std::string_view table, const TimeRange& r) {
  return r.since || r.until ? WithFlow(table) : fmt::format("{} t", table);
}
// Flows `td` with their threat `tp` and, if any, attack `ap` prediction.
constexpr const char* kFlowsWithPredictions =
    "traffic_data td JOIN threat_predictions tp ON tp.id = td.id LEFT JOIN attack_predictions ap ON ap.id = td.id";

}  // namespace

Status CheckPage(int64_t limit, int64_t offset) {
  if (limit < 1 || limit > 1000) return Status::InvalidArgument(fmt::format("limit must be 1..1000, got {}", limit));
  if (offset < 0) return Status::InvalidArgument(fmt::format("offset must be >= 0, got {}", offset));
  return Status::Ok();
}

SqlQuery CompleteList(Dialect d, const PredictionFilter& f) {
  Builder b(d);
  b.TimeFilter("td.created_at", f.since, f.until);
  if (f.source) b.Where("td.source = " + b.AddText(*f.source));
  if (f.batch_id) b.Where("td.batch_id = " + b.AddText(*f.batch_id));
  if (f.attacks_only) b.Where("tp.is_attack = " + b.True());
  if (f.attack_type) b.Where("ap.attack_type_name = " + b.AddText(*f.attack_type));
  if (f.action_type) b.Where("a.action_type = " + b.AddText(*f.action_type));
  std::string order = f.oldest_first ? std::string(" ORDER BY td.created_at ASC, td.id ASC") : NewestFirst("td");
  std::string sql = b.CompleteSelect() + b.where() + order;
  sql += b.Page(f.limit, f.offset);
  return b.Done(std::move(sql));
}

SqlQuery CompleteById(Dialect d, int64_t traffic_data_id) {
  Builder b(d);
  b.Where("td.id = " + b.AddInt(traffic_data_id));
  std::string sql = b.CompleteSelect() + b.where();
  return b.Done(std::move(sql));
}

SqlQuery ThreatList(Dialect d, const PredictionFilter& f) {
  Builder b(d);
  b.TimeFilter("td.created_at", f.since, f.until);
  if (f.attacks_only) b.Where("t.is_attack = " + b.True());
  std::string sql = fmt::format("SELECT {} FROM {}{}{}", b.ThreatColumns("t"), WithFlow("threat_predictions"),
                                b.where(), NewestFirst("td"));
  sql += b.Page(f.limit, f.offset);
  return b.Done(std::move(sql));
}

SqlQuery AttackList(Dialect d, const PredictionFilter& f) {
  Builder b(d);
  b.TimeFilter("td.created_at", f.since, f.until);
  if (f.attack_type) b.Where("t.attack_type_name = " + b.AddText(*f.attack_type));
  std::string sql = fmt::format("SELECT {} FROM {}{}{}", b.AttackColumns("t"), WithFlow("attack_predictions"),
                                b.where(), NewestFirst("td"));
  sql += b.Page(f.limit, f.offset);
  return b.Done(std::move(sql));
}

SqlQuery ActionList(Dialect d, const PredictionFilter& f) {
  Builder b(d);
  b.TimeFilter("t.created_at", f.since, f.until);
  if (f.action_type) b.Where("t.action_type = " + b.AddText(*f.action_type));
  std::string sql = fmt::format("SELECT {} FROM self_healing_actions t{}{}", b.ActionColumns("t"), b.where(),
                                NewestFirst("t"));
  sql += b.Page(f.limit, f.offset);
  return b.Done(std::move(sql));
}

SqlQuery AttackDistribution(Dialect d, const TimeRange& r) {
  Builder b(d);
  b.TimeFilter("td.created_at", r.since, r.until);
  b.Where("upper(t.attack_type_name) <> 'BENIGN'");
  return b.Done(fmt::format(
      "SELECT t.attack_type_name, count(*) AS n FROM {}{} GROUP BY t.attack_type_name "
      "ORDER BY n DESC, t.attack_type_name",
      WithFlowIfRanged("attack_predictions", r), b.where()));
}

SqlQuery ActionDistribution(Dialect d, const TimeRange& r) {
  Builder b(d);
  b.TimeFilter("created_at", r.since, r.until);
  return b.Done(fmt::format(
      "SELECT action_type, count(*) AS n FROM self_healing_actions{} GROUP BY action_type ORDER BY n DESC, action_type",
      b.where()));
}

SqlQuery ThreatTotals(Dialect d, const TimeRange& r) {
  Builder b(d);
  b.TimeFilter("td.created_at", r.since, r.until);
  return b.Done(fmt::format("SELECT count(*), COALESCE(sum({}), 0) FROM {}{}", b.BoolCol("t.is_attack"),
                            WithFlowIfRanged("threat_predictions", r), b.where()));
}

namespace {

// An attack flow (TrafficRepository): flagged by the detector and not called
// BENIGN by the classifier. `tp` and `ap` are the joined predictions.
std::string IsAttackFlow(const Builder& b) {
  return fmt::format("(tp.is_attack = {} AND (ap.id IS NULL OR upper(ap.attack_type_name) <> 'BENIGN'))", b.True());
}

int64_t CeilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

}  // namespace threatd::storage::traffic_sql

namespace threatd::storage {

Status CheckTimelineQuery(const TimelineQuery& q) {
  if (q.buckets < 1 || q.buckets > kMaxTimelineBuckets)
    return Status::InvalidArgument(
        fmt::format("buckets must be 1..{}, got {}", kMaxTimelineBuckets, q.buckets));
  if (q.since >= q.until)
    return Status::InvalidArgument(fmt::format("'since' ({}) must be earlier than 'until' ({})",
                                               FormatIso8601(q.since), FormatIso8601(q.until)));
  if (q.until - q.since < q.buckets * kMinTimelineBucket)
    return Status::InvalidArgument(
        fmt::format("{} buckets between {} and {} would be shorter than {} s each", q.buckets,
                    FormatIso8601(q.since), FormatIso8601(q.until), kMinTimelineBucket.count()),
        "ask for fewer buckets or a longer range");
  return Status::Ok();
}

}  // namespace threatd::storage

namespace threatd::storage::traffic_sql {

int64_t TimelineBucketMicros(const TimelineQuery& q) {
  const int64_t span = ToMicros(q.until) - ToMicros(q.since);
  constexpr int64_t kMilli = 1000;
  // Rounded up, so (until - since) / width < buckets: with buckets of at
  // least a second, the rounding moves the last start by under 0.5 s.
  return CeilDiv(CeilDiv(span, q.buckets), kMilli) * kMilli;
}

SqlQuery Timeline(Dialect d, const TimelineQuery& q) {
  Builder b(d);
  // Placeholders in text order: the bucket expression precedes WHERE.
  const std::string since = b.AddInt(ToMicros(q.since));
  const std::string width = b.AddInt(TimelineBucketMicros(q));
  const std::string bucket = fmt::format("({} - {}) / {}", b.TimeCol("td.created_at"), since, width);
  b.TimeFilter("td.created_at", q.since, q.until);
  return b.Done(fmt::format(
      "SELECT {} AS bucket, count(*), COALESCE(sum(CASE WHEN {} THEN 1 ELSE 0 END), 0) "
      "FROM {}{} GROUP BY 1 ORDER BY 1",
      bucket, IsAttackFlow(b), kFlowsWithPredictions, b.where()));
}

std::vector<TimelineBucket> TimelineFromRows(const TimelineQuery& q,
                                             const std::vector<std::array<int64_t, 3>>& rows) {
  const int64_t width = TimelineBucketMicros(q);
  const int64_t since = ToMicros(q.since);
  std::vector<TimelineBucket> out(static_cast<size_t>(q.buckets));
  for (int64_t i = 0; i < q.buckets; ++i) {
    auto& bucket = out[static_cast<size_t>(i)];
    bucket.start = FromMicros(since + i * width);
    bucket.end = i + 1 == q.buckets ? q.until : FromMicros(since + (i + 1) * width);
  }
  for (const auto& [index, total, attacks] : rows) {
    if (index < 0) continue;  // the WHERE clause keeps rows >= since; never reached
    auto& bucket = out[static_cast<size_t>(std::min(index, q.buckets - 1))];
    bucket.total += total;
    bucket.attacks += attacks;
  }
  return out;
}

Status CheckTopSourcesLimit(int64_t limit) {
  if (limit < 1 || limit > kMaxTopSources)
    return Status::InvalidArgument(fmt::format("limit must be 1..{}, got {}", kMaxTopSources, limit));
  return Status::Ok();
}

SqlQuery TopSources(Dialect d, const TimeRange& r, int64_t limit) {
  Builder b(d);
  b.TimeFilter("td.created_at", r.since, r.until);
  b.Where("td.src_ip IS NOT NULL");
  b.Where("td.src_ip <> ''");
  b.Where(IsAttackFlow(b));
  // `flows`: the attack flows of the range; `ranked`: the top addresses;
  // `kinds`: their flows by class, for the most frequent one.
  std::string sql = fmt::format(
      "WITH flows AS (SELECT td.src_ip AS ip, td.created_at AS seen, ap.attack_type_name AS kind "
      "FROM {}{}), "
      "ranked AS (SELECT ip, count(*) AS n, max(seen) AS newest FROM flows GROUP BY ip "
      "ORDER BY n DESC, newest DESC, ip LIMIT {}), "
      "kinds AS (SELECT f.ip, f.kind, count(*) AS n FROM flows f JOIN ranked ON ranked.ip = f.ip "
      "WHERE f.kind IS NOT NULL GROUP BY f.ip, f.kind) "
      "SELECT ranked.ip, ranked.n, {}, "
      "(SELECT k.kind FROM kinds k WHERE k.ip = ranked.ip ORDER BY k.n DESC, k.kind LIMIT 1) "
      "FROM ranked ORDER BY ranked.n DESC, ranked.newest DESC, ranked.ip",
      kFlowsWithPredictions, b.where(), b.AddInt(limit), b.TimeCol("ranked.newest"));
  return b.Done(std::move(sql));
}

namespace {
std::string BatchSelect(const Builder& b) {
  return fmt::format(
      "SELECT u.batch_id, u.filename, u.status, u.total_rows, u.accepted_rows, u.rejected_rows, {}, u.error, {}, {}, "
      "u.created_by, (SELECT count(*) FROM traffic_data td WHERE td.batch_id = u.batch_id) FROM upload_batches u",
      b.Text("u.summary"), b.TimeCol("u.created_at"), b.TimeCol("u.finished_at"));
}
}  // namespace

SqlQuery BatchList(Dialect d, int64_t limit, int64_t offset) {
  Builder b(d);
  std::string sql = BatchSelect(b) + " ORDER BY u.created_at DESC, u.batch_id DESC";
  sql += b.Page(limit, offset);
  return b.Done(std::move(sql));
}

SqlQuery BatchById(Dialect d, std::string_view batch_id) {
  Builder b(d);
  b.Where("u.batch_id = " + b.AddText(batch_id));
  std::string sql = BatchSelect(b) + b.where();
  return b.Done(std::move(sql));
}

std::vector<double> DecodeFeatures(std::string_view bytes) {
  if (bytes.size() % 2 == 1 && bytes[0] == kFeaturesFloat32) {
    std::vector<float> values((bytes.size() - 1) / sizeof(float));
    if (!values.empty()) std::memcpy(values.data(), bytes.data() + 1, values.size() * sizeof(float));
    return std::vector<double>(values.begin(), values.end());
  }
  // Rows written before the float32 format: binary64, no header.
  std::vector<double> out(bytes.size() / sizeof(double));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(double));
  return out;
}

std::vector<std::string> ParseNamesJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& n : j) out.push_back(n.is_string() ? n.get<std::string>() : std::string());
  return out;
}

}  // namespace threatd::storage::traffic_sql
