// The parts of DecisionRepository written once for both dialects: input
// checks, the read statements (self_healing_actions and its events) and the
// row mapping. PRIVATE to src/storage: the SQLite and PostgreSQL decision
// repositories use it so the column lists, filters and orderings cannot
// drift apart between backends; the writes (RETURNING/CTEs in PostgreSQL,
// per-row statements on SQLite's writer) stay in each backend's file.
//
// Statements use traffic_sql's SqlQuery: parameters in order, times as int64
// epoch microseconds (converted in SQL for PostgreSQL), JSON read as text.
//
// Errors: the checks return Validation (a malformed record) or
// InvalidArgument (a bad page or filter), with what to do.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/decision_repository.h"
#include "storage/micros.h"
#include "storage/traffic_sql.h"

namespace threatd::storage::decision_sql {

using traffic_sql::Dialect;
using traffic_sql::SqlQuery;

// --- Input checks (before any I/O) ---

// Target canonical (IpNetwork), known origin/mode/status, action_params a
// JSON object, bounded texts and counts.
Status CheckNewDecision(const NewDecision& d);
// A known status (not the legacy "logged"), bounded texts.
Status CheckStatusChange(const StatusChange& c);
// Page 1..1000 / >= 0 and known status/origin/mode filter values.
Status CheckQuery(const DecisionQuery& q);
// policy_json a JSON object, mode enforce|dry_run.
Status CheckSettings(std::string_view policy_json, std::string_view mode, const std::optional<std::string>& updated_by);

// NotFound naming the id and what to do.
Status DecisionNotFound(int64_t id);

// trigger_flow_ids <-> its JSON array text.
std::string FlowIdsJson(const std::vector<int64_t>& ids);
std::vector<int64_t> ParseFlowIds(std::string_view json);

// --- Read statements. Rows map with DecisionFromRow / EventFromRow. ---

// The decision columns of table alias `t` (layout: DecisionFromRow).
std::string DecisionColumns(Dialect d, std::string_view t);
// The event columns of table alias `t` (layout: EventFromRow).
std::string EventColumns(Dialect d, std::string_view t);

SqlQuery DecisionById(Dialect d, int64_t id);
SqlQuery EventsOf(Dialect d, int64_t action_id);  // oldest first
SqlQuery DecisionList(Dialect d, const DecisionQuery& q);  // newest first, filters before LIMIT
SqlQuery ActiveDecisions(Dialect d, WallTime now);  // oldest first
SqlQuery DueDecisions(Dialect d, WallTime now);     // pending/applied, expires_at <= now; oldest first
SqlQuery CountDecisions(Dialect d, std::string_view target, std::string_view action_type, std::string_view mode,
                        WallTime since);  // one row: count

// --- Row mapping. `Row` offers IsNull(i), Int64(i), Double(i), Text(i). ---

inline constexpr int kDecisionColumns = 23;
inline constexpr int kEventColumns = 6;

template <typename Row>
std::optional<WallTime> OptTime(const Row& r, int c) {
  if (r.IsNull(c)) return std::nullopt;
  return FromMicros(r.Int64(c));
}

template <typename Row>
Decision DecisionFromRow(const Row& r) {
  using traffic_sql::OptInt;
  using traffic_sql::OptText;
  Decision d;
  d.id = r.Int64(0);
  d.attack_prediction_id = OptInt(r, 1);
  d.created_at = FromMicros(r.Int64(2));
  d.updated_at = FromMicros(r.Int64(3));
  d.action_type = r.Text(4);
  d.action_description = r.Text(5);
  d.action_params_json = OptText(r, 6);
  d.status = r.Text(7);
  d.execution_time = OptTime(r, 8);
  d.error_message = OptText(r, 9);
  d.target = r.Text(10);
  d.origin = r.Text(11);
  d.mode = r.Text(12);
  d.rule = OptText(r, 13);
  d.attack_class = OptText(r, 14);
  if (!r.IsNull(15)) d.confidence = r.Double(15);
  d.model_version = OptText(r, 16);
  d.trigger_flow_ids = ParseFlowIds(r.Text(17));
  d.detections = r.Int64(18);
  d.escalation_level = static_cast<int>(r.Int64(19));
  d.duration_seconds = OptInt(r, 20);
  d.expires_at = OptTime(r, 21);
  d.created_by = OptText(r, 22);
  return d;
}

template <typename Row>
DecisionEvent EventFromRow(const Row& r) {
  DecisionEvent e;
  e.id = r.Int64(0);
  e.action_id = r.Int64(1);
  e.at = FromMicros(r.Int64(2));
  e.status = r.Text(3);
  e.message = r.Text(4);
  e.actor = traffic_sql::OptText(r, 5);
  return e;
}

}  // namespace threatd::storage::decision_sql
