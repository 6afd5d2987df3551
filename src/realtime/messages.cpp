#include "realtime/messages.h"

namespace threatd::realtime {
namespace {

using nlohmann::json;

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json ActionParams(const storage::NewAction& a) {
  if (!a.action_params_json) return json::object();
  json params = json::parse(*a.action_params_json, nullptr, /*allow_exceptions=*/false);
  return params.is_discarded() ? json(*a.action_params_json) : params;
}

json ActionObject(const storage::NewAction& a, int64_t id) {
  return json{{"id", id},
              {"action_type", a.action_type},
              {"action_description", a.action_description},
              {"action_params", ActionParams(a)},
              {"status", a.status}};
}

}  // namespace

json PredictionData(const storage::ScoredFlowBatch& batch, size_t index, const storage::StoredFlowIds& ids) {
  const storage::NewScoredFlow& f = batch.flows[index];
  json threat = nullptr;
  if (ids.threat_prediction_id != 0) {
    threat = json{{"id", ids.threat_prediction_id},
                  {"prediction_score", f.threat.prediction_score},
                  {"is_attack", f.threat.is_attack},
                  {"threshold", f.threat.threshold},
                  {"model_version", f.threat.model_version}};
  }
  json attack = nullptr;
  if (f.attack && ids.attack_prediction_id != 0) {
    attack = json{{"id", ids.attack_prediction_id},
                  {"attack_type_encoded", f.attack->attack_type_encoded},
                  {"attack_type_name", f.attack->attack_type_name},
                  {"confidence", f.attack->confidence ? json(*f.attack->confidence) : json(nullptr)},
                  {"model_version", f.attack->model_version}};
  }
  json action = nullptr;
  if (f.action && ids.action_id != 0) action = ActionObject(*f.action, ids.action_id);
  return json{{"timestamp", FormatIso8601(f.created_at)},
              {"traffic_data_id", ids.traffic_data_id},
              {"source", batch.source},
              {"batch_id", batch.batch_id ? json(*batch.batch_id) : json(nullptr)},
              {"src_ip", OrNull(f.ids.src_ip)},
              {"dst_ip", OrNull(f.ids.dst_ip)},
              {"threat_prediction", std::move(threat)},
              {"attack_prediction", std::move(attack)},
              {"self_healing_action", std::move(action)}};
}

std::optional<json> ActionData(const storage::ScoredFlowBatch& batch, size_t index, const storage::StoredFlowIds& ids) {
  const storage::NewScoredFlow& f = batch.flows[index];
  if (!f.action || ids.action_id == 0) return std::nullopt;
  json data = ActionObject(*f.action, ids.action_id);
  data["traffic_data_id"] = ids.traffic_data_id;
  const json& params = data["action_params"];
  if (params.is_object() && params.contains("source_ip")) {
    data["target"] = params["source_ip"];
  } else {
    data["target"] = OrNull(f.ids.src_ip);
  }
  return data;
}

std::string Envelope(std::string_view type, const json& data, Clock::WallTime now) {
  return json{{"type", type}, {"timestamp", FormatIso8601(now)}, {"data", data}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string ConnectedMessage(size_t connections, Clock::WallTime now) {
  return json{{"type", "connected"},
              {"message", "Connected to AI Threat Detection System"},
              {"connections", connections},
              {"timestamp", FormatIso8601(now)}}
      .dump();
}

std::string PongMessage(Clock::WallTime now) { return json{{"type", "pong"}, {"timestamp", FormatIso8601(now)}}.dump(); }

std::string PingMessage(Clock::WallTime now) { return json{{"type", "ping"}, {"timestamp", FormatIso8601(now)}}.dump(); }

std::string ErrorMessage(std::string_view message) {
  return json{{"type", "error"}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace threatd::realtime
