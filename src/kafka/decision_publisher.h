// DecisionPublisher: publishes every self-healing decision event the Healer
// emits (its Publisher callback: type "action", the decision JSON with
// "event": applied | failed | revoked | expired ...) to a topic
// (kafka.topic_actions, "self-healing-actions"), so remote enforcement
// agents (`threatd agent`) and a SIEM can consume them.
//
//   key:     the decision's target (address or CIDR; no key when empty), so
//            every event about one target lands in one partition, in order
//   value:   healing::DecisionToJson(...) plus "event"
//   headers: event=<event>, decision_id=<id>
//
// Messages of other types are ignored. A message the producer refuses is
// dropped and counted; the Healer never waits for Kafka.
//
// Ownership: references the Publisher, which must outlive it.
// Thread-safety: Publish may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kafka/publisher.h"

namespace threatd::kafka {

class DecisionPublisher {
 public:
  DecisionPublisher(Publisher& publisher, std::string topic);

  // The Healer's Publisher signature: (type, data).
  void Publish(std::string_view type, const nlohmann::json& data);

  // {"topic", "published", "dropped"}
  nlohmann::json HealthCheck() const;

 private:
  Publisher& publisher_;
  const std::string topic_;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace threatd::kafka
