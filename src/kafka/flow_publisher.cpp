#include "kafka/flow_publisher.h"

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "ingest/test_stream.h"

namespace threatd::kafka {
namespace {

// Settles a batch's `done` once every queued message reported.
struct BatchWait {
  std::function<void(const pipeline::BatchResult&)> done;
  std::atomic<size_t> remaining;
  std::mutex mu;
  Status first_error;  // guarded by mu

  BatchWait(std::function<void(const pipeline::BatchResult&)> d, size_t n) : done(std::move(d)), remaining(n) {}

  void Settle(size_t n, const Status& outcome) {
    if (!outcome.ok()) {
      std::lock_guard lock(mu);
      if (first_error.ok()) first_error = outcome;
    }
    if (remaining.fetch_sub(n) != n) return;
    pipeline::BatchResult result;
    {
      std::lock_guard lock(mu);
      result.status = first_error;
    }
    done(result);
  }
};

}  // namespace

nlohmann::json FlowEnvelope(const flow::FlowRecord& flow) { return ingest::FlowJson(flow); }

FlowPublisher::FlowPublisher(Publisher& publisher, std::string topic)
    : publisher_(publisher), topic_(std::move(topic)) {}

Status FlowPublisher::Publish(pipeline::FlowBatch batch) {
  const size_t n = batch.flows.size();
  // One extra count held by this call, released at the end, so `done` cannot
  // run before every message was attempted.
  std::shared_ptr<BatchWait> wait;
  if (batch.done) wait = std::make_shared<BatchWait>(std::move(batch.done), n + 1);
  size_t refused = 0;
  Status first_refusal;
  for (const auto& flow : batch.flows) {
    const std::string value = FlowEnvelope(flow).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    Publisher::DeliveryCallback cb;
    if (wait) cb = [wait](const Status& outcome) { wait->Settle(1, outcome); };
    Status s = publisher_.Publish(topic_, flow.ids.src_ip, value, {}, std::move(cb));
    if (!s.ok()) {
      if (first_refusal.ok()) first_refusal = s;
      ++refused;
    }
  }
  if (wait) wait->Settle(refused + 1, first_refusal);
  if (refused == 0) return Status::Ok();
  return Status::Unavailable(
      fmt::format("{} of {} flows were not queued for Kafka topic '{}': {}", refused, n, topic_, first_refusal.message()),
      first_refusal.hint());
}

}  // namespace threatd::kafka
