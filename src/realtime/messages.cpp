#include "realtime/messages.h"

namespace threatd::realtime {
namespace {

using nlohmann::json;

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

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
  return json{{"timestamp", FormatIso8601(f.created_at)},
              {"traffic_data_id", ids.traffic_data_id},
              {"source", batch.source},
              {"batch_id", batch.batch_id ? json(*batch.batch_id) : json(nullptr)},
              {"src_ip", OrNull(f.ids.src_ip)},
              {"dst_ip", OrNull(f.ids.dst_ip)},
              {"threat_prediction", std::move(threat)},
              {"attack_prediction", std::move(attack)},
              // Decisions come later, as `action` messages (healing::Healer).
              {"self_healing_action", nullptr}};
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
