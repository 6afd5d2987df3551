#include "storage/postgres/pg_traffic_insert.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/tablewriter>
#include <pqxx/transaction>
#include <set>
#include <tuple>

#include "common/clock.h"
#include "storage/micros.h"

namespace threatd::storage::pg {
namespace {

// Rows in COPY's text format, built in one buffer: fields separated by tabs,
// rows by newlines, NULL as \N, and in text the four characters COPY gives a
// meaning to (backslash, tab, newline, carriage return) escaped. Numbers,
// times and hex are written straight into the buffer; only text is scanned.
class CopyText {
 public:
  void Null() { Field("\\N"); }
  void Text(std::string_view s) {
    Separate();
    for (const char ch : s) {
      switch (ch) {
        case '\\': buf_ += "\\\\"; break;
        case '\t': buf_ += "\\t"; break;
        case '\n': buf_ += "\\n"; break;
        case '\r': buf_ += "\\r"; break;
        default: buf_ += ch;
      }
    }
  }
  void OptText(const std::string& s) { s.empty() ? Null() : Text(s); }
  void OptText(const std::optional<std::string>& s) { s ? Text(*s) : Null(); }
  void Int(int64_t v) {
    const fmt::format_int digits(v);
    Field({digits.data(), digits.size()});
  }
  void OptInt(int64_t v, bool present) { present ? Int(v) : Null(); }
  void Double(double v) {
    Separate();
    fmt::format_to(std::back_inserter(buf_), "{}", v);
  }
  void Bool(bool v) { Field(v ? "t" : "f"); }
  // timestamptz input: "1970-01-01 00:00:00.000000+00"
  void Time(int64_t micros) {
    const UtcFields u = SplitUtc(micros);
    Separate();
    fmt::format_to(std::back_inserter(buf_), "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", u.year, u.month, u.day,
                   u.hour, u.minute, u.second, u.microsecond);
  }
  // bytea's hex input, "\x0a1b", whose backslash COPY wants doubled.
  void Bytea(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    Field("\\\\x");
    const size_t at = buf_.size();
    buf_.resize(at + 2 * bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
      const auto b = static_cast<unsigned char>(bytes[i]);
      buf_[at + 2 * i] = kHex[b >> 4];
      buf_[at + 2 * i + 1] = kHex[b & 15];
    }
  }
  void EndRow() {
    buf_ += '\n';
    row_start_ = true;
  }
  size_t size() const { return buf_.size(); }
  // Sends the rows so far and starts again (the writer ends the last row).
  void SendTo(pqxx::tablewriter& copy) {
    if (buf_.empty()) return;
    buf_.pop_back();  // the last row's newline
    copy.write_raw_line(buf_);
    buf_.clear();
  }

 private:
  void Separate() {
    if (!row_start_) buf_ += '\t';
    row_start_ = false;
  }
  void Field(std::string_view s) {
    Separate();
    buf_ += s;
  }

