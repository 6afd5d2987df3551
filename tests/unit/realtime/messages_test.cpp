// The text of a `prediction` message, as WebSocket clients and the Kafka
// `predictions` topic receive it: written by hand for speed, so its exact
// bytes are pinned here (numbers in their shortest form, absent values null).
#include "realtime/messages.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace threatd::realtime {
namespace {

using std::chrono::milliseconds;

Clock::WallTime At(int64_t ms) { return Clock::WallTime(milliseconds(ms)); }

storage::ScoredFlowBatch Batch() {
  storage::ScoredFlowBatch b;
  b.source = "realtime";
  storage::NewScoredFlow attack;
  attack.ids.src_ip = "10.0.0.7";
  attack.ids.dst_ip = "192.168.1.10";
  attack.created_at = At(1795513422123);
  attack.threat = {.prediction_score = 0.9375, .is_attack = true, .threshold = 0.5, .model_version = "threat-v3"};
  attack.attack = storage::NewAttackPrediction{
      .attack_type_encoded = 4, .attack_type_name = "DoS Hulk", .confidence = 0.1, .model_version = "attack-v2"};
  b.flows.push_back(attack);
  storage::NewScoredFlow benign;
  benign.created_at = At(1795513422124);
  benign.threat = {.prediction_score = std::numeric_limits<double>::quiet_NaN(), .is_attack = false,
                   .threshold = 0.25, .model_version = "threat-v3"};
  b.flows.push_back(benign);
  return b;
}

TEST(RealtimeMessagesTest, APredictionIsWrittenWithEveryFieldInOrder) {
  const auto batch = Batch();
  EXPECT_EQ(PredictionData(batch, 0, {.traffic_data_id = 41, .threat_prediction_id = 41, .attack_prediction_id = 41}),
            R"({"timestamp":"2026-11-24T09:43:42.123Z","traffic_data_id":41,"source":"realtime","batch_id":null,)"
            R"("src_ip":"10.0.0.7","dst_ip":"192.168.1.10","threat_prediction":{"id":41,"prediction_score":0.9375,)"
            R"("is_attack":true,"threshold":0.5,"model_version":"threat-v3"},"attack_prediction":{"id":41,)"
            R"("attack_type_encoded":4,"attack_type_name":"DoS Hulk","confidence":0.1,"model_version":"attack-v2"},)"
            R"("self_healing_action":null})");
}

TEST(RealtimeMessagesTest, AbsentValuesAndANonFiniteScoreAreNull) {
  const auto batch = Batch();
  EXPECT_EQ(PredictionData(batch, 1, {.traffic_data_id = 9007199254740993, .threat_prediction_id = 9007199254740993}),
            R"({"timestamp":"2026-11-24T09:43:42.124Z","traffic_data_id":9007199254740993,"source":"realtime",)"
            R"("batch_id":null,"src_ip":null,"dst_ip":null,"threat_prediction":{"id":9007199254740993,)"
            R"("prediction_score":null,"is_attack":false,"threshold":0.25,"model_version":"threat-v3"},)"
            R"("attack_prediction":null,"self_healing_action":null})");
}

TEST(RealtimeMessagesTest, TheEnvelopeCarriesTheBatchTimestampAndTheDataAsIs) {
  const auto batch = Batch();
  const std::string data = PredictionData(batch, 0, {.traffic_data_id = 1, .threat_prediction_id = 1});
  const std::string text = EnvelopeText("prediction", data, FormatIso8601(At(1795513423000)));
  EXPECT_EQ(text, R"({"type":"prediction","timestamp":"2026-11-24T09:43:43.000Z","data":)" + data + "}");
  const auto parsed = nlohmann::json::parse(text);
  EXPECT_EQ(parsed["data"]["attack_prediction"], nullptr);  // no attack prediction id: not stored as one
  EXPECT_EQ(parsed["data"]["threat_prediction"]["prediction_score"], 0.9375);
}

}  // namespace
}  // namespace threatd::realtime
