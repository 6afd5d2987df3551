// KafkaOutputs: everything `threatd serve` writes to Kafka, built from the
// kafka section when kafka.bootstrap_servers is set - one idempotent
// Publisher for the internal cluster, shared by
//   - PredictionPublisher (a pipeline observer) -> kafka.topic_predictions
//   - DecisionPublisher (the Healer's publish callback) -> kafka.topic_actions
//   - FlowPublisher (the test stream's sink) -> kafka.topic_realtime
// An empty topic name turns that output off (predictions()/the decision
// sink then do nothing; FlowSink() is null without topic_realtime).
//
// Ownership: owns the publisher and the three outputs. The service removes
// nothing from the pipeline: Stop() runs after the pipeline has stopped.
// Thread-safety: as the parts; Start/Stop from one thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "config/options.h"
#include "kafka/decision_publisher.h"
#include "kafka/flow_publisher.h"
#include "kafka/prediction_publisher.h"
#include "kafka/publisher.h"

namespace threatd::kafka {

class KafkaOutputs {
 public:
  using FlowSink = std::function<Status(pipeline::FlowBatch)>;

  // InvalidArgument for bad Kafka settings (named); no network I/O.
  static Result<std::unique_ptr<KafkaOutputs>> Create(const config::KafkaSection& kafka, Clock& clock,
                                                      metrics::Registry& registry);

  // Starts the publisher's poll thread; never blocks on the brokers.
  void Start();
  // Flushes for up to `flush_timeout`, then stops (what is left fails, counted).
  void Stop(std::chrono::milliseconds flush_timeout = std::chrono::seconds(5));

  // The predictions observer, or null when topic_predictions is empty.
  pipeline::PipelineObserver* predictions() { return predictions_.get(); }
  // The Healer's publish callback target (no-op when topic_actions is empty).
  void PublishDecision(std::string_view type, const nlohmann::json& data);
  // The test stream's sink to topic_realtime, or null when it is empty.
  FlowSink Flows();

  // {"status", "producer": {...}, "predictions": {...}|null, "actions": {...}|null, "test_stream_topic"}
  nlohmann::json HealthCheck() const;

 private:
  KafkaOutputs() = default;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<PredictionPublisher> predictions_;
  std::unique_ptr<DecisionPublisher> decisions_;
  std::unique_ptr<FlowPublisher> flows_;
};

}  // namespace threatd::kafka
