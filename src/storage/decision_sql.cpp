#include "storage/decision_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/ip_network.h"

namespace threatd::storage::decision_sql {
namespace {

constexpr size_t kMaxName = 100;         // rule, attack_class, model_version, created_by, actor
constexpr size_t kMaxActionType = 50;
constexpr size_t kMaxTriggerFlows = 1000;

constexpr std::array<std::string_view, 5> kStatuses = {"pending", "applied", "failed", "expired", "revoked"};
constexpr std::array<std::string_view, 3> kOrigins = {"automatic", "manual", "api"};
constexpr std::array<std::string_view, 2> kModes = {"enforce", "simulate"};

template <size_t N>
bool OneOf(std::string_view v, const std::array<std::string_view, N>& allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

Status CheckName(std::string_view field, const std::optional<std::string>& v) {
  if (v && v->size() > kMaxName)
    return Status::Validation(fmt::format("decision {} is longer than {} characters", field, kMaxName),
                              fmt::format("shorten the {}", field));
  return Status::Ok();
}

using Builder = QueryBuilder;

std::string TimeCol(Dialect d, std::string_view t, std::string_view col) {
  return d == Dialect::kPostgres ? fmt::format("(extract(epoch from {}.{}) * 1000000)::int8", t, col)
                                 : fmt::format("{}.{}", t, col);
}
std::string JsonCol(Dialect d, std::string_view t, std::string_view col) {
  return d == Dialect::kPostgres ? fmt::format("{}.{}::text", t, col) : fmt::format("{}.{}", t, col);
}

std::string Select(Dialect d) { return fmt::format("SELECT {} FROM self_healing_actions d", DecisionColumns(d, "d")); }

}  // namespace

Status CheckNewDecision(const NewDecision& d) {
  // Flows without addresses can only raise alerts: those have no target.
  const bool untargeted = d.target.empty() && (d.action_type == "alert_admin" || d.action_type == "log_only");
  if (!untargeted) {
    auto net = IpNetwork::Parse(d.target);
    if (!net.ok())
      return Status::Validation(fmt::format("decision target '{}' is not an address or CIDR range: {}", d.target,
                                            net.status().message()),
                                "give the address or range to act on, e.g. 203.0.113.7 or 203.0.113.0/24");
    if (net->ToString() != d.target)
      return Status::Validation(fmt::format("decision target '{}' is not in canonical form", d.target),
                                fmt::format("store the canonical text '{}' (IpNetwork::ToString)", net->ToString()));
  }
  if (d.action_type.empty() || d.action_type.size() > kMaxActionType)
    return Status::Validation(fmt::format("decision action_type must be 1..{} characters", kMaxActionType),
                              "use one of block_ip, rate_limit, isolate_host, alert_admin, restart_service, log_only");
  if (!OneOf(d.origin, kOrigins))
    return Status::Validation(fmt::format("decision origin '{}' is unknown", d.origin),
                              "use automatic, manual or api");
  if (!OneOf(d.mode, kModes))
    return Status::Validation(fmt::format("decision mode '{}' is unknown", d.mode), "use enforce or simulate");
  if (!OneOf(d.status, kStatuses))
    return Status::Validation(fmt::format("decision status '{}' is unknown", d.status),
                              "use pending, applied, failed, expired or revoked");
  if (d.action_params_json) {
    const auto j = nlohmann::json::parse(*d.action_params_json, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status::Validation("decision action_params_json is not a JSON object",
                                R"(pass an object such as {"rate": "10/second"})");
  }
  THREATD_RETURN_IF_ERROR(CheckName("rule", d.rule));
  THREATD_RETURN_IF_ERROR(CheckName("attack_class", d.attack_class));
  THREATD_RETURN_IF_ERROR(CheckName("model_version", d.model_version));
  THREATD_RETURN_IF_ERROR(CheckName("created_by", d.created_by));
  if (d.confidence && !std::isfinite(*d.confidence))
    return Status::Validation("decision confidence is not a finite number", "pass the classifier's probability");
  if (d.trigger_flow_ids.size() > kMaxTriggerFlows)
    return Status::Validation(
        fmt::format("decision lists {} trigger flows, more than {}", d.trigger_flow_ids.size(), kMaxTriggerFlows),
        "keep the first few dozen flow ids; detections counts them all");
  if (d.detections < 0 || d.escalation_level < 0 || (d.duration_seconds && *d.duration_seconds < 0))
    return Status::Validation("decision detections, escalation_level and duration_seconds must not be negative",
                              "pass counts and durations >= 0");
  return Status::Ok();
}

Status CheckStatusChange(const StatusChange& c) {
  if (!OneOf(c.status, kStatuses))
    return Status::Validation(fmt::format("decision status '{}' is unknown (decision {})", c.status, c.id),
                              "use pending, applied, failed, expired or revoked");
  return CheckName("actor", c.actor);
}

Status CheckQuery(const DecisionQuery& q) {
  THREATD_RETURN_IF_ERROR(traffic_sql::CheckPage(q.limit, q.offset));
  if (q.status && !OneOf(*q.status, kStatuses) && *q.status != "logged")
    return Status::InvalidArgument(fmt::format("unknown decision status filter '{}'", *q.status),
                                   "use pending, applied, failed, expired, revoked or logged");
  if (q.origin && !OneOf(*q.origin, kOrigins))
    return Status::InvalidArgument(fmt::format("unknown decision origin filter '{}'", *q.origin),
                                   "use automatic, manual or api");
  if (q.mode && !OneOf(*q.mode, kModes))
    return Status::InvalidArgument(fmt::format("unknown decision mode filter '{}'", *q.mode),
                                   "use enforce or simulate");
  return Status::Ok();
}

Status CheckSettings(std::string_view policy_json, std::string_view mode,
                     const std::optional<std::string>& updated_by) {
  const auto j = nlohmann::json::parse(policy_json, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::Validation("healing policy is not a JSON object", "pass the policy as a JSON object");
  if (mode != "enforce" && mode != "dry_run")
    return Status::Validation(fmt::format("healing mode '{}' is unknown", mode), "use enforce or dry_run");
  if (updated_by && updated_by->size() > kMaxName)
    return Status::Validation(fmt::format("healing settings updated_by is longer than {} characters", kMaxName),
                              "shorten the principal name");
  return Status::Ok();
}

Status DecisionNotFound(int64_t id) {
  return Status::NotFound(fmt::format("self-healing decision not found: {}", id),
                          "check the id; list the decisions to find it");
}

std::string FlowIdsJson(const std::vector<int64_t>& ids) { return nlohmann::json(ids).dump(); }

std::vector<int64_t> ParseFlowIds(std::string_view json) {
  std::vector<int64_t> out;
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_array()) return out;  // the column's CHECK keeps it an array
  for (const auto& v : j) {
    if (v.is_number_integer()) out.push_back(v.get<int64_t>());
  }
  return out;
}

std::string DecisionColumns(Dialect d, std::string_view t) {
  return fmt::format(
      "{0}.id, {0}.attack_prediction_id, {1}, {2}, {0}.action_type, {0}.action_description, {3}, {0}.status, {4}, "
      "{0}.error_message, {0}.target, {0}.origin, {0}.mode, {0}.rule, {0}.attack_class, {0}.confidence, "
      "{0}.model_version, {5}, {0}.detections, {0}.escalation_level, {0}.duration_seconds, {6}, {0}.created_by",
      t, TimeCol(d, t, "created_at"), TimeCol(d, t, "updated_at"), JsonCol(d, t, "action_params"),
      TimeCol(d, t, "execution_time"), JsonCol(d, t, "trigger_flow_ids"), TimeCol(d, t, "expires_at"));
}

std::string EventColumns(Dialect d, std::string_view t) {
  return fmt::format("{0}.id, {0}.action_id, {1}, {0}.status, {0}.message, {0}.actor", t, TimeCol(d, t, "at"));
}

SqlQuery DecisionById(Dialect d, int64_t id) {
  Builder b(d);
  b.Where("d.id = " + b.AddInt(id));
  return b.Done(Select(d) + b.where());
}

SqlQuery EventsOf(Dialect d, int64_t action_id) {
  Builder b(d);
  b.Where("e.action_id = " + b.AddInt(action_id));
  return b.Done(fmt::format("SELECT {} FROM self_healing_action_events e{} ORDER BY e.at, e.id",
                            EventColumns(d, "e"), b.where()));
}

SqlQuery DecisionList(Dialect d, const DecisionQuery& q) {
  Builder b(d);
  if (q.status) b.Where("d.status = " + b.AddText(*q.status));
  if (q.action_type) b.Where("d.action_type = " + b.AddText(*q.action_type));
  if (q.target) b.Where("d.target = " + b.AddText(*q.target));
  if (q.origin) b.Where("d.origin = " + b.AddText(*q.origin));
  if (q.mode) b.Where("d.mode = " + b.AddText(*q.mode));
  if (q.since) b.Where("d.created_at >= " + b.AddTime(*q.since));
  if (q.until) b.Where("d.created_at <= " + b.AddTime(*q.until));
  std::string sql = Select(d) + b.where() + " ORDER BY d.created_at DESC, d.id DESC";
  const std::string limit = b.AddInt(q.limit);
  sql += fmt::format(" LIMIT {} OFFSET {}", limit, b.AddInt(q.offset));
  return b.Done(std::move(sql));
}

SqlQuery ActiveDecisions(Dialect d, WallTime now) {
  Builder b(d);
  b.Where("d.status IN ('pending', 'applied')");
  b.Where("(d.expires_at IS NULL OR d.expires_at > " + b.AddTime(now) + ")");
  return b.Done(Select(d) + b.where() + " ORDER BY d.created_at, d.id");
}

SqlQuery DueDecisions(Dialect d, WallTime now) {
  Builder b(d);
  b.Where("d.status IN ('pending', 'applied')");
  b.Where("d.expires_at <= " + b.AddTime(now));
  return b.Done(Select(d) + b.where() + " ORDER BY d.created_at, d.id");
}

SqlQuery CountDecisions(Dialect d, std::string_view target, std::string_view action_type, std::string_view mode,
                        WallTime since) {
  Builder b(d);
  b.Where("target = " + b.AddText(target));
  b.Where("action_type = " + b.AddText(action_type));
  b.Where("mode = " + b.AddText(mode));
  b.Where("created_at >= " + b.AddTime(since));
  return b.Done("SELECT count(*) FROM self_healing_actions" + b.where());
}

}  // namespace threatd::storage::decision_sql
