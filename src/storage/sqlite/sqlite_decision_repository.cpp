// The SQLite DecisionRepository. Every write is one job of the writer's group
// commit (its own SAVEPOINT), so a decision and its event, or a whole list of
// status changes, commit together or not at all; the single writer thread
// also makes ExpireDecisions' select-then-update race free. Reads use
// decision_sql's statements on the read pool.
#include <fmt/format.h>

#include "storage/decision_sql.h"
#include "storage/sqlite/sqlite_repositories.h"
#include "storage/sqlite/sqlite_traffic_queries.h"

namespace threatd::storage::sqlite {
namespace {

using decision_sql::Dialect;
constexpr Dialect kDialect = Dialect::kSqlite;

Decision FromRow(const SqliteRow& r) { return decision_sql::DecisionFromRow(r); }
DecisionEvent EventFromRow(const SqliteRow& r) { return decision_sql::EventFromRow(r); }

SqliteStatement& BindOpt(SqliteStatement& q, int i, const std::optional<int64_t>& v) {
  return v ? q.Bind(i, *v) : q.BindNull(i);
}
SqliteStatement& BindOpt(SqliteStatement& q, int i, const std::optional<double>& v) {
  return v ? q.Bind(i, *v) : q.BindNull(i);
}
SqliteStatement& BindOpt(SqliteStatement& q, int i, const std::optional<Clock::WallTime>& t) {
  return t ? q.Bind(i, ToMicros(*t)) : q.BindNull(i);
}

Status InsertEvent(SqliteConnection& c, int64_t action_id, int64_t at, std::string_view status,
                   std::string_view message, const std::optional<std::string>& actor) {
  auto q = c.Prepare(
      "INSERT INTO self_healing_action_events(action_id, at, status, message, actor) VALUES (?,?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, action_id).Bind(2, at).Bind(3, status).Bind(4, message).Bind(5, actor).Run();
}

// Runs `fn` on one read snapshot (BEGIN..COMMIT unless already in one).
template <typename Fn>
Status InSnapshot(SqliteConnection& c, Fn fn) {
  const bool own_tx = !c.InTransaction() && c.Exec("BEGIN").ok();
  Status body = fn();
  if (own_tx) (void)c.Exec(body.ok() ? "COMMIT" : "ROLLBACK");
  return body;
}

class SqliteDecisionRepository final : public DecisionRepository {
 public:
  explicit SqliteDecisionRepository(SqliteAccess& access) : access_(access) {}

  Result<std::vector<Decision>> InsertDecisions(const std::vector<NewDecision>& decisions) override {
    for (const auto& d : decisions) THREATD_RETURN_IF_ERROR(decision_sql::CheckNewDecision(d));
    if (decisions.empty()) return std::vector<Decision>();
    const int64_t now = ToMicros(access_.clock().Now());
    std::vector<Decision> rows;
    const Status s = access_.Write([&](SqliteConnection& c) -> Status {
      rows.clear();
      auto q = c.Prepare(
          "INSERT INTO self_healing_actions(attack_prediction_id, created_at, updated_at, action_type, "
          "action_description, action_params, status, target, origin, mode, rule, attack_class, confidence, "
          "model_version, trigger_flow_ids, detections, escalation_level, duration_seconds, expires_at, created_by) "
          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      if (!q.ok()) return q.status();
      std::vector<int64_t> ids;
      for (const auto& d : decisions) {
        q->Reset();
        BindOpt(*q, 1, d.attack_prediction_id);
        q->Bind(2, now).Bind(3, now).Bind(4, std::string_view(d.action_type));
        q->Bind(5, std::string_view(d.action_description)).Bind(6, d.action_params_json);
        q->Bind(7, std::string_view(d.status)).Bind(8, std::string_view(d.target));
        q->Bind(9, std::string_view(d.origin)).Bind(10, std::string_view(d.mode)).Bind(11, d.rule);
        q->Bind(12, d.attack_class);
        BindOpt(*q, 13, d.confidence);
        q->Bind(14, d.model_version).Bind(15, std::string_view(decision_sql::FlowIdsJson(d.trigger_flow_ids)));
        q->Bind(16, d.detections).Bind(17, int64_t{d.escalation_level});
        BindOpt(*q, 18, d.duration_seconds);
        BindOpt(*q, 19, d.expires_at);
        THREATD_RETURN_IF_ERROR(q->Bind(20, d.created_by).Run());
        ids.push_back(c.LastInsertRowId());
        THREATD_RETURN_IF_ERROR(InsertEvent(c, ids.back(), now, d.status, d.event_message, d.created_by));
      }
      for (int64_t id : ids) THREATD_RETURN_IF_ERROR(QueryRows(c, decision_sql::DecisionById(kDialect, id), &rows, FromRow));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (rows.size() != decisions.size()) return Status::Internal("a decision vanished right after insert");
    return rows;
  }

  Status UpdateDecisionStatus(const std::vector<StatusChange>& changes) override {
    for (const auto& ch : changes) THREATD_RETURN_IF_ERROR(decision_sql::CheckStatusChange(ch));
    if (changes.empty()) return Status::Ok();
    const int64_t now = ToMicros(access_.clock().Now());
    return access_.Write([&](SqliteConnection& c) -> Status {
      auto q = c.Prepare(
          "UPDATE self_healing_actions SET status = ?, updated_at = ?, "
          "error_message = COALESCE(?, error_message), execution_time = COALESCE(?, execution_time) WHERE id = ?");
      if (!q.ok()) return q.status();
      for (const auto& ch : changes) {
        q->Reset();
        q->Bind(1, std::string_view(ch.status)).Bind(2, now).Bind(3, ch.error_message);
        BindOpt(*q, 4, ch.execution_time);
        THREATD_RETURN_IF_ERROR(q->Bind(5, ch.id).Run());
        // The job fails: its SAVEPOINT rolls back every change made so far.
        if (c.Changes() == 0) return decision_sql::DecisionNotFound(ch.id);
        THREATD_RETURN_IF_ERROR(InsertEvent(c, ch.id, now, ch.status, ch.message, ch.actor));
      }
      return Status::Ok();
    });
  }

  Result<std::optional<Decision>> GetDecision(int64_t id) override {
    std::vector<Decision> rows;
    const Status s = access_.Read([&](SqliteConnection& c) {
      return InSnapshot(c, [&]() -> Status {
        THREATD_RETURN_IF_ERROR(QueryRows(c, decision_sql::DecisionById(kDialect, id), &rows, FromRow));
        if (rows.empty()) return Status::Ok();
        return QueryRows(c, decision_sql::EventsOf(kDialect, id), &rows.front().history, EventFromRow);
      });
    });
    if (!s.ok()) return s;
    if (rows.empty()) return std::optional<Decision>();
    return std::optional<Decision>(std::move(rows.front()));
  }

  Result<std::vector<Decision>> ListDecisions(const DecisionQuery& query) override {
    THREATD_RETURN_IF_ERROR(decision_sql::CheckQuery(query));
    return Query(decision_sql::DecisionList(kDialect, query));
  }

  Result<std::vector<Decision>> ListActiveDecisions(Clock::WallTime now) override {
    return Query(decision_sql::ActiveDecisions(kDialect, now));
  }

  Result<std::vector<Decision>> ExpireDecisions(Clock::WallTime now) override {
    const int64_t at = ToMicros(access_.clock().Now());
    std::vector<Decision> due;
    const Status s = access_.Write([&](SqliteConnection& c) -> Status {
      THREATD_RETURN_IF_ERROR(QueryRows(c, decision_sql::DueDecisions(kDialect, now), &due, FromRow));
      if (due.empty()) return Status::Ok();
      auto q = c.Prepare("UPDATE self_healing_actions SET status = 'expired', updated_at = ? WHERE id = ?");
      if (!q.ok()) return q.status();
      for (auto& d : due) {
        q->Reset();
        THREATD_RETURN_IF_ERROR(q->Bind(1, at).Bind(2, d.id).Run());
        THREATD_RETURN_IF_ERROR(InsertEvent(c, d.id, at, "expired", "expired", std::nullopt));
        d.status = "expired";
        d.updated_at = FromMicros(at);
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return due;
  }

  Result<int64_t> CountDecisions(const std::string& target, const std::string& action_type, const std::string& mode,
                                 Clock::WallTime since) override {
    std::vector<int64_t> n;
    THREATD_RETURN_IF_ERROR(access_.Read([&](SqliteConnection& c) {
      return QueryRows(c, decision_sql::CountDecisions(kDialect, target, action_type, mode, since), &n,
                       [](const SqliteRow& r) { return r.Int64(0); });
    }));
    return n.empty() ? int64_t{0} : n.front();
  }

  Result<std::optional<HealingSettings>> GetHealingSettings() override {
    std::optional<HealingSettings> out;
    THREATD_RETURN_IF_ERROR(access_.Read([&](SqliteConnection& c) { return SelectSettings(c, &out); }));
    return out;
  }

  Result<HealingSettings> PutHealingSettings(const std::string& policy_json, const std::string& mode,
                                             const std::optional<std::string>& updated_by) override {
    THREATD_RETURN_IF_ERROR(decision_sql::CheckSettings(policy_json, mode, updated_by));
    const int64_t now = ToMicros(access_.clock().Now());
    std::optional<HealingSettings> out;
    const Status s = access_.Write([&](SqliteConnection& c) -> Status {
      auto q = c.Prepare(
          "INSERT INTO healing_settings(id, policy_json, mode, updated_at, updated_by) VALUES (1, ?, ?, ?, ?) "
          "ON CONFLICT(id) DO UPDATE SET policy_json = excluded.policy_json, mode = excluded.mode, "
          "updated_at = excluded.updated_at, updated_by = excluded.updated_by");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, std::string_view(policy_json))
                                  .Bind(2, std::string_view(mode))
                                  .Bind(3, now)
                                  .Bind(4, updated_by)
                                  .Run());
      return SelectSettings(c, &out);
    });
    if (!s.ok()) return s;
    if (!out) return Status::Internal("healing settings vanished right after they were written");
    return std::move(*out);
  }

 private:
  Result<std::vector<Decision>> Query(const traffic_sql::SqlQuery& query) {
    std::vector<Decision> rows;
    THREATD_RETURN_IF_ERROR(access_.Read([&](SqliteConnection& c) { return QueryRows(c, query, &rows, FromRow); }));
    return rows;
  }

  static Status SelectSettings(SqliteConnection& c, std::optional<HealingSettings>* out) {
    auto q = c.Prepare("SELECT policy_json, mode, updated_at, updated_by FROM healing_settings WHERE id = 1");
    if (!q.ok()) return q.status();
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    *out = HealingSettings{q->Text(0), q->Text(1), FromMicros(q->Int64(2)), q->OptionalText(3)};
    return Status::Ok();
  }

  SqliteAccess& access_;
};

}  // namespace

std::unique_ptr<DecisionRepository> MakeDecisionRepository(SqliteAccess& access) {
  return std::make_unique<SqliteDecisionRepository>(access);
}

}  // namespace threatd::storage::sqlite
