// FlowConsumer: one Kafka topic of flow messages -> the pipeline, on a
// thread of its own. Used twice by the service: the internal topic (source
// "realtime", flag internal_kafka) and the external providers' topic (source
// "external_kafka", flag external_kafka, senders must be whitelisted).
//
//   librdkafka group consumer (no auto commit, no auto offset store)
//     -> ParseFlowMessage (flow_message.h) -> batch of up to
//        batch_max_messages / batch_wait -> Submit(FlowBatch with one
//        KafkaPosition per flow) -> pipeline -> `done`
//     -> offsets committed only from `done` with an ok status, in order:
//        never past a batch that has not finished (at-least-once).
//   Poison (bad JSON, no features) and refused senders go to `<topic>.dlq`
//   with headers (error, error_kind, original_topic, original_partition,
//   original_offset, sender, consumer_group); their offsets are committed
//   with their batch once the dead letter is acknowledged (or finally
//   failed, counted): never a retry loop on a poison message.
//   A failed batch (storage down, no model) is kept and resubmitted with
//   backoff (1 s -> 60 s, jitter) while the partitions are paused; nothing
//   is committed past it, nothing is lost. Redeliveries (after a crash or a
//   rebalance) are deduplicated by the storage's UNIQUE Kafka position.
//
// Never blocks the caller on the broker: Start() only validates the settings
// and starts the thread; the consumer is created there (lazily, when the
// source is enabled) and librdkafka reconnects by itself. A fatal client
// error recreates the consumer after backoff.
// Source flag: disabled -> the assigned partitions are paused within
// ~100 ms (in-flight batches still finish and commit); enabled -> resumed.
// Rebalance (revoke): the open batch is submitted, in-flight batches are
// awaited up to Options::revoke_wait and committed; the rest is dropped
// (its redelivery is deduplicated).
//
// Ownership: references the submit function's target, the flags, whitelist,
// clock and registry; all must outlive the consumer (Stop()
// before destroying them). Thread-safety: Start/Stop from one owner thread;
// Snapshot/HealthCheck from any thread (a copy under a mutex, never blocks on
// the broker).
// Errors: Start() returns InvalidArgument for bad settings (a typo in a
// librdkafka property); everything at run time is reported through the
// snapshot (state, last_error) and metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "config/options.h"
#include "kafka/client.h"
#include "pipeline/pipeline.h"

namespace threatd::ingest {
class SourceStates;
class WhitelistMatcher;
}  // namespace threatd::ingest

namespace threatd::kafka {

enum class ConsumerState { kDisabled, kConnecting, kRunning, kDegraded, kError };
std::string_view ToString(ConsumerState state);

struct FlowConsumerOptions {
  std::string name = "internal";      // health key and log prefix: internal | external
  std::string source = "realtime";    // FlowBatch::source (traffic_data.source)
  std::string flag;                   // SourceStates name gating this consumer; "" = always on
  ClusterSettings cluster;
  std::string topic;
  std::string group_id;
  std::string auto_offset_reset = "earliest";  // where a new group starts
  std::string dlq_topic;                       // "" = topic + ".dlq"
  bool require_whitelisted_sender = false;     // external providers
  // Features (canonical names or aliases) every message must name, else it
  // is dead-lettered. Empty (default): absent features are NaN and take the
  // models' default branches, as the original's 42-feature payloads need.
  std::vector<std::string> required_features;
  size_t batch_max_messages = 5000;
  std::chrono::milliseconds batch_wait{10};
  // librdkafka's queued.max.messages.kbytes. Its 2.0 fetcher stops when the
  // queue reaches this and resumes only at its next wake-up, up to a second
  // later: below ~1 s of messages the consumer starves while draining a
  // backlog (64 MB: ~45k flows/s; 256 MB: ~100k, docs/benchmarks.md).
  size_t fetch_queue_kbytes = 262'144;
  size_t max_batches_in_flight = 16;           // submitted, not yet committed
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds degraded_window{10000};  // an error this recent -> degraded
  std::chrono::milliseconds slow_broker_rtt{1000};   // broker round trip above this -> degraded
  std::chrono::milliseconds stats_interval{1000};
  std::chrono::milliseconds metadata_interval{30000};  // cluster view for /health
  std::chrono::milliseconds revoke_wait{10000};
  std::chrono::milliseconds stop_wait{30000};
  Properties consumer_properties;  // extra librdkafka properties (override ours)
  Properties producer_properties;  // for the dead-letter producer
};

// The service's two consumers from the kafka settings.
FlowConsumerOptions InternalConsumerOptions(const config::KafkaSection& kafka);
FlowConsumerOptions ExternalConsumerOptions(const config::KafkaSection& kafka);

struct PartitionStatus {
  int32_t partition = 0;
  int64_t committed = -1;  // next offset of this group (-1: nothing committed by us yet)
  int64_t lag = -1;        // messages behind the high watermark (-1: unknown yet)
};

struct ConsumerSnapshot {
  ConsumerState state = ConsumerState::kDisabled;
  std::string detail;  // why degraded/error/connecting
  std::string topic;
  std::string group_id;
  std::string bootstrap_servers;
  std::vector<PartitionStatus> partitions;  // assigned to this instance
  std::optional<std::string> last_error;
  std::optional<Clock::WallTime> last_error_at;
  std::optional<Clock::WallTime> last_message_at;
  double messages_per_second = 0;  // over the last ~10 s
  uint64_t messages = 0;           // consumed (flows + dead-lettered)
  uint64_t flows_stored = 0;       // new rows
  uint64_t duplicates = 0;         // redelivered, already stored
  uint64_t dead_lettered = 0;      // poison + refused
  uint64_t refused = 0;            // sender not whitelisted / missing
  uint64_t dead_letter_failures = 0;
  uint64_t batches_failed = 0;     // pipeline failures (each retried)
  uint64_t commits = 0;
  size_t batches_in_flight = 0;
  // The cluster as last seen (metadata, refreshed every metadata_interval).
  int brokers_up = -1;             // from client statistics; -1 = unknown yet
  int broker_count = -1;           // from metadata; -1 = not fetched yet
  std::vector<std::string> cluster_topics;
  std::optional<Clock::WallTime> metadata_at;
};

class FlowConsumer {
 public:
  using SubmitFn = std::function<Status(pipeline::FlowBatch)>;

  // `flags` may be null (always enabled); `whitelist` is required when
  // options.require_whitelisted_sender.
  FlowConsumer(FlowConsumerOptions options, SubmitFn submit, ingest::SourceStates* flags,
               const ingest::WhitelistMatcher* whitelist, Clock& clock, metrics::Registry& registry);
  ~FlowConsumer();  // Stop()
  FlowConsumer(const FlowConsumer&) = delete;
  FlowConsumer& operator=(const FlowConsumer&) = delete;

  // Validates the settings and starts the thread; never contacts the broker.
  Status Start();
  // Submits the open batch, waits for in-flight batches (stop_wait), commits,
  // closes the client. Idempotent.
  void Stop();

  ConsumerSnapshot Snapshot() const;
  // {"status": ok|degraded|disabled|error, "state", "topic", "group_id",
  //  "partitions": [{partition, committed, lag}], "last_error", ...}
  nlohmann::json HealthCheck() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The "kafka" health check from a consumer's cached cluster view (never
// blocks): {"status", "broker_count", "bootstrap_servers", "topics"}.
nlohmann::json ClusterHealth(const ConsumerSnapshot& snapshot);

}  // namespace threatd::kafka