  std::string buf_;
  bool row_start_ = true;
};

// COPY table (columns) FROM STDIN, fed the rows that `row(i, text)` appends
// for i in [0, n) (it returns false to skip i), sent in chunks of about
// 256 kB. Built here rather than through stream_to, which in libpqxx 6.4
// (Debian 12) copies every field twice and escapes it a character at a time:
// for the 670 hex digits of a flow's features that was most of the pipeline
// workers' time. The one public way in 6.4 to send rows as written is the
// deprecated tablewriter's write_raw_line (libpqxx 7 drops tablewriter; its
// stream_to reuses one buffer per row instead).
template <typename Row>
void CopyRows(pqxx::work& tx, const char* table, const std::vector<std::string>& columns, size_t n, Row row) {
  constexpr size_t kChunk = 256 * 1024;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter copy(tx, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
  CopyText text;
  for (size_t i = 0; i < n; ++i) {
    if (!row(i, text)) continue;
    text.EndRow();
    if (text.size() >= kChunk) text.SendTo(copy);
  }
  text.SendTo(copy);
  copy.complete();
}

// "{1,2,3}" -> ids; empty for NULL.
std::vector<int64_t> ParseIdArray(const pqxx::field& f) {
  std::vector<int64_t> out;
  if (f.is_null()) return out;
  std::string_view s = f.c_str();
  int64_t v = 0;
  bool in_number = false;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') {
      v = v * 10 + (ch - '0');
      in_number = true;
    } else if (in_number) {
      out.push_back(v);
      v = 0;
      in_number = false;
    }
  }
  return out;
}

Result<int64_t> UpsertSchema(pqxx::work& tx, const EncodedBatch& e) {
  const auto r = tx.exec_params1(
      "INSERT INTO feature_schemas(checksum, names) VALUES ($1, $2::jsonb) "
      "ON CONFLICT (checksum) DO UPDATE SET checksum = EXCLUDED.checksum RETURNING id",
      e.checksum, e.names_json);
  return r[0].as<int64_t>();
}

// Indices of flows whose Kafka position is stored already, or repeated
// within the batch.
std::set<size_t> Duplicates(pqxx::work& tx, const ScoredFlowBatch& batch) {
  std::set<size_t> dup;
  std::vector<std::string> topics, parts, offsets;
  std::vector<size_t> index;
  std::set<std::tuple<std::string, int32_t, int64_t>> seen;
  for (size_t i = 0; i < batch.flows.size(); ++i) {
    const auto& k = batch.flows[i].kafka;
    if (!k) continue;
    if (!seen.emplace(k->topic, k->partition, k->offset).second) {
      dup.insert(i);
      continue;
    }
    topics.push_back(k->topic);
    parts.push_back(std::to_string(k->partition));
    offsets.push_back(std::to_string(k->offset));
    index.push_back(i);
  }
  if (index.empty()) return dup;
  const auto rows = tx.exec_params(
      "SELECT t.ord FROM unnest($1::text[], $2::int4[], $3::int8[]) WITH ORDINALITY AS t(topic, part, off, ord) "
      "JOIN traffic_data d ON d.kafka_topic = t.topic AND d.kafka_partition = t.part AND d.kafka_offset = t.off",
      TextArray(topics), TextArray(parts), TextArray(offsets));
  for (const auto& r : rows) dup.insert(index[r[0].as<size_t>() - 1]);
  return dup;
}

}  // namespace

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

