// Test helpers for the real Apache Kafka broker of the `kafka` CTest fixture
// (scripts/kafka-test-server.sh, tests/integration/kafka/CMakeLists.txt).
//
//   auto broker = KafkaTestBroker::FromFixture();          // reads the bootstrap file
//   ASSERT_TRUE(broker.ok()) << broker.status().ToString(); // says why the broker is missing
//   auto topic = ScopedKafkaTopic::Create(*broker, UniqueKafkaName("flows"), 3);
//   auto producer = KafkaTestProducer::Create(broker->bootstrap());
//   producer->Produce(topic->name(), {.key = "k", .value = "v", .headers = {{"h", "1"}}});
//   ASSERT_TRUE(producer->Flush().ok());
//
// KafkaTestBroker owns a librdkafka admin client (CreateTopics/DeleteTopics);
// ScopedKafkaTopic deletes its topic when destroyed; KafkaTestProducer owns a
// librdkafka producer and counts delivery reports. All are move-only RAII
// owners of their librdkafka handle.
//
// Errors: every operation returns a Status saying what failed and what to do
// (e.g. "run through ctest (fixture 'kafka')"); nothing throws.
// Thread-safety: one thread per object (librdkafka itself is thread-safe, but
// the delivery bookkeeping is only served from Flush()/Produce()).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

struct rd_kafka_s;  // rd_kafka_t of <librdkafka/rdkafka.h>

namespace threatd::testing {

// The bootstrap address ("127.0.0.1:PORT") written by the `kafka` fixture to
// `file`. When it is missing the Status carries the start script's error
// (<dir>/error) or says how to start the broker.
Result<std::string> ReadKafkaBootstrap(const std::string& file);

// The fixture's bootstrap file (THREATD_TEST_KAFKA_BOOTSTRAP_FILE).
std::string KafkaBootstrapFile();

// A topic or group name unique across processes and calls: "<prefix>-<pid>-<n>-<random>".
std::string UniqueKafkaName(std::string_view prefix);

struct RdKafkaDeleter {
  void operator()(rd_kafka_s* rk) const;
};
using RdKafkaHandle = std::unique_ptr<rd_kafka_s, RdKafkaDeleter>;

class KafkaTestBroker {
 public:
  // An admin client for `bootstrap`.
  static Result<KafkaTestBroker> Connect(std::string bootstrap);
  // Connect() to the broker of the `kafka` CTest fixture.
  static Result<KafkaTestBroker> FromFixture();

  const std::string& bootstrap() const { return bootstrap_; }

  // Creates `name` with `partitions` partitions (replication factor 1) and
  // waits until every partition has a leader in the broker's metadata.
  Status CreateTopic(const std::string& name, int partitions,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Deletes `name`; NotFound when it does not exist.
  Status DeleteTopic(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The high watermark (next offset) of every partition of `topic`, by partition.
  Result<std::vector<int64_t>> HighWatermarks(const std::string& topic, int partitions,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

  rd_kafka_s* handle() const { return admin_.get(); }

 private:
  KafkaTestBroker(std::string bootstrap, RdKafkaHandle admin)
      : bootstrap_(std::move(bootstrap)), admin_(std::move(admin)) {}
  std::string bootstrap_;
  RdKafkaHandle admin_;
};

// A topic deleted (best effort) when this object is destroyed. Keeps a
// pointer to the broker, which must outlive it.
class ScopedKafkaTopic {
 public:
  static Result<ScopedKafkaTopic> Create(KafkaTestBroker& broker, std::string name, int partitions);
  ScopedKafkaTopic(ScopedKafkaTopic&& other) noexcept
      : broker_(std::exchange(other.broker_, nullptr)), name_(std::move(other.name_)), partitions_(other.partitions_) {}
  ScopedKafkaTopic& operator=(ScopedKafkaTopic&&) = delete;
  ScopedKafkaTopic(const ScopedKafkaTopic&) = delete;
  ~ScopedKafkaTopic();

  const std::string& name() const { return name_; }
  int partitions() const { return partitions_; }

 private:
  ScopedKafkaTopic(KafkaTestBroker* broker, std::string name, int partitions)
      : broker_(broker), name_(std::move(name)), partitions_(partitions) {}
  KafkaTestBroker* broker_;
  std::string name_;
  int partitions_;
};

struct KafkaTestMessage {
  std::string key;    // empty: no key (librdkafka then spreads messages over partitions)
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int32_t partition = -1;  // -1: chosen by the partitioner from the key
};

class KafkaTestProducer {
 public:
  // A producer (acks=all) for `bootstrap`; `config` adds or overrides
  // librdkafka properties.
  static Result<KafkaTestProducer> Create(const std::string& bootstrap,
                                          const std::map<std::string, std::string>& config = {});
  KafkaTestProducer(KafkaTestProducer&&) noexcept;
  KafkaTestProducer& operator=(KafkaTestProducer&&) noexcept;
  ~KafkaTestProducer();

  // Queues one message (waits for room when the local queue is full).
  Status Produce(const std::string& topic, const KafkaTestMessage& message);
  // Waits until every queued message was acknowledged; an error when one
  // failed (the first failure's reason) or the timeout passed.
  Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  int64_t delivered() const;
  int64_t failed() const;

 private:
  struct State;
  KafkaTestProducer(std::unique_ptr<State> state, RdKafkaHandle rk);
  std::unique_ptr<State> state_;  // before rk_: the handle's callbacks point into it
  RdKafkaHandle rk_;
};

}  // namespace threatd::testing
