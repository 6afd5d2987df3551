// PredictionPublisher: a PipelineObserver that publishes every stored flow's
// prediction to a topic (kafka.topic_predictions) so a SIEM can consume it.
//
//   key:   the flow's source address (src_ip; no key when it has none), so
//          every prediction about one source lands in one partition, in order
//   value: the `data` object of the WebSocket `prediction` message
//          (realtime::PredictionData - one builder for both)
//
// Flows the pipeline recognised as duplicates (a Kafka redelivery) are not
// published again. A message the producer refuses (queue full, broker down)
// is dropped and counted; the pipeline never waits for Kafka.
//
// Ownership: references the Publisher, which must outlive it (remove it from
// the pipeline before the publisher stops).
// Thread-safety: OnStored may run on several pipeline workers at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafka/publisher.h"
#include "pipeline/pipeline.h"

namespace threatd::kafka {

class PredictionPublisher final : public pipeline::PipelineObserver {
 public:
  PredictionPublisher(Publisher& publisher, std::string topic);

  void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) override;

  // {"topic", "published", "dropped"}
  nlohmann::json HealthCheck() const;

 private:
  Publisher& publisher_;
  const std::string topic_;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace threatd::kafka
