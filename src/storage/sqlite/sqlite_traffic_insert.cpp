// The SQLite insert of a batch of scored flows: the flows one row to a
// statement (each may be a Kafka duplicate), then their predictions many rows
// to a statement. Text and blobs are bound without copies: the batch
// outlives the statements.
#include "storage/sqlite/sqlite_traffic_insert.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "storage/micros.h"

namespace threatd::storage::sqlite {
namespace {

SqliteStatement& BindOpt(SqliteStatement& q, int i, std::string_view text) {
  return text.empty() ? q.BindNull(i) : q.BindView(i, text);
}
SqliteStatement& BindOpt(SqliteStatement& q, int i, int64_t v, bool present) {
  return present ? q.Bind(i, v) : q.BindNull(i);
}
SqliteStatement& BindOpt(SqliteStatement& q, int i, const std::optional<double>& v) {
  return v ? q.Bind(i, *v) : q.BindNull(i);
}

constexpr const char* kInsertTraffic =
    "INSERT INTO traffic_data(created_at, source, batch_id, feature_schema_id, features, label, flow_id, src_ip, "
    "src_port, dst_ip, dst_port, protocol, flow_timestamp, kafka_topic, kafka_partition, kafka_offset) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT(kafka_topic, kafka_partition, kafka_offset) DO NOTHING";
// A flow's predictions are inserted kRows to a statement after its batch's
// flows: each execution of a statement costs SQLite about 0.3 us of set-up
// (cursors, constraint checks) beyond its rows, measured on this table.
constexpr size_t kRows = 64;
constexpr int kThreatColumns = 7;
constexpr int kAttackColumns = 7;
constexpr std::string_view kInsertThreat =
    "INSERT INTO threat_predictions(id, traffic_data_id, created_at, prediction_score, is_attack, threshold, "
    "model_version) VALUES ";
constexpr std::string_view kInsertAttack =
    "INSERT INTO attack_predictions(id, traffic_data_id, created_at, attack_type_encoded, attack_type_name, "
    "confidence, model_version) VALUES ";

// `insert` followed by `rows` groups of `columns` parameters.
std::string MultiRowInsert(std::string_view insert, int columns, size_t rows) {
  std::string group = "(";
  for (int i = 0; i < columns; ++i) group += i ? ",?" : "?";
  group += ")";
  std::string sql(insert);
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ",";
    sql += group;
  }
  return sql;
}

// The two texts of a table's insert: kRows rows, and one row.
struct RowsInsert {
  RowsInsert(std::string_view insert, int n)
      : many(MultiRowInsert(insert, n, kRows)), one(MultiRowInsert(insert, n, 1)), columns(n) {}
  std::string many;
  std::string one;
  int columns;
};

// Inserts one row per index of `rows`: kRows to a statement, the rest
// (fewer than kRows) one to a statement, so that a connection keeps two
// statements per table whatever the batch sizes. bind(q, first_parameter,
// row) binds one row.
template <typename BindRow>
Status InsertRows(SqliteConnection& c, const RowsInsert& sql, const std::vector<size_t>& rows, BindRow bind) {
  size_t from = 0;
  if (rows.size() >= kRows) {
    auto q = c.Prepare(sql.many);
    if (!q.ok()) return q.status();
    for (; rows.size() - from >= kRows; from += kRows) {
      q->Reset();
      for (size_t k = 0; k < kRows; ++k) bind(*q, static_cast<int>(k) * sql.columns + 1, rows[from + k]);
      THREATD_RETURN_IF_ERROR(q->Run());
    }
  }
  if (from < rows.size()) {
    auto q = c.Prepare(sql.one);
    if (!q.ok()) return q.status();
    for (; from < rows.size(); ++from) {
      q->Reset();
      bind(*q, 1, rows[from]);
      THREATD_RETURN_IF_ERROR(q->Run());
    }
  }
  return Status::Ok();
}

}  // namespace

Status WriteScoredFlows(SqliteConnection& c, const ScoredFlowBatch& batch, const EncodedBatch& e, int64_t schema,
                      std::vector<StoredFlowIds>* out) {
  auto td = c.Prepare(kInsertTraffic);
  if (!td.ok()) return td.status();
  std::vector<size_t> stored;   // flows written (not duplicates)
  std::vector<size_t> attacks;  // of them, those with an attack prediction
  stored.reserve(batch.flows.size());
  for (size_t i = 0; i < batch.flows.size(); ++i) {
    const NewScoredFlow& f = batch.flows[i];
    StoredFlowIds& ids = (*out)[i];
    const int64_t at = ToMicros(f.created_at);
    td->Reset();
    td->Bind(1, at).BindView(2, batch.source).Bind(4, schema);
    if (batch.batch_id) {
      td->BindView(3, *batch.batch_id);
    } else {
      td->BindNull(3);
    }
    td->BindBlobView(5, e.features[i]);
    BindOpt(*td, 6, f.label);
    BindOpt(*td, 7, f.ids.flow_id);
    BindOpt(*td, 8, f.ids.src_ip);
    BindOpt(*td, 9, f.ids.src_port, f.ids.src_port >= 0);
    BindOpt(*td, 10, f.ids.dst_ip);
    BindOpt(*td, 11, f.ids.dst_port, f.ids.dst_port >= 0);
    BindOpt(*td, 12, f.ids.protocol, f.ids.protocol >= 0);
    BindOpt(*td, 13, f.ids.timestamp_us, f.ids.timestamp_us != 0);
    if (f.kafka) {
      td->BindView(14, f.kafka->topic).Bind(15, int64_t{f.kafka->partition}).Bind(16, f.kafka->offset);
    } else {
      td->BindNull(14).BindNull(15).BindNull(16);
    }
    THREATD_RETURN_IF_ERROR(td->Run());
    if (c.Changes() == 0) {  // ON CONFLICT DO NOTHING: the Kafka position is stored already
      ids.duplicate = true;
      continue;
    }
    // A flow's predictions share its id (schema v7).
    ids.traffic_data_id = ids.threat_prediction_id = c.LastInsertRowId();
    stored.push_back(i);
    if (f.attack) {
      ids.attack_prediction_id = ids.traffic_data_id;
      attacks.push_back(i);
    }
  }

  static const RowsInsert threat_sql(kInsertThreat, kThreatColumns);
  static const RowsInsert attack_sql(kInsertAttack, kAttackColumns);
  THREATD_RETURN_IF_ERROR(InsertRows(c, threat_sql, stored, [&](SqliteStatement& q, int p, size_t i) {
    const NewScoredFlow& f = batch.flows[i];
    const int64_t id = (*out)[i].traffic_data_id;
    q.Bind(p, id).Bind(p + 1, id).Bind(p + 2, ToMicros(f.created_at)).Bind(p + 3, f.threat.prediction_score);
    q.Bind(p + 4, int64_t{f.threat.is_attack}).Bind(p + 5, f.threat.threshold).BindView(p + 6, f.threat.model_version);
  }));
  return InsertRows(c, attack_sql, attacks, [&](SqliteStatement& q, int p, size_t i) {
    const NewScoredFlow& f = batch.flows[i];
    const int64_t id = (*out)[i].traffic_data_id;
    q.Bind(p, id).Bind(p + 1, id).Bind(p + 2, ToMicros(f.created_at));
    q.Bind(p + 3, int64_t{f.attack->attack_type_encoded}).BindView(p + 4, f.attack->attack_type_name);
    BindOpt(q, p + 5, f.attack->confidence);
    q.BindView(p + 6, f.attack->model_version);
  });
}

}  // namespace threatd::storage::sqlite
