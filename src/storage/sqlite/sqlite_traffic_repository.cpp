// The SQLite TrafficRepository. Writes run as one job of the writer's group
// commit (a SAVEPOINT: a failing batch rolls back alone) with statements
// prepared once per job; reads use traffic_sql's statements.
#include <fmt/format.h>

#include <array>
#include <cmath>

#include "storage/sqlite/sqlite_repositories.h"
#include "storage/sqlite/sqlite_traffic_insert.h"
#include "storage/sqlite/sqlite_traffic_queries.h"
#include "storage/traffic_encoding.h"

namespace threatd::storage::sqlite {
namespace {

using traffic_sql::Dialect;
constexpr Dialect kDialect = Dialect::kSqlite;

class SqliteTrafficRepository final : public TrafficRepository {
 public:
  explicit SqliteTrafficRepository(SqliteAccess& access) : access_(access) {}

  Status InsertScoredFlows(const ScoredFlowBatch& batch, std::vector<StoredFlowIds>* out) override {
    out->assign(batch.flows.size(), StoredFlowIds{});
    if (batch.flows.empty()) return Status::Ok();
    // Encoding happens on the caller's thread, not on the writer's.
    auto encoded = EncodeBatch(batch);
    if (!encoded.ok()) return encoded.status();
    std::optional<int64_t> new_schema;
    Status s = access_.Write([&](SqliteConnection& c) -> Status {
      auto schema = SchemaId(c, *encoded, &new_schema);
      if (!schema.ok()) return schema.status();
      return WriteScoredFlows(c, batch, *encoded, *schema, out);
    });
    if (!s.ok()) {
      out->assign(batch.flows.size(), StoredFlowIds{});
      return s;
    }
    if (new_schema) schemas_.Remember(*new_schema, encoded->checksum, encoded->names);
    return s;
  }

