#include "healing/hook_event.h"

#include <string>

namespace threatd::healing {

std::string_view ToString(HookEvent event) {
  switch (event) {
    case HookEvent::kApply: return "apply";
    case HookEvent::kRemove: return "remove";
    case HookEvent::kReconcile: return "reconcile";
  }
  return "apply";
}

nlohmann::json HookPayload(HookEvent event, const std::vector<Enforcement>& items) {
  nlohmann::json decisions = nlohmann::json::array();
  for (const Enforcement& e : items) {
    if (!e.decision.is_null()) {
      decisions.push_back(e.decision);
      continue;
    }
    decisions.push_back({{"id", e.decision_id},
                         {"target", e.target.ToString()},
                         {"action_type", ToString(e.action)},
                         {"expires_at", e.expires_at ? nlohmann::json(FormatIso8601(*e.expires_at)) : nlohmann::json()},
                         {"rate_per_second", e.rate_per_second}});
  }
  return {{"event", ToString(event)}, {"decisions", std::move(decisions)}};
}

std::string HookPayloadText(HookEvent event, const std::vector<Enforcement>& items) {
  return HookPayload(event, items).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<ActionType> AllActionTypes() {
  return {ActionType::kBlockIp,    ActionType::kRateLimit,      ActionType::kIsolateHost,
          ActionType::kAlertAdmin, ActionType::kRestartService, ActionType::kLogOnly};
}

Result<std::vector<ActionType>> ParseActionTypes(const std::vector<std::string>& names) {
  std::vector<ActionType> out;
  for (const std::string& name : names) {
    const std::optional<ActionType> a = ParseActionType(name);
    if (!a) {
      return Status::Validation("unknown action '" + name + "'",
                                "use block_ip, rate_limit, isolate_host, alert_admin, restart_service or log_only");
    }
    out.push_back(*a);
  }
  return out;
}

void AcceptedDecisions::Add(const std::vector<Enforcement>& items) {
  for (const Enforcement& e : items) by_id_.insert_or_assign(e.decision_id, e);
}

void AcceptedDecisions::Remove(const std::vector<Enforcement>& items) {
  for (const Enforcement& e : items) by_id_.erase(e.decision_id);
}

void AcceptedDecisions::Reset(const std::vector<Enforcement>& items) {
  by_id_.clear();
  Add(items);
}

std::vector<Enforcement> AcceptedDecisions::All() const {
  std::vector<Enforcement> out;
  out.reserve(by_id_.size());
  for (const auto& [id, e] : by_id_) out.push_back(e);
  return out;
}

}  // namespace threatd::healing
