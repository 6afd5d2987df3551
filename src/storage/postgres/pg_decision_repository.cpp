// The PostgreSQL DecisionRepository. Each write is one transaction and, where
// it can be, one statement: data-modifying CTEs write the decision and its
// event together, and ExpireDecisions is one UPDATE .. RETURNING, so two
// instances sharing the database never expire the same row twice (the second
// UPDATE re-checks the status under the row lock and skips it). Reads use
// decision_sql's statements.
#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/decision_sql.h"
#include "storage/micros.h"
#include "storage/postgres/pg_query.h"
#include "storage/postgres/pg_repositories.h"

namespace threatd::storage::pg {
namespace {

using decision_sql::Dialect;
constexpr Dialect kDialect = Dialect::kPostgres;

std::vector<Decision> Decisions(const pqxx::result& rows) {
  std::vector<Decision> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(decision_sql::DecisionFromRow(PgRow{r}));
  return out;
}

std::optional<int64_t> OptionalMicros(const std::optional<Clock::WallTime>& t) {
  if (!t) return std::nullopt;
  return ToMicros(*t);
}

const std::string kDecisionColumns = decision_sql::DecisionColumns(kDialect, "d");

class PgDecisionRepository final : public DecisionRepository {
 public:
  PgDecisionRepository(PgPool& pool, Clock& clock) : pool_(pool), clock_(clock) {}

  Result<std::vector<Decision>> InsertDecisions(const std::vector<NewDecision>& decisions) override {
    for (const auto& d : decisions) THREATD_RETURN_IF_ERROR(decision_sql::CheckNewDecision(d));
    if (decisions.empty()) return std::vector<Decision>();
    const std::string sql = fmt::format(
        "WITH d AS (INSERT INTO self_healing_actions(attack_prediction_id, created_at, updated_at, action_type, "
        "action_description, action_params, status, target, origin, mode, rule, attack_class, confidence, "
        "model_version, trigger_flow_ids, detections, escalation_level, duration_seconds, expires_at, "
        "created_by) VALUES ($1, {0}, {0}, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, "
        "$15, $16, $17, {1}, $19) RETURNING *), "
        "e AS (INSERT INTO self_healing_action_events(action_id, at, status, message, actor) "
        "SELECT d.id, d.created_at, d.status, $20::text, d.created_by FROM d) "
        "SELECT {2} FROM d",
        TimeParam(2), TimeParam(18), kDecisionColumns);
    const int64_t now = ToMicros(clock_.Now());
    std::vector<Decision> out;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      out.clear();
      pqxx::work tx(c);
      for (const auto& d : decisions) {
        const auto rows = tx.exec_params(
            sql, d.attack_prediction_id, now, d.action_type, d.action_description, d.action_params_json, d.status,
            d.target, d.origin, d.mode, d.rule, d.attack_class, d.confidence, d.model_version,
            decision_sql::FlowIdsJson(d.trigger_flow_ids), d.detections, d.escalation_level, d.duration_seconds,
            OptionalMicros(d.expires_at), d.created_by, d.event_message);
        // Returning without commit aborts the transaction: nothing is stored.
        if (rows.empty()) return Status::Internal("inserting a decision returned no row");
        out.push_back(decision_sql::DecisionFromRow(PgRow{rows[0]}));
      }
      tx.commit();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  Status UpdateDecisionStatus(const std::vector<StatusChange>& changes) override {
    for (const auto& ch : changes) THREATD_RETURN_IF_ERROR(decision_sql::CheckStatusChange(ch));
    if (changes.empty()) return Status::Ok();
    const std::string sql = fmt::format(
        "WITH u AS (UPDATE self_healing_actions SET status = $1::text, updated_at = {0}, "
        "error_message = COALESCE($3::text, error_message), execution_time = COALESCE({1}, execution_time) "
        "WHERE id = $5 RETURNING id) "
        "INSERT INTO self_healing_action_events(action_id, at, status, message, actor) "
        "SELECT u.id, {0}, $1::text, $6::text, $7::text FROM u RETURNING action_id",
        TimeParam(2), TimeParam(4));
    const int64_t now = ToMicros(clock_.Now());
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      for (const auto& ch : changes) {
        const auto rows = tx.exec_params(sql, ch.status, now, ch.error_message, OptionalMicros(ch.execution_time),
                                         ch.id, ch.message, ch.actor);
        // Returning without commit aborts the transaction: nothing changed.
        if (rows.empty()) return decision_sql::DecisionNotFound(ch.id);
      }
      tx.commit();
      return Status::Ok();
    });
  }

