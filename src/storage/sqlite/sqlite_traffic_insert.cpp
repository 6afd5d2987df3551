// The SQLite insert of a batch of scored flows: three statements prepared
// once per job and reset per row. Text and blobs are bound without copies:
// the batch outlives the statements.
#include "storage/sqlite/sqlite_traffic_insert.h"

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
constexpr const char* kInsertThreat =
    "INSERT INTO threat_predictions(id, traffic_data_id, created_at, prediction_score, is_attack, threshold, "
    "model_version) VALUES (?1,?1,?,?,?,?,?)";
constexpr const char* kInsertAttack =
    "INSERT INTO attack_predictions(id, traffic_data_id, created_at, attack_type_encoded, attack_type_name, "
    "confidence, model_version) VALUES (?1,?1,?,?,?,?,?)";

}  // namespace

Status WriteScoredFlows(SqliteConnection& c, const ScoredFlowBatch& batch, const EncodedBatch& e, int64_t schema,
                      std::vector<StoredFlowIds>* out) {
  auto td = c.Prepare(kInsertTraffic);
  if (!td.ok()) return td.status();
  auto tp = c.Prepare(kInsertThreat);
  if (!tp.ok()) return tp.status();
  auto ap = c.Prepare(kInsertAttack);
  if (!ap.ok()) return ap.status();
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
    ids.traffic_data_id = c.LastInsertRowId();

    tp->Reset();
    tp->Bind(1, ids.traffic_data_id).Bind(2, at).Bind(3, f.threat.prediction_score);
    tp->Bind(4, int64_t{f.threat.is_attack}).Bind(5, f.threat.threshold);
    THREATD_RETURN_IF_ERROR(tp->BindView(6, f.threat.model_version).Run());
    ids.threat_prediction_id = ids.traffic_data_id;  // a flow's predictions share its id (schema v7)

    if (f.attack) {
      ap->Reset();
      ap->Bind(1, ids.traffic_data_id).Bind(2, at).Bind(3, int64_t{f.attack->attack_type_encoded});
      ap->BindView(4, f.attack->attack_type_name);
      BindOpt(*ap, 5, f.attack->confidence);
      THREATD_RETURN_IF_ERROR(ap->BindView(6, f.attack->model_version).Run());
      ids.attack_prediction_id = ids.traffic_data_id;
    }
  }
  return Status::Ok();
}

}  // namespace threatd::storage::sqlite
