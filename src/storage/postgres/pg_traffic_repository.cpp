// The PostgreSQL TrafficRepository: the insert path is pg_traffic_insert.cpp;
// reads use traffic_sql's statements with text parameters.
#include <fmt/format.h>

#include <array>
#include <map>
#include <mutex>
#include <pqxx/binarystring>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/micros.h"
#include "storage/postgres/pg_query.h"
#include "storage/postgres/pg_repositories.h"
#include "storage/postgres/pg_traffic_insert.h"
#include "storage/traffic_encoding.h"
#include "storage/traffic_sql.h"

namespace threatd::storage::pg {
namespace {

using traffic_sql::Dialect;
constexpr Dialect kDialect = Dialect::kPostgres;

template <typename T, typename Map>
void MapRows(const pqxx::result& rows, std::vector<T>* out, Map map) {
  for (const auto& r : rows) out->push_back(map(PgRow{r}));
}

void ToDistribution(const pqxx::result& rows, Distribution* d) {
  MapRows(rows, &d->counts, [](const PgRow& r) { return std::pair<std::string, int64_t>(r.Text(0), r.Int64(1)); });
  d->total = 0;
  for (const auto& [name, n] : d->counts) d->total += n;
}

class PgTrafficRepository final : public TrafficRepository {
 public:
  PgTrafficRepository(PgPool& pool, Clock& clock) : pool_(pool), clock_(clock) {}

  Status InsertScoredFlows(const ScoredFlowBatch& batch, std::vector<StoredFlowIds>* out) override {
    out->assign(batch.flows.size(), StoredFlowIds{});
    if (batch.flows.empty()) return Status::Ok();
    auto encoded = EncodeBatch(batch);
    if (!encoded.ok()) return encoded.status();
    int64_t schema = CachedSchema(encoded->checksum);
    const bool cached = schema != 0;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      if (!cached) schema = 0;  // a retried lambda upserts again
      out->assign(batch.flows.size(), StoredFlowIds{});
      return InsertScoredFlowsPg(c, batch, *encoded, &schema, out);
    });
    if (!s.ok()) {
      out->assign(batch.flows.size(), StoredFlowIds{});
      return s;
    }
    if (!cached) Remember(schema, encoded->checksum, encoded->names);
    return s;
  }

