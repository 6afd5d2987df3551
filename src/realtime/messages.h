// Messages of /ws/realtime, formatted once as JSON text (original system
// shapes, inventory §1.3, with ISO-8601 'Z' timestamps):
//
//   {"type":"prediction","timestamp":iso,"data":{timestamp, traffic_data_id,
//     source, batch_id, src_ip, dst_ip, threat_prediction|null,
//     attack_prediction|null, self_healing_action|null}}
//   {"type":"action","timestamp":iso,"data":{id, action_type, action_description,
//     action_params, status, traffic_data_id, target}}
//   {"type":<type>,"timestamp":iso,"data":<data>}      (stats_update, batch_progress, ...)
//   connected, pong, ping, error.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "storage/traffic_records.h"

namespace threatd::realtime {

// The `data` object of a prediction message for batch.flows[index], as JSON
// text (also the value of the Kafka `predictions` topic).
std::string PredictionData(const storage::ScoredFlowBatch& batch, size_t index, const storage::StoredFlowIds& ids);

// {"type":type,"timestamp":timestamp,"data":data}; `type` and `timestamp`
// (FormatIso8601, once for a batch of messages) must need no escaping,
// `data_json` is JSON text.
std::string EnvelopeText(std::string_view type, std::string_view data_json, std::string_view timestamp);
std::string Envelope(std::string_view type, const nlohmann::json& data, Clock::WallTime now);

std::string ConnectedMessage(size_t connections, Clock::WallTime now);
std::string PongMessage(Clock::WallTime now);
std::string PingMessage(Clock::WallTime now);
std::string ErrorMessage(std::string_view message);

}  // namespace threatd::realtime
