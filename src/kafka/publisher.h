// Publisher: threatd's one Kafka producer per cluster, shared by everything
// that writes to Kafka (predictions, self-healing decisions, the test stream).
//
//   Publish(topic, key, value, headers) -> librdkafka's bounded local queue
//   (queue.buffering.max.messages = PublisherOptions::queue_messages)
//   -> idempotent producer (enable.idempotence, acks=all, compression,
//   linger) -> broker; delivery reports are served by a poll thread.
//
// Publish NEVER blocks the caller: when the local queue is full (broker down
// or slower than the producers) the message is dropped and counted, and
// Publish returns Unavailable (retryable). Create/Start never wait for the
// broker either: librdkafka connects in the background and keeps retrying;
// undelivered messages fail after delivery_timeout (counted as failed).
//
// Counters (published = accepted into the queue, delivered, failed, dropped)
// are exported as threatd_kafka_producer_*_total{producer=<name>} and in
// HealthCheck().
//
// Ownership: owns the librdkafka handle and the poll thread. A per-message
// DeliveryCallback is owned by the publisher until it has been called (once,
// from the poll thread or from Stop()'s final flush; never for a message
// Publish refused).
// Thread-safety: every method is thread-safe. Stop() waits up to its timeout
// for queued messages; what is still queued after it is counted as failed.
// Errors: Create fails with InvalidArgument for a bad setting (named);
// Publish returns Unavailable when the queue is full or the publisher is
// stopped, InvalidArgument for a message librdkafka refuses (too large).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "kafka/client.h"

namespace threatd::kafka {

struct PublisherOptions {
  std::string name = "threatd";                        // client.id suffix and the metrics label
  int queue_messages = 100'000;                        // kafka.producer_queue
  std::string compression = "lz4";                     // none | gzip | snappy | lz4 | zstd
  std::chrono::milliseconds linger{50};                // kafka.producer_linger: batching delay
  std::chrono::milliseconds delivery_timeout{120'000};  // a message not acknowledged by then fails
  Properties extra;                                    // further librdkafka properties (tests, tuning)
};

struct PublisherStats {
  uint64_t published = 0;  // accepted into the local queue
  uint64_t delivered = 0;  // acknowledged by the broker (acks=all)
  uint64_t failed = 0;     // delivery failed (timeout, broker error, still queued at Stop)
  uint64_t dropped = 0;    // refused by Publish (queue full, stopped, too large)
  uint64_t queued = 0;     // in librdkafka's queue now (not yet acknowledged)
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Publisher {
 public:
  // Outcome of one message: Ok when delivered, else why it failed.
  using DeliveryCallback = std::function<void(const Status&)>;

  // Builds the producer (no network I/O yet); InvalidArgument for a bad
  // setting.
  static Result<std::unique_ptr<Publisher>> Create(const ClusterSettings& cluster, PublisherOptions options,
                                                   Clock& clock, metrics::Registry& registry);
  ~Publisher();  // Stop(0)
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Starts the poll thread (delivery reports, errors). Never blocks on the broker.
  void Start();
  // Queues one message; never blocks. An empty key is sent without a key.
  // `on_delivery` (optional) is called once with the delivery outcome, only
  // when Publish returned Ok.
  Status Publish(std::string_view topic, std::string_view key, std::string_view value, const Headers& headers = {},
                 DeliveryCallback on_delivery = nullptr);
  // Waits up to `timeout` for the queued messages; Timeout when some remain.
  Status Flush(std::chrono::milliseconds timeout);
  // Refuses new messages, flushes up to `flush_timeout`, stops the poll
  // thread; messages still queued fail (callbacks get Unavailable). Idempotent.
  void Stop(std::chrono::milliseconds flush_timeout = std::chrono::seconds(5));

  PublisherStats Stats() const;
  // {"status": ok|degraded|error|disabled (stopped), "stopped", "producer", "brokers", "published",
  //  "delivered", "failed", "dropped", "queued", "queue_capacity",
  //  "last_error", "last_error_at", "last_delivery_at"}
  nlohmann::json HealthCheck() const;

  struct Impl;  // librdkafka callbacks reach it; defined in publisher.cpp

 private:
  explicit Publisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::kafka