  Result<std::vector<CompletePrediction>> ListPredictions(const PredictionFilter& f) override {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(f.limit, f.offset));
    std::vector<CompletePrediction> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return QueryComplete(tx, traffic_sql::CompleteList(kDialect, f), &rows);
    });
    if (!s.ok()) return s;
    return rows;
  }

  Result<std::optional<CompletePrediction>> GetPrediction(int64_t id) override {
    std::vector<CompletePrediction> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return QueryComplete(tx, traffic_sql::CompleteById(kDialect, id), &rows);
    });
    if (!s.ok()) return s;
    if (rows.empty()) return std::optional<CompletePrediction>();
    return std::optional<CompletePrediction>(std::move(rows.front()));
  }

  Result<std::vector<ThreatPredictionRecord>> ListThreats(const PredictionFilter& f) override {
    return List<ThreatPredictionRecord>(f, traffic_sql::ThreatList(kDialect, f),
                                        [](const PgRow& r) { return traffic_sql::ThreatFromRow(r, 0); });
  }
  Result<std::vector<AttackPredictionRecord>> ListAttacks(const PredictionFilter& f) override {
    return List<AttackPredictionRecord>(f, traffic_sql::AttackList(kDialect, f),
                                        [](const PgRow& r) { return traffic_sql::AttackFromRow(r, 0); });
  }
  Result<std::vector<ActionRecord>> ListActions(const PredictionFilter& f) override {
    return List<ActionRecord>(f, traffic_sql::ActionList(kDialect, f),
                              [](const PgRow& r) { return traffic_sql::ActionFromRow(r, 0); });
  }

  Result<Distribution> AttackDistribution(const TimeRange& range) override {
    return Dist(traffic_sql::AttackDistribution(kDialect, range));
  }
  Result<Distribution> ActionDistribution(const TimeRange& range) override {
    return Dist(traffic_sql::ActionDistribution(kDialect, range));
  }

  Result<PredictionStats> Stats(const TimeRange& range) override {
    PredictionStats st;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      // One snapshot for the three statements.
      pqxx::read_transaction tx(c);
      const auto totals = Exec(tx, traffic_sql::ThreatTotals(kDialect, range));
      st.total_predictions = totals[0][0].as<int64_t>();
      st.total_attacks = totals[0][1].as<int64_t>();
      ToDistribution(Exec(tx, traffic_sql::AttackDistribution(kDialect, range)), &st.attack_types);
      PredictionFilter recent{.limit = 20, .since = range.since, .until = range.until};
      return QueryComplete(tx, traffic_sql::CompleteList(kDialect, recent), &st.recent);
    });
    if (!s.ok()) return s;
    FinishStats(&st);
    return st;
  }

  Result<std::vector<TimelineBucket>> Timeline(const TimelineQuery& q) override {
    THREATD_RETURN_IF_ERROR(CheckTimelineQuery(q));
    std::vector<std::array<int64_t, 3>> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      rows.clear();  // a retried lambda starts over
      MapRows(Exec(tx, traffic_sql::Timeline(kDialect, q)), &rows, [](const PgRow& r) {
        return std::array<int64_t, 3>{r.Int64(0), r.Int64(1), r.Int64(2)};
      });
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return traffic_sql::TimelineFromRows(q, rows);
  }

  Result<std::vector<SourceActivity>> TopSources(const TimeRange& range, int64_t limit) override {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckTopSourcesLimit(limit));
    std::vector<SourceActivity> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      rows.clear();  // a retried lambda starts over
      MapRows(Exec(tx, traffic_sql::TopSources(kDialect, range, limit)), &rows,
              [](const PgRow& r) { return traffic_sql::SourceFromRow(r); });
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return rows;
  }

  Status CreateUploadBatch(const NewUploadBatch& b) override {
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params(fmt::format("INSERT INTO upload_batches(batch_id, filename, status, created_at, created_by) "
                                 "VALUES ($1, $2, 'processing', {}, $4)",
                                 TimeParam(3)),
                     b.batch_id, b.filename, ToMicros(b.created_at), b.created_by);
      return Status::Ok();
    });
  }

  Status FinishUploadBatch(std::string_view batch_id, const UploadBatchOutcome& o) override {
    THREATD_RETURN_IF_ERROR(CheckOutcome(o));
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto r = tx.exec_params(
          fmt::format("UPDATE upload_batches SET status = $1, total_rows = $2, accepted_rows = $3, "
                      "rejected_rows = $4, summary = $5::jsonb, error = $6, finished_at = {} WHERE batch_id = $8",
                      TimeParam(7)),
          o.status, o.total_rows, o.accepted_rows, o.rejected_rows, o.summary_json, o.error,
          ToMicros(o.finished_at), std::string(batch_id));
      if (r.affected_rows() == 0) return Status::NotFound(fmt::format("upload batch '{}' does not exist", batch_id));
      return Status::Ok();
    });
  }

  Result<int64_t> DeleteBatchFlows(std::string_view batch_id) override {
    int64_t n = 0;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      n = static_cast<int64_t>(
          tx.exec_params("DELETE FROM traffic_data WHERE batch_id = $1", std::string(batch_id)).affected_rows());
      tx.commit();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return n;
  }

  Result<std::vector<UploadBatchRecord>> ListUploadBatches(int64_t limit, int64_t offset) override {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(limit, offset));
    std::vector<UploadBatchRecord> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      MapRows(Exec(tx, traffic_sql::BatchList(kDialect, limit, offset)), &rows,
              [](const PgRow& r) { return traffic_sql::UploadBatchFromRow(r); });
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return rows;
  }

  Result<std::optional<UploadBatchRecord>> GetUploadBatch(std::string_view batch_id) override {
    std::vector<UploadBatchRecord> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      MapRows(Exec(tx, traffic_sql::BatchById(kDialect, batch_id)), &rows,
              [](const PgRow& r) { return traffic_sql::UploadBatchFromRow(r); });
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (rows.empty()) return std::optional<UploadBatchRecord>();
    return std::optional<UploadBatchRecord>(std::move(rows.front()));
  }

  Result<int64_t> FailAbandonedUploads(WallTime now) override {
    int64_t n = 0;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      tx.exec(
          "DELETE FROM traffic_data WHERE batch_id IN "
          "(SELECT batch_id FROM upload_batches WHERE status = 'processing')");
      n = static_cast<int64_t>(
          tx.exec_params(fmt::format("UPDATE upload_batches SET status = 'failed', error = $1, finished_at = {} "
                                     "WHERE status = 'processing'",
                                     TimeParam(2)),
                         std::string(kAbandonedUploadError), ToMicros(now))
              .affected_rows());
      tx.commit();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return n;
  }

  Result<int64_t> DeleteTrafficBefore(WallTime cutoff, int64_t max_rows) override {
    if (max_rows < 1) return Status::InvalidArgument("retention batch size must be >= 1");
    int64_t n = 0;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      n = static_cast<int64_t>(
          tx.exec_params(fmt::format("DELETE FROM traffic_data WHERE id IN (SELECT id FROM traffic_data "
                                     "WHERE created_at < {} ORDER BY created_at LIMIT $2)",
                                     TimeParam(1)),
                         ToMicros(cutoff), max_rows)
              .affected_rows());
      // Finished decisions only; their events go by cascade.
      n += static_cast<int64_t>(
          tx.exec_params(fmt::format("DELETE FROM self_healing_actions WHERE id IN (SELECT id FROM "
                                     "self_healing_actions WHERE created_at < {} AND status NOT IN "
                                     "('pending', 'applied') ORDER BY created_at LIMIT $2)",
                                     TimeParam(1)),
                         ToMicros(cutoff), max_rows)
              .affected_rows());
      tx.commit();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return n;
  }

 private:
  template <typename T, typename Map>
  Result<std::vector<T>> List(const PredictionFilter& f, const traffic_sql::SqlQuery& query, Map map) {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(f.limit, f.offset));
    std::vector<T> rows;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      MapRows(Exec(tx, query), &rows, map);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return rows;
  }

  Result<Distribution> Dist(const traffic_sql::SqlQuery& query) {
    Distribution d;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      ToDistribution(Exec(tx, query), &d);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return d;
  }

  Status QueryComplete(pqxx::transaction_base& tx, const traffic_sql::SqlQuery& query,
                       std::vector<CompletePrediction>* out) {
    std::vector<int64_t> schema_ids;
    MapRows(Exec(tx, query), out, [&](const PgRow& r) {
      int64_t schema = 0;
      auto p = traffic_sql::CompleteFromRow(r, &schema);
      schema_ids.push_back(schema);
      return p;
    });
    for (size_t i = 0; i < out->size(); ++i) {
      auto names = Names(tx, schema_ids[i]);
      if (!names) return Status::Internal(fmt::format("feature schema {} does not exist", schema_ids[i]));
      (*out)[i].traffic_data.feature_names = std::move(names);
    }
    return Status::Ok();
  }

  int64_t CachedSchema(const std::string& checksum) {
    std::lock_guard lock(mu_);
    auto it = schema_ids_.find(checksum);
    return it == schema_ids_.end() ? 0 : it->second;
  }
  void Remember(int64_t id, const std::string& checksum, std::vector<std::string> names) {
    std::lock_guard lock(mu_);
    schema_ids_[checksum] = id;
    schema_names_[id] = std::make_shared<const std::vector<std::string>>(std::move(names));
  }
  // The names of schema `id`, loaded on a miss; null when it does not exist.
  std::shared_ptr<const std::vector<std::string>> Names(pqxx::transaction_base& tx, int64_t id) {
    {
      std::lock_guard lock(mu_);
      auto it = schema_names_.find(id);
      if (it != schema_names_.end()) return it->second;
    }
    const auto rows = tx.exec_params("SELECT checksum, names::text FROM feature_schemas WHERE id = $1", id);
    if (rows.empty()) return nullptr;
    auto names = traffic_sql::ParseNamesJson(rows[0][1].as<std::string>());
    std::lock_guard lock(mu_);
    schema_ids_[rows[0][0].as<std::string>()] = id;
    auto& slot = schema_names_[id];
    if (!slot) slot = std::make_shared<const std::vector<std::string>>(std::move(names));
    return slot;
  }

  PgPool& pool_;
  [[maybe_unused]] Clock& clock_;
  std::mutex mu_;
  std::map<std::string, int64_t> schema_ids_;                                      // guarded by mu_
  std::map<int64_t, std::shared_ptr<const std::vector<std::string>>> schema_names_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<TrafficRepository> MakeTrafficRepository(PgPool& pool, Clock& clock) {
  return std::make_unique<PgTrafficRepository>(pool, clock);
}

}  // namespace threatd::storage::pg