  Result<std::vector<CompletePrediction>> ListPredictions(const PredictionFilter& f) override {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(f.limit, f.offset));
    std::vector<CompletePrediction> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryComplete(c, schemas_, traffic_sql::CompleteList(kDialect, f), &rows);
    });
    if (!s.ok()) return s;
    return rows;
  }

  Result<std::optional<CompletePrediction>> GetPrediction(int64_t id) override {
    std::vector<CompletePrediction> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryComplete(c, schemas_, traffic_sql::CompleteById(kDialect, id), &rows);
    });
    if (!s.ok()) return s;
    if (rows.empty()) return std::optional<CompletePrediction>();
    return std::optional<CompletePrediction>(std::move(rows.front()));
  }

  Result<std::vector<ThreatPredictionRecord>> ListThreats(const PredictionFilter& f) override {
    return List<ThreatPredictionRecord>(f, traffic_sql::ThreatList(kDialect, f),
                                        [](const SqliteRow& r) { return traffic_sql::ThreatFromRow(r, 0); });
  }
  Result<std::vector<AttackPredictionRecord>> ListAttacks(const PredictionFilter& f) override {
    return List<AttackPredictionRecord>(f, traffic_sql::AttackList(kDialect, f),
                                        [](const SqliteRow& r) { return traffic_sql::AttackFromRow(r, 0); });
  }
  Result<std::vector<ActionRecord>> ListActions(const PredictionFilter& f) override {
    return List<ActionRecord>(f, traffic_sql::ActionList(kDialect, f),
                              [](const SqliteRow& r) { return traffic_sql::ActionFromRow(r, 0); });
  }

  Result<Distribution> AttackDistribution(const TimeRange& range) override {
    Distribution d;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryDistribution(c, traffic_sql::AttackDistribution(kDialect, range), &d);
    });
    if (!s.ok()) return s;
    return d;
  }
  Result<Distribution> ActionDistribution(const TimeRange& range) override {
    Distribution d;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryDistribution(c, traffic_sql::ActionDistribution(kDialect, range), &d);
    });
    if (!s.ok()) return s;
    return d;
  }

  Result<PredictionStats> Stats(const TimeRange& range) override {
    PredictionStats st;
    const Status s = access_.Read([&](SqliteConnection& c) -> Status {
      // One snapshot for the three statements.
      const bool own_tx = !c.InTransaction() && c.Exec("BEGIN").ok();
      Status body = StatsIn(c, range, &st);
      if (own_tx) (void)c.Exec(body.ok() ? "COMMIT" : "ROLLBACK");
      return body;
    });
    if (!s.ok()) return s;
    FinishStats(&st);
    return st;
  }

  Result<std::vector<TimelineBucket>> Timeline(const TimelineQuery& q) override {
    THREATD_RETURN_IF_ERROR(CheckTimelineQuery(q));
    std::vector<std::array<int64_t, 3>> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryRows(c, traffic_sql::Timeline(kDialect, q), &rows, [](const SqliteRow& r) {
        return std::array<int64_t, 3>{r.Int64(0), r.Int64(1), r.Int64(2)};
      });
    });
    if (!s.ok()) return s;
    return traffic_sql::TimelineFromRows(q, rows);
  }

  Result<std::vector<SourceActivity>> TopSources(const TimeRange& range, int64_t limit) override {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckTopSourcesLimit(limit));
    std::vector<SourceActivity> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryRows(c, traffic_sql::TopSources(kDialect, range, limit), &rows,
                       [](const SqliteRow& r) { return traffic_sql::SourceFromRow(r); });
    });
    if (!s.ok()) return s;
    return rows;
  }

  Status CreateUploadBatch(const NewUploadBatch& b) override {
    return access_.Write([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "INSERT INTO upload_batches(batch_id, filename, status, created_at, created_by) "
          "VALUES (?, ?, 'processing', ?, ?)");
      if (!q.ok()) return q.status();
      return q->Bind(1, std::string_view(b.batch_id))
          .Bind(2, std::string_view(b.filename))
          .Bind(3, ToMicros(b.created_at))
          .Bind(4, b.created_by)
          .Run();
    });
  }

  Status FinishUploadBatch(std::string_view batch_id, const UploadBatchOutcome& o) override {
    THREATD_RETURN_IF_ERROR(CheckOutcome(o));
    return access_.Write([&](SqliteConnection& c) -> Status {
      auto q = c.Prepare(
          "UPDATE upload_batches SET status = ?, total_rows = ?, accepted_rows = ?, rejected_rows = ?, summary = ?, "
          "error = ?, finished_at = ? WHERE batch_id = ?");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, std::string_view(o.status))
                                  .Bind(2, o.total_rows)
                                  .Bind(3, o.accepted_rows)
                                  .Bind(4, o.rejected_rows)
                                  .Bind(5, o.summary_json)
                                  .Bind(6, o.error)
                                  .Bind(7, ToMicros(o.finished_at))
                                  .Bind(8, batch_id)
                                  .Run());
      if (c.Changes() == 0) return Status::NotFound(fmt::format("upload batch '{}' does not exist", batch_id));
      return Status::Ok();
    });
  }

  Result<int64_t> DeleteBatchFlows(std::string_view batch_id) override {
    int64_t n = 0;
    const Status s = access_.Write([&](SqliteConnection& c) -> Status {
      auto q = c.Prepare("DELETE FROM traffic_data WHERE batch_id = ?");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, batch_id).Run());
      n = c.Changes();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return n;
  }

  Result<std::vector<UploadBatchRecord>> ListUploadBatches(int64_t limit, int64_t offset) override {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(limit, offset));
    std::vector<UploadBatchRecord> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryRows(c, traffic_sql::BatchList(kDialect, limit, offset), &rows,
                       [](const SqliteRow& r) { return traffic_sql::UploadBatchFromRow(r); });
    });
    if (!s.ok()) return s;
    return rows;
  }

  Result<std::optional<UploadBatchRecord>> GetUploadBatch(std::string_view batch_id) override {
    std::vector<UploadBatchRecord> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return QueryRows(c, traffic_sql::BatchById(kDialect, batch_id), &rows,
                       [](const SqliteRow& r) { return traffic_sql::UploadBatchFromRow(r); });
    });
    if (!s.ok()) return s;
    if (rows.empty()) return std::optional<UploadBatchRecord>();
    return std::optional<UploadBatchRecord>(std::move(rows.front()));
  }

  Result<int64_t> FailAbandonedUploads(WallTime now) override {
    int64_t n = 0;
    const Status s = access_.Write([&](SqliteConnection& c) -> Status {
      THREATD_RETURN_IF_ERROR(c.Exec(
          "DELETE FROM traffic_data WHERE batch_id IN (SELECT batch_id FROM upload_batches WHERE status = "
          "'processing')"));
      auto q = c.Prepare(
          "UPDATE upload_batches SET status = 'failed', error = ?, finished_at = ? WHERE status = 'processing'");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, std::string_view(kAbandonedUploadError)).Bind(2, ToMicros(now)).Run());
      n = c.Changes();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return n;
  }

  Result<int64_t> DeleteTrafficBefore(WallTime cutoff, int64_t max_rows) override {
    if (max_rows < 1) return Status::InvalidArgument("retention batch size must be >= 1");
    int64_t n = 0;
    const Status s = access_.Write([&](SqliteConnection& c) -> Status {
      auto q = c.Prepare(
          "DELETE FROM traffic_data WHERE id IN "
          "(SELECT id FROM traffic_data WHERE created_at < ? ORDER BY created_at LIMIT ?)");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, ToMicros(cutoff)).Bind(2, max_rows).Run());
      n = c.Changes();
      // Finished decisions only; their events go by cascade.
      auto decisions = c.Prepare(
          "DELETE FROM self_healing_actions WHERE id IN (SELECT id FROM self_healing_actions "
          "WHERE created_at < ? AND status NOT IN ('pending', 'applied') ORDER BY created_at LIMIT ?)");
      if (!decisions.ok()) return decisions.status();
      THREATD_RETURN_IF_ERROR(decisions->Bind(1, ToMicros(cutoff)).Bind(2, max_rows).Run());
      n += c.Changes();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return n;
  }

 private:
  // Totals, attack distribution and the 20 newest, on one connection.
  Status StatsIn(SqliteConnection& c, const TimeRange& range, PredictionStats* st) {
    std::vector<std::pair<int64_t, int64_t>> totals;
    THREATD_RETURN_IF_ERROR(QueryRows(c, traffic_sql::ThreatTotals(kDialect, range), &totals,
                                      [](const SqliteRow& r) { return std::pair(r.Int64(0), r.Int64(1)); }));
    if (!totals.empty()) std::tie(st->total_predictions, st->total_attacks) = totals.front();
    THREATD_RETURN_IF_ERROR(QueryDistribution(c, traffic_sql::AttackDistribution(kDialect, range), &st->attack_types));
    PredictionFilter recent{.limit = 20, .since = range.since, .until = range.until};
    return QueryComplete(c, schemas_, traffic_sql::CompleteList(kDialect, recent), &st->recent);
  }

  template <typename T, typename Map>
  Result<std::vector<T>> List(const PredictionFilter& f, const traffic_sql::SqlQuery& query, Map map) {
    THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(f.limit, f.offset));
    std::vector<T> rows;
    const Status s = access_.Read([&](SqliteConnection& c) { return QueryRows(c, query, &rows, map); });
    if (!s.ok()) return s;
    return rows;
  }

  // The batch's feature_schemas id: cached, else found by checksum, else
  // inserted; *learned receives the id so the cache learns it after COMMIT.
  Result<int64_t> SchemaId(SqliteConnection& c, const EncodedBatch& e, std::optional<int64_t>* learned) {
    if (auto id = schemas_.IdOf(e.checksum)) return *id;
    auto q = c.Prepare("SELECT id FROM feature_schemas WHERE checksum = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, std::string_view(e.checksum));
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      *learned = q->Int64(0);
      return q->Int64(0);
    }
    auto ins = c.Prepare("INSERT INTO feature_schemas(checksum, names, created_at) VALUES (?, ?, ?)");
    if (!ins.ok()) return ins.status();
    THREATD_RETURN_IF_ERROR(ins->Bind(1, std::string_view(e.checksum))
                                .Bind(2, std::string_view(e.names_json))
                                .Bind(3, ToMicros(access_.clock().Now()))
                                .Run());
    *learned = c.LastInsertRowId();
    return c.LastInsertRowId();
  }

  SqliteAccess& access_;
  FeatureSchemaCache schemas_;
};

}  // namespace

std::unique_ptr<TrafficRepository> MakeTrafficRepository(SqliteAccess& access) {
  return std::make_unique<SqliteTrafficRepository>(access);
}

}  // namespace threatd::storage::sqlite
