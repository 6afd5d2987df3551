#include "healing/decision_json.h"

#include <chrono>

namespace threatd::healing {

using nlohmann::json;

namespace {

template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json OptTime(const std::optional<Clock::WallTime>& t) { return t ? json(FormatIso8601(*t)) : json(nullptr); }

bool InForce(const storage::Decision& d, Clock::WallTime now) {
  return (d.status == "pending" || d.status == "applied") && (!d.expires_at || *d.expires_at > now);
}

}  // namespace

json DecisionToJson(const storage::Decision& d, Clock::WallTime now) {
  json params = json::object();
  if (d.action_params_json) {
    params = json::parse(*d.action_params_json, nullptr, /*allow_exceptions=*/false);
    if (params.is_discarded()) params = json(*d.action_params_json);
  }
  json j = {{"id", d.id},
            {"attack_prediction_id", Opt(d.attack_prediction_id)},
            {"created_at", FormatIso8601(d.created_at)},
            {"updated_at", FormatIso8601(d.updated_at)},
            {"action_type", d.action_type},
            {"action_description", d.action_description},
            {"action_params", params},
            {"status", d.status},
            {"execution_time", OptTime(d.execution_time)},
            {"error_message", Opt(d.error_message)},
            {"target", d.target},
            {"origin", d.origin},
            {"mode", d.mode},
            {"rule", Opt(d.rule)},
            {"attack_class", Opt(d.attack_class)},
            {"confidence", Opt(d.confidence)},
            {"model_version", Opt(d.model_version)},
            {"trigger_flow_ids", d.trigger_flow_ids},
            {"detections", d.detections},
            {"escalation_level", d.escalation_level},
            {"duration_seconds", Opt(d.duration_seconds)},
            {"expires_at", OptTime(d.expires_at)},
            {"created_by", Opt(d.created_by)},
            {"in_force", InForce(d, now)}};
  if (InForce(d, now) && d.expires_at) {
    j["time_left_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(*d.expires_at - now).count();
  } else {
    j["time_left_seconds"] = nullptr;
  }
  if (!d.history.empty()) {
    json h = json::array();
    for (const auto& e : d.history) {
      h.push_back({{"at", FormatIso8601(e.at)}, {"status", e.status}, {"message", e.message}, {"actor", Opt(e.actor)}});
    }
    j["history"] = std::move(h);
  }
  return j;
}

}  // namespace threatd::healing