  Result<std::optional<Decision>> GetDecision(int64_t id) override {
    std::optional<Decision> out;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);  // one snapshot for the row and its history
      const auto rows = Exec(tx, decision_sql::DecisionById(kDialect, id));
      if (rows.empty()) return Status::Ok();
      out = decision_sql::DecisionFromRow(PgRow{rows[0]});
      for (const auto& r : Exec(tx, decision_sql::EventsOf(kDialect, id)))
        out->history.push_back(decision_sql::EventFromRow(PgRow{r}));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<std::vector<Decision>> ListDecisions(const DecisionQuery& query) override {
    THREATD_RETURN_IF_ERROR(decision_sql::CheckQuery(query));
    return Query(decision_sql::DecisionList(kDialect, query));
  }

  Result<std::vector<Decision>> ListActiveDecisions(Clock::WallTime now) override {
    return Query(decision_sql::ActiveDecisions(kDialect, now));
  }

  Result<std::vector<Decision>> ExpireDecisions(Clock::WallTime now) override {
    std::vector<Decision> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto rows = tx.exec_params(
          fmt::format("WITH d AS (UPDATE self_healing_actions SET status = 'expired', updated_at = {0} "
                      "WHERE status IN ('pending', 'applied') AND expires_at <= {1} RETURNING *), "
                      "e AS (INSERT INTO self_healing_action_events(action_id, at, status, message) "
                      "SELECT d.id, {0}, 'expired', 'expired' FROM d) "
                      "SELECT {2} FROM d ORDER BY d.created_at, d.id",
                      TimeParam(1), TimeParam(2), kDecisionColumns),
          ToMicros(clock_.Now()), ToMicros(now));
      tx.commit();
      out = Decisions(rows);
      return Status::Ok();
    }));
    return out;
  }

  Result<int64_t> CountDecisions(const std::string& target, const std::string& action_type, const std::string& mode,
                                 Clock::WallTime since) override {
    int64_t n = 0;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      n = Exec(tx, decision_sql::CountDecisions(kDialect, target, action_type, mode, since))[0][0].as<int64_t>();
      return Status::Ok();
    }));
    return n;
  }

  Result<std::optional<HealingSettings>> GetHealingSettings() override {
    std::optional<HealingSettings> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec(fmt::format("SELECT {} FROM healing_settings WHERE id = 1", kSettingsColumns));
      if (!rows.empty()) out = SettingsFromRow(rows[0]);
      return Status::Ok();
    }));
    return out;
  }

  Result<HealingSettings> PutHealingSettings(const std::string& policy_json, const std::string& mode,
                                             const std::optional<std::string>& updated_by) override {
    THREATD_RETURN_IF_ERROR(decision_sql::CheckSettings(policy_json, mode, updated_by));
    std::optional<HealingSettings> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params1(
          fmt::format("INSERT INTO healing_settings(id, policy_json, mode, updated_at, updated_by) "
                      "VALUES (1, $1::jsonb, $2, {}, $4) ON CONFLICT (id) DO UPDATE SET "
                      "policy_json = EXCLUDED.policy_json, mode = EXCLUDED.mode, updated_at = EXCLUDED.updated_at, "
                      "updated_by = EXCLUDED.updated_by RETURNING {}",
                      TimeParam(3), kSettingsColumns),
          policy_json, mode, ToMicros(clock_.Now()), updated_by);
      tx.commit();
      out = SettingsFromRow(r);
      return Status::Ok();
    }));
    return std::move(*out);
  }

 private:
  inline static const std::string kSettingsColumns =
      fmt::format("policy_json::text, mode, {}, updated_by", MicrosOf("updated_at"));

  static HealingSettings SettingsFromRow(const pqxx::row& r) {
    HealingSettings s{r[0].as<std::string>(), r[1].as<std::string>(), FromMicros(r[2].as<int64_t>()), std::nullopt};
    if (!r[3].is_null()) s.updated_by = r[3].as<std::string>();
    return s;
  }

  Result<std::vector<Decision>> Query(const traffic_sql::SqlQuery& query) {
    std::vector<Decision> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      out = Decisions(Exec(tx, query));
      return Status::Ok();
    }));
    return out;
  }

  PgPool& pool_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<DecisionRepository> MakeDecisionRepository(PgPool& pool, Clock& clock) {
  return std::make_unique<PgDecisionRepository>(pool, clock);
}

}  // namespace threatd::storage::pg
