// DecisionRepository: self-healing decisions - the self_healing_actions rows
// (the original's columns plus target, origin, mode, expiry, reason...) and
// their history (self_healing_action_events), plus the healing settings row
// (policy and enforcement mode, so they survive restarts and are shared by
// every instance on one PostgreSQL).
//
// A decision is about a target (an address or CIDR range, canonical text from
// common/ip_network.h), not about a flow: the flows that triggered it are
// listed in trigger_flow_ids, and attack_prediction_id points at the one that
// crossed the threshold (NULL for manual decisions) so the original's
// /predictions/actions keeps working.
//
// Status: pending -> applied | failed; applied -> expired | revoked;
// pending/failed -> revoked. Rows written by older versions have "logged".
// Every status change appends an event in the same transaction.
//
// Errors: Unavailable/Timeout when the database cannot answer; NotFound for
// an unknown id; Validation for a malformed record (e.g. bad JSON).
// Thread-safety: implementations are safe for concurrent use; calls block on
// database I/O and must not be made from an I/O loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace threatd::storage {

struct NewDecision {
  std::optional<int64_t> attack_prediction_id;  // the triggering prediction
  std::string target;              // canonical address or CIDR
  std::string action_type;         // block_ip, rate_limit, isolate_host, alert_admin, restart_service, log_only
  std::string action_description;  // human-readable why, e.g. "DDoS from 203.0.113.7: 25 detections in 60 s"
  std::optional<std::string> action_params_json;  // a JSON object (rule parameters, e.g. rate)
  std::string origin;              // automatic, manual, api
  std::string mode;                // enforce, simulate
  std::string status = "pending";
  std::optional<std::string> rule;          // policy rule name
  std::optional<std::string> attack_class;
  std::optional<double> confidence;
  std::optional<std::string> model_version;
  std::vector<int64_t> trigger_flow_ids;    // traffic_data ids, at most a few dozen
  int64_t detections = 0;                   // detections that led to it
  int escalation_level = 0;                 // 0 = first offence
  std::optional<int64_t> duration_seconds;  // nullopt: no expiry (alerts)
  std::optional<Clock::WallTime> expires_at;
  std::optional<std::string> created_by;    // principal name for manual/api decisions
  std::string event_message = "created";    // the first history event
};

struct DecisionEvent {
  int64_t id = 0;
  int64_t action_id = 0;
  Clock::WallTime at;
  std::string status;
  std::string message;
  std::optional<std::string> actor;
};

struct Decision {
  int64_t id = 0;
  std::optional<int64_t> attack_prediction_id;
  Clock::WallTime created_at;
  Clock::WallTime updated_at;
  std::string action_type;
  std::string action_description;
  std::optional<std::string> action_params_json;
  std::string status;
  std::optional<Clock::WallTime> execution_time;  // when applied
  std::optional<std::string> error_message;
  std::string target;  // empty for rows written before decisions had targets
  std::string origin;
  std::string mode;
  std::optional<std::string> rule;
  std::optional<std::string> attack_class;
  std::optional<double> confidence;
  std::optional<std::string> model_version;
  std::vector<int64_t> trigger_flow_ids;
  int64_t detections = 0;
  int escalation_level = 0;
  std::optional<int64_t> duration_seconds;
  std::optional<Clock::WallTime> expires_at;
  std::optional<std::string> created_by;
  std::vector<DecisionEvent> history;  // filled by GetDecision only, oldest first
};

struct DecisionQuery {
  int64_t limit = 100;  // 1..1000
  int64_t offset = 0;   // >= 0
  std::optional<std::string> status;
  std::optional<std::string> action_type;
  std::optional<std::string> target;  // exact canonical text
  std::optional<std::string> origin;
  std::optional<std::string> mode;
  std::optional<Clock::WallTime> since;  // created_at, inclusive
  std::optional<Clock::WallTime> until;
};

struct StatusChange {
  int64_t id = 0;
  std::string status;                        // the new status
  std::string message;                       // history text
  std::optional<std::string> error_message;  // set with "failed"
  std::optional<Clock::WallTime> execution_time;  // set with "applied"
  std::optional<std::string> actor;
};

// The shared healing settings (one row).
struct HealingSettings {
  std::string policy_json;  // healing::PolicyConfig as JSON
  std::string mode;         // enforce, dry_run
  Clock::WallTime updated_at;
  std::optional<std::string> updated_by;
};

class DecisionRepository {
 public:
  virtual ~DecisionRepository() = default;

  // Inserts the decisions, each with its first event (status =
  // decision.status), in ONE transaction: all of them or none.
  // created_at = updated_at = the clock's now. Returned in input order.
  virtual Result<std::vector<Decision>> InsertDecisions(const std::vector<NewDecision>& decisions) = 0;
  Result<Decision> InsertDecision(const NewDecision& decision) {
    auto rows = InsertDecisions({decision});
    if (!rows.ok()) return rows.status();
    return std::move(rows->front());
  }
  // Applies each change (status, updated_at = now, event) in ONE transaction;
  // NotFound (nothing changed) when an id does not exist.
  virtual Status UpdateDecisionStatus(const std::vector<StatusChange>& changes) = 0;
  // With its history; nullopt for an unknown id.
  virtual Result<std::optional<Decision>> GetDecision(int64_t id) = 0;
  // Newest first (created_at, id descending); filters before LIMIT.
  virtual Result<std::vector<Decision>> ListDecisions(const DecisionQuery& query) = 0;
  // Every decision with status pending or applied whose expires_at is null or
  // after `now`, oldest first - what should be in force (reconcile, restart).
  virtual Result<std::vector<Decision>> ListActiveDecisions(Clock::WallTime now) = 0;
  // Marks every pending/applied decision with expires_at <= now as
  // "expired" (with an event) and returns them; one transaction.
  virtual Result<std::vector<Decision>> ExpireDecisions(Clock::WallTime now) = 0;
  // Decisions with this target, action_type and mode created at or after
  // `since`, whatever their status: the offence count for escalation.
  virtual Result<int64_t> CountDecisions(const std::string& target, const std::string& action_type,
                                         const std::string& mode, Clock::WallTime since) = 0;

  // nullopt until the first PutHealingSettings.
  virtual Result<std::optional<HealingSettings>> GetHealingSettings() = 0;
  // updated_at = now.
  virtual Result<HealingSettings> PutHealingSettings(const std::string& policy_json, const std::string& mode,
                                                     const std::optional<std::string>& updated_by) = 0;
};

}  // namespace threatd::storage