namespace {

// One transaction writing the batch. With check_duplicates, flows whose
// Kafka position is stored already are marked and skipped; without, such a
// flow makes the COPY fail on the Kafka-position key (pqxx::unique_violation).
Status InsertOnce(pqxx::connection& c, const ScoredFlowBatch& batch, const EncodedBatch& e, int64_t* schema_id,
                  std::vector<StoredFlowIds>* out, bool check_duplicates) {
  pqxx::work tx(c);
  // The rows reference each other through ids reserved below and their
  // parents (traffic_data, the feature_schemas row) are written first in
  // this transaction, so the foreign-key checks, one query and one row lock
  // on the parent per inserted row, cannot fail: a role that may skip them
  // (a superuser) does, for this transaction only. Deletes still cascade.
  if (tx.exec1("SELECT current_setting('is_superuser') = 'on'")[0].as<bool>())
    tx.exec0("SET LOCAL session_replication_role = replica");
  if (*schema_id == 0) {
    auto id = UpsertSchema(tx, e);
    if (!id.ok()) return id.status();
    *schema_id = *id;
  }
  const std::set<size_t> dup = check_duplicates ? Duplicates(tx, batch) : std::set<size_t>{};
  int64_t n_traffic = 0, n_attack = 0;
  for (size_t i = 0; i < batch.flows.size(); ++i) {
    if (dup.count(i)) continue;
    ++n_traffic;
    n_attack += batch.flows[i].attack ? 1 : 0;
  }
  for (size_t i : dup) (*out)[i].duplicate = true;
  if (n_traffic == 0) {
    tx.commit();
    return Status::Ok();
  }
  // The sequence is looked up once per batch (a materialized CTE), not once
  // per row: pg_get_serial_sequence is a catalog lookup. (q.seq, not s.td,
  // inside array_agg: an aggregate over outer columns only would be
  // evaluated by the outer query.) A flow's predictions share its id.
  const auto ids = tx.exec_params1(
      "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('traffic_data', 'id')::regclass AS td) "
      "SELECT (SELECT array_agg(nextval(q.seq)) FROM (SELECT s.td AS seq FROM generate_series(1, $1::int8)) q)"
      "::text FROM s",
      n_traffic);
  const auto traffic_ids = ParseIdArray(ids[0]);
  if (static_cast<int64_t>(traffic_ids.size()) != n_traffic)
    return Status::Internal("reserving row ids returned the wrong number of ids");
  size_t t = 0;
  for (size_t i = 0; i < batch.flows.size(); ++i) {
    if (dup.count(i)) continue;
    StoredFlowIds& s = (*out)[i];
    s.traffic_data_id = traffic_ids[t++];
    s.threat_prediction_id = s.traffic_data_id;
    if (batch.flows[i].attack) s.attack_prediction_id = s.traffic_data_id;
  }

  const auto kept = [&](size_t i) { return dup.count(i) == 0; };
  CopyRows(tx, "traffic_data",
           {"id", "created_at", "source", "batch_id", "feature_schema_id", "features", "label", "flow_id", "src_ip",
            "src_port", "dst_ip", "dst_port", "protocol", "flow_timestamp", "kafka_topic", "kafka_partition",
            "kafka_offset"},
           batch.flows.size(), [&](size_t i, CopyText& row) {
             if (!kept(i)) return false;
             const NewScoredFlow& f = batch.flows[i];
             row.Int((*out)[i].traffic_data_id);
             row.Time(ToMicros(f.created_at));
             row.Text(batch.source);
             row.OptText(batch.batch_id);
             row.Int(*schema_id);
             row.Bytea(e.features[i]);
             row.OptText(f.label);
             row.OptText(f.ids.flow_id);
             row.OptText(f.ids.src_ip);
             row.OptInt(f.ids.src_port, f.ids.src_port >= 0);
             row.OptText(f.ids.dst_ip);
             row.OptInt(f.ids.dst_port, f.ids.dst_port >= 0);
             row.OptInt(f.ids.protocol, f.ids.protocol >= 0);
             if (f.ids.timestamp_us != 0) row.Time(f.ids.timestamp_us); else row.Null();
             if (f.kafka) {
               row.Text(f.kafka->topic);
               row.Int(f.kafka->partition);
               row.Int(f.kafka->offset);
             } else {
               row.Null();
               row.Null();
               row.Null();
             }
             return true;
           });
  CopyRows(tx, "threat_predictions",
           {"id", "traffic_data_id", "created_at", "prediction_score", "is_attack", "threshold", "model_version"},
           batch.flows.size(), [&](size_t i, CopyText& row) {
             if (!kept(i)) return false;
             const NewScoredFlow& f = batch.flows[i];
             row.Int((*out)[i].threat_prediction_id);
             row.Int((*out)[i].traffic_data_id);
             row.Time(ToMicros(f.created_at));
             row.Double(f.threat.prediction_score);
             row.Bool(f.threat.is_attack);
             row.Double(f.threat.threshold);
             row.Text(f.threat.model_version);
             return true;
           });
  if (n_attack > 0) {
    CopyRows(tx, "attack_predictions",
             {"id", "traffic_data_id", "created_at", "attack_type_encoded", "attack_type_name", "confidence",
              "model_version"},
             batch.flows.size(), [&](size_t i, CopyText& row) {
               const NewScoredFlow& f = batch.flows[i];
               if (!kept(i) || !f.attack) return false;
               row.Int((*out)[i].attack_prediction_id);
               row.Int((*out)[i].traffic_data_id);
               row.Time(ToMicros(f.created_at));
               row.Int(f.attack->attack_type_encoded);
               row.Text(f.attack->attack_type_name);
               if (f.attack->confidence) row.Double(*f.attack->confidence); else row.Null();
               row.Text(f.attack->model_version);
               return true;
             });
  }
  tx.commit();
  return Status::Ok();
}

}  // namespace

// Optimistic: a batch from Kafka is almost always new, and looking its
// positions up first cost the server an index probe per flow (5 ms of a
// 1,200-flow batch) that the key's own check repeats. So the batch is written
// unchecked, and only when the key reports a position stored already (a
// redelivery after a crash or rebalance, or another instance that got there
// first) is the transaction rolled back and written again with the lookup.
Status InsertScoredFlowsPg(pqxx::connection& c, const ScoredFlowBatch& batch, const EncodedBatch& e,
                           int64_t* schema_id, std::vector<StoredFlowIds>* out) {
  const bool from_kafka =
      std::any_of(batch.flows.begin(), batch.flows.end(), [](const NewScoredFlow& f) { return f.kafka.has_value(); });
  if (from_kafka) {
    const int64_t schema_before = *schema_id;
    try {
      return InsertOnce(c, batch, e, schema_id, out, /*check_duplicates=*/false);
    } catch (const pqxx::unique_violation&) {
      *schema_id = schema_before;  // an upsert in the rolled-back transaction did not happen
      out->assign(batch.flows.size(), StoredFlowIds{});
    }
  }
  return InsertOnce(c, batch, e, schema_id, out, /*check_duplicates=*/true);
}

}  // namespace threatd::storage::pg
