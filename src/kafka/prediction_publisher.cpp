#include "kafka/prediction_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "realtime/messages.h"

namespace threatd::kafka {

PredictionPublisher::PredictionPublisher(Publisher& publisher, std::string topic)
    : publisher_(publisher), topic_(std::move(topic)) {}

void PredictionPublisher::OnStored(const storage::ScoredFlowBatch& batch,
                                   const std::vector<storage::StoredFlowIds>& ids) {
  const size_t n = std::min(batch.flows.size(), ids.size());
  uint64_t published = 0;
  uint64_t dropped = 0;
  try {
    for (size_t i = 0; i < n; ++i) {
      if (ids[i].duplicate) continue;  // stored (and published) before
      const std::string value = realtime::PredictionData(batch, i, ids[i]);
      if (publisher_.Publish(topic_, batch.flows[i].ids.src_ip, value).ok()) {
        ++published;
      } else {
        ++dropped;
      }
    }
  } catch (const std::exception& e) {  // never into the pipeline thread
    spdlog::error("kafka: publishing predictions of a batch of {} flows failed: {}", n, e.what());
  }
  published_ += published;
  dropped_ += dropped;
}

nlohmann::json PredictionPublisher::HealthCheck() const {
  return {{"topic", topic_}, {"published", published_.load()}, {"dropped", dropped_.load()}};
}

}  // namespace threatd::kafka
