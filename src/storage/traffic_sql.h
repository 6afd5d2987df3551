// The read-side SQL of TrafficRepository, written once for both dialects.
// PRIVATE to src/storage: the SQLite and PostgreSQL traffic repositories
// build their statements here and map rows with the templates below, so the
// filters, orderings and column lists cannot drift apart between backends.
//
// Every builder returns ONE statement whose filters come before
// LIMIT/OFFSET, and the parameters to bind, in order. Times travel as int64
// epoch microseconds (PostgreSQL converts in SQL, see pg::TimeParam).
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "storage/micros.h"
#include "storage/sql_query.h"
#include "storage/traffic_records.h"
#include "storage/traffic_repository.h"

namespace threatd::storage::traffic_sql {

using storage::Dialect;
using storage::SqlQuery;
using storage::SqlValue;

// Validates limit (1..1000) and offset (>= 0).
Status CheckPage(int64_t limit, int64_t offset);

// Complete rows (column layout: kCompleteColumns below).
SqlQuery CompleteList(Dialect d, const PredictionFilter& f);
SqlQuery CompleteById(Dialect d, int64_t traffic_data_id);
SqlQuery ThreatList(Dialect d, const PredictionFilter& f);  // ThreatFromRow(r, 0)
SqlQuery AttackList(Dialect d, const PredictionFilter& f);  // AttackFromRow(r, 0)
SqlQuery ActionList(Dialect d, const PredictionFilter& f);  // ActionFromRow(r, 0)
// Rows (name, count) largest first.
SqlQuery AttackDistribution(Dialect d, const TimeRange& r);
SqlQuery ActionDistribution(Dialect d, const TimeRange& r);
// One row: total threat predictions, of which attacks.
SqlQuery ThreatTotals(Dialect d, const TimeRange& r);

// The bucket width in microseconds: (until - since) / buckets rounded up to
// a whole millisecond (the API's time precision). Bucket i starts at
// since + i * width; the last one ends at until. Precondition:
// CheckTimelineQuery(q) (traffic_repository.h).
int64_t TimelineBucketMicros(const TimelineQuery& q);
// Rows (bucket index, flows, attack flows) of the non-empty buckets, by
// index. An index may equal q.buckets for a row at exactly `until`: it
// belongs to the last bucket (TimelineFromRows folds it in).
SqlQuery Timeline(Dialect d, const TimelineQuery& q);
// Every bucket of q in order, counted from Timeline's rows (index, total, attacks).
std::vector<TimelineBucket> TimelineFromRows(const TimelineQuery& q,
                                             const std::vector<std::array<int64_t, 3>>& rows);
// Rows (src_ip, attacks, last_seen micros, top attack type or NULL), in
// TopSources order. Precondition: 1 <= limit <= kMaxTopSources.
SqlQuery TopSources(Dialect d, const TimeRange& r, int64_t limit);
Status CheckTopSourcesLimit(int64_t limit);

// Upload batches: columns of UploadBatchFromRow.
SqlQuery BatchList(Dialect d, int64_t limit, int64_t offset);
SqlQuery BatchById(Dialect d, std::string_view batch_id);

// traffic_data.features -> values: the format byte kFeaturesFloat32 and
// little-endian float32s (odd length), or, for rows written before that
// format, little-endian float64s with no header (length a multiple of 8).
std::vector<double> DecodeFeatures(std::string_view bytes);
// feature_schemas.names -> names.
std::vector<std::string> ParseNamesJson(std::string_view json);

// --- Row mapping. `Row` offers IsNull(i), Int64(i), Double(i), Text(i) and
// Blob(i) (bytes). Times are epoch microseconds, booleans 0/1. ---

inline constexpr int kThreatColumns = 7;
inline constexpr int kAttackColumns = 7;
inline constexpr int kActionColumns = 13;
inline constexpr int kTrafficColumns = 12;

template <typename Row>
std::optional<std::string> OptText(const Row& r, int c) {
  if (r.IsNull(c)) return std::nullopt;
  return r.Text(c);
}
template <typename Row>
std::optional<int64_t> OptInt(const Row& r, int c) {
  if (r.IsNull(c)) return std::nullopt;
  return r.Int64(c);
}

template <typename Row>
ThreatPredictionRecord ThreatFromRow(const Row& r, int c) {
  return {r.Int64(c),         r.Int64(c + 1), r.Double(c + 2),           r.Int64(c + 3) != 0,
          r.Double(c + 4),    r.Text(c + 5),  FromMicros(r.Int64(c + 6))};
}

template <typename Row>
AttackPredictionRecord AttackFromRow(const Row& r, int c) {
  AttackPredictionRecord a{r.Int64(c), r.Int64(c + 1), r.Int64(c + 2), r.Text(c + 3), std::nullopt,
                           r.Text(c + 5), FromMicros(r.Int64(c + 6))};
  if (!r.IsNull(c + 4)) a.confidence = r.Double(c + 4);
  return a;
}

template <typename Row>
ActionRecord ActionFromRow(const Row& r, int c) {
  ActionRecord a;
  a.id = r.Int64(c);
  a.attack_prediction_id = OptInt(r, c + 1);
  a.action_type = r.Text(c + 2);
  a.action_description = r.Text(c + 3);
  a.action_params_json = OptText(r, c + 4);
  a.status = r.Text(c + 5);
  a.created_at = FromMicros(r.Int64(c + 6));
  if (!r.IsNull(c + 7)) a.execution_time = FromMicros(r.Int64(c + 7));
  a.error_message = OptText(r, c + 8);
  a.target = r.Text(c + 9);
  a.origin = r.Text(c + 10);
  a.mode = r.Text(c + 11);
  if (!r.IsNull(c + 12)) a.expires_at = FromMicros(r.Int64(c + 12));
  return a;
}

// A complete row; *schema_id receives traffic_data.feature_schema_id (the
// caller resolves the names).
template <typename Row>
CompletePrediction CompleteFromRow(const Row& r, int64_t* schema_id) {
  CompletePrediction p;
  TrafficDataRecord& t = p.traffic_data;
  t.id = r.Int64(0);
  t.created_at = FromMicros(r.Int64(1));
  t.source = r.Text(2);
  t.batch_id = OptText(r, 3);
  *schema_id = r.Int64(4);
  t.feature_values = DecodeFeatures(r.Blob(5));
  t.label = OptText(r, 6);
  t.src_ip = OptText(r, 7);
  t.dst_ip = OptText(r, 8);
  t.src_port = OptInt(r, 9);
  t.dst_port = OptInt(r, 10);
  t.protocol = OptInt(r, 11);
  int c = kTrafficColumns;
  if (!r.IsNull(c)) p.threat_prediction = ThreatFromRow(r, c);
  c += kThreatColumns;
  if (!r.IsNull(c)) p.attack_prediction = AttackFromRow(r, c);
  c += kAttackColumns;
  if (!r.IsNull(c)) p.self_healing_action = ActionFromRow(r, c);
  return p;
}

template <typename Row>
UploadBatchRecord UploadBatchFromRow(const Row& r) {
  UploadBatchRecord b;
  b.batch_id = r.Text(0);
  b.filename = r.Text(1);
  b.status = r.Text(2);
  b.total_rows = r.Int64(3);
  b.accepted_rows = r.Int64(4);
  b.rejected_rows = r.Int64(5);
  b.summary_json = OptText(r, 6);
  b.error = OptText(r, 7);
  b.created_at = FromMicros(r.Int64(8));
  if (!r.IsNull(9)) b.finished_at = FromMicros(r.Int64(9));
  b.created_by = OptText(r, 10);
  b.stored_flows = r.Int64(11);
  return b;
}

// A TopSources row.
template <typename Row>
SourceActivity SourceFromRow(const Row& r) {
  return {r.Text(0), r.Int64(1), FromMicros(r.Int64(2)), OptText(r, 3)};
}

}  // namespace threatd::storage::traffic_sql
