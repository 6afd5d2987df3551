#include "kafka/decision_publisher.h"

#include <spdlog/spdlog.h>

namespace threatd::kafka {

DecisionPublisher::DecisionPublisher(Publisher& publisher, std::string topic)
    : publisher_(publisher), topic_(std::move(topic)) {}

void DecisionPublisher::Publish(std::string_view type, const nlohmann::json& data) {
  if (type != "action" || !data.is_object()) return;
  try {
    const std::string target = data.value("target", std::string());
    Headers headers;
    if (data.contains("event") && data["event"].is_string()) headers.emplace_back("event", data["event"].get<std::string>());
    if (data.contains("id") && data["id"].is_number_integer())
      headers.emplace_back("decision_id", std::to_string(data["id"].get<int64_t>()));
    const std::string value = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (publisher_.Publish(topic_, target, value, headers).ok()) {
      ++published_;
    } else {
      ++dropped_;
    }
  } catch (const std::exception& e) {  // never into the Healer
    ++dropped_;
    spdlog::error("kafka: publishing a self-healing decision failed: {}", e.what());
  }
}

nlohmann::json DecisionPublisher::HealthCheck() const {
  return {{"topic", topic_}, {"published", published_.load()}, {"dropped", dropped_.load()}};
}

}  // namespace threatd::kafka
