// The real Kafka test broker (CTest fixture `kafka`) and the test helpers of
// support/kafka_test_broker.h: topics with several partitions, keyed produce
// with headers, consumer groups with manual commits after processing, and
// where a new group starts. This is the ground the Kafka ingestion tests stand
// on, so it checks the broker semantics they will rely on.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/kafka_test_broker.h"

namespace threatd::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Consumed {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// A high-level (group) consumer that stores an offset only after the message
// was processed and commits synchronously when asked.
class GroupConsumer {
 public:
  GroupConsumer(const std::string& bootstrap, const std::string& group, const std::string& topic,
                const std::string& offset_reset = "earliest") {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const std::map<std::string, std::string> config = {
        {"bootstrap.servers", bootstrap}, {"group.id", group},
        {"auto.offset.reset", offset_reset}, {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"}, {"session.timeout.ms", "10000"}};
    for (const auto& [name, value] : config) {
      if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        ADD_FAILURE() << name << ": " << err;
      }
    }
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      ADD_FAILURE() << "consumer: " << err;
      return;
    }
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t code = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    EXPECT_EQ(code, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(code);
  }
  GroupConsumer(const GroupConsumer&) = delete;
  GroupConsumer& operator=(const GroupConsumer&) = delete;
  ~GroupConsumer() { Close(); }

  bool ok() const { return rk_ != nullptr; }

  // The next message, or nullopt when none arrived within `timeout`.
  // Consumer errors other than end-of-partition fail the test.
  std::optional<Consumed> Poll(milliseconds timeout) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, static_cast<int>(timeout.count()));
    if (m == nullptr) return std::nullopt;
    std::optional<Consumed> out;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Consumed c;
      c.partition = m->partition;
      c.offset = m->offset;
      if (m->key != nullptr) c.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) c.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          c.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      out = std::move(c);
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ADD_FAILURE() << "consumer error: " << rd_kafka_message_errstr(m);
    }
    rd_kafka_message_destroy(m);
    return out;
  }

  // Marks `message` processed: its offset + 1 is what the next Commit() commits.
  void Processed(const std::string& topic, const Consumed& message) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), message.partition)->offset = message.offset + 1;
    const rd_kafka_resp_err_t code = rd_kafka_offsets_store(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    EXPECT_EQ(code, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(code);
  }

  // Synchronously commits the stored offsets.
  void Commit() {
    const rd_kafka_resp_err_t code = rd_kafka_commit(rk_, nullptr, /*async=*/0);
    EXPECT_TRUE(code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__NO_OFFSET) << rd_kafka_err2str(code);
  }

  // The group's committed offset of each partition (as the broker has it).
  std::vector<int64_t> Committed(const std::string& topic, int partitions) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    const rd_kafka_resp_err_t code = rd_kafka_committed(rk_, list, 10000);
    EXPECT_EQ(code, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(code);
    std::vector<int64_t> offsets(static_cast<size_t>(partitions), -1);
    for (int i = 0; i < list->cnt; ++i) {
      offsets[static_cast<size_t>(list->elems[i].partition)] = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return offsets;
  }

  void Close() {
    if (rk_ == nullptr) return;
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
};

// Polls until `done` says so or `timeout` passes (consumer_poll blocks, so no sleeps).
bool ConsumeUntil(GroupConsumer& consumer, const std::function<bool(const Consumed&)>& handle,
                  const std::function<bool()>& done, milliseconds timeout = seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (auto m = consumer.Poll(milliseconds(200))) {
      if (!handle(*m)) return false;
    }
  }
  return true;
}

class KafkaBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No broker is a failure, not a skip: the fixture must have started it.
    auto bootstrap = ReadKafkaBootstrap(THREATD_TEST_KAFKA_BOOTSTRAP_FILE);
    ASSERT_TRUE(bootstrap.ok()) << bootstrap.status().ToString();
    auto broker = KafkaTestBroker::Connect(*bootstrap);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_.emplace(std::move(broker).value());
  }

  std::optional<KafkaTestBroker> broker_;
};

TEST_F(KafkaBrokerTest, KeyedMessagesAreConsumedOnceAndCommittedOffsetsHold) {
  constexpr int kPartitions = 3;
  constexpr int kMessages = 1000;
  constexpr int kKeys = 37;
  auto created = ScopedKafkaTopic::Create(*broker_, UniqueKafkaName("broker-test-flows"), kPartitions);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const ScopedKafkaTopic& topic = *created;
  auto made = KafkaTestProducer::Create(broker_->bootstrap());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  KafkaTestProducer& producer = *made;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(producer
                    .Produce(topic.name(), {.key = "key-" + std::to_string(i % kKeys),
                                            .value = "flow-" + std::to_string(i),
                                            .headers = {{"seq", std::to_string(i)}, {"origin", "kafka_broker_test"}}})
                    .ok());
  }
  const Status flushed = producer.Flush();
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ(producer.delivered(), kMessages);
  auto high = broker_->HighWatermarks(topic.name(), kPartitions);
  ASSERT_TRUE(high.ok()) << high.status().ToString();
  int64_t total = 0;
  for (int64_t h : *high) total += h;
  EXPECT_EQ(total, kMessages);

  // One member of a new group consumes everything, committing after each batch of 100 processed messages.
  const std::string group = UniqueKafkaName("broker-test-group");
  std::vector<int> seen(kMessages, 0);
  std::map<std::string, int32_t> partition_of_key;
  std::map<std::string, int> last_seq_of_key;
  std::set<int32_t> partitions_used;
  int processed = 0;
  {
    GroupConsumer consumer(broker_->bootstrap(), group, topic.name());
    ASSERT_TRUE(consumer.ok());
    const bool all = ConsumeUntil(
        consumer,
        [&](const Consumed& m) {
          const int seq = std::stoi(m.headers.at("seq"));
          EXPECT_GE(seq, 0);
          EXPECT_LT(seq, kMessages);
          if (seq < 0 || seq >= kMessages) return false;
          ++seen[static_cast<size_t>(seq)];
          EXPECT_EQ(m.value, "flow-" + std::to_string(seq));
          EXPECT_EQ(m.key, "key-" + std::to_string(seq % kKeys));
          EXPECT_EQ(m.headers.at("origin"), "kafka_broker_test");
          // Same key, same partition, in produce order.
          auto [it, fresh] = partition_of_key.emplace(m.key, m.partition);
          EXPECT_EQ(it->second, m.partition) << m.key;
          if (!fresh) {
            EXPECT_GT(seq, last_seq_of_key[m.key]) << m.key;
          }
          last_seq_of_key[m.key] = seq;
          partitions_used.insert(m.partition);
          consumer.Processed(topic.name(), m);
          if (++processed % 100 == 0) consumer.Commit();
          return true;
        },
        [&] { return processed >= kMessages; });
    ASSERT_TRUE(all) << "consumed " << processed << " of " << kMessages;
    consumer.Commit();
    EXPECT_EQ(consumer.Committed(topic.name(), kPartitions), *high);
  }
  for (int seq = 0; seq < kMessages; ++seq) EXPECT_EQ(seen[static_cast<size_t>(seq)], 1) << "seq " << seq;
  EXPECT_EQ(partitions_used.size(), static_cast<size_t>(kPartitions)) << "37 keys should spread over 3 partitions";

  // A marker after the committed offset of every partition: a new member of
  // the same group must get exactly the markers. Anything it got before a
  // partition's marker would be a redelivery of committed messages (order
  // within a partition is guaranteed), so this needs no quiet-period wait.
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_TRUE(producer.Produce(topic.name(), {.key = "marker", .value = "marker-" + std::to_string(p),
                                                .headers = {{"marker", "1"}}, .partition = p})
                    .ok());
  }
  ASSERT_TRUE(producer.Flush().ok());
  GroupConsumer again(broker_->bootstrap(), group, topic.name());
  ASSERT_TRUE(again.ok());
  std::set<int32_t> markers;
  const bool got_markers = ConsumeUntil(
      again,
      [&](const Consumed& m) {
        EXPECT_EQ(m.headers.count("marker"), 1U) << "redelivered committed message at " << m.partition << "/" << m.offset;
        if (m.headers.count("marker") == 0) return false;
        EXPECT_EQ(m.value, "marker-" + std::to_string(m.partition));
        EXPECT_EQ(m.offset, (*high)[static_cast<size_t>(m.partition)]);
        markers.insert(m.partition);
        return true;
      },
      [&] { return markers.size() == static_cast<size_t>(kPartitions); });
  EXPECT_TRUE(got_markers) << "got markers of " << markers.size() << " partitions";
}

TEST_F(KafkaBrokerTest, NewGroupWithEarliestResetReadsFromTheBeginning) {
  constexpr int kPartitions = 2;
  constexpr int kMessages = 200;
  auto created = ScopedKafkaTopic::Create(*broker_, UniqueKafkaName("broker-test-earliest"), kPartitions);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const ScopedKafkaTopic& topic = *created;
  auto made = KafkaTestProducer::Create(broker_->bootstrap());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  KafkaTestProducer& producer = *made;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(producer.Produce(topic.name(), {.key = "k" + std::to_string(i), .value = std::to_string(i)}).ok());
  }
  ASSERT_TRUE(producer.Flush().ok());

  // Reads every message of the topic with a brand-new group; returns the
  // values and the first offset seen in each partition.
  auto read_all = [&](const std::string& group, std::map<int32_t, int64_t>& first_offset) {
    std::multiset<std::string> values;
    GroupConsumer consumer(broker_->bootstrap(), group, topic.name(), "earliest");
    EXPECT_TRUE(consumer.ok());
    if (!consumer.ok()) return values;
    const bool all = ConsumeUntil(
        consumer,
        [&](const Consumed& m) {
          values.insert(m.value);
          first_offset.emplace(m.partition, m.offset);
          consumer.Processed(topic.name(), m);
          return true;
        },
        [&] { return values.size() >= static_cast<size_t>(kMessages); });
    EXPECT_TRUE(all) << group << " consumed " << values.size() << " of " << kMessages;
    consumer.Commit();
    return values;
  };

  std::multiset<std::string> expected;
  for (int i = 0; i < kMessages; ++i) expected.insert(std::to_string(i));
  std::map<int32_t, int64_t> first_a;
  EXPECT_EQ(read_all(UniqueKafkaName("broker-test-a"), first_a), expected);
  // A second new group is not affected by the first one's commits: it also starts at offset 0.
  std::map<int32_t, int64_t> first_b;
  EXPECT_EQ(read_all(UniqueKafkaName("broker-test-b"), first_b), expected);
  EXPECT_EQ(first_b.size(), static_cast<size_t>(kPartitions));
  for (const auto& [partition, offset] : first_b) EXPECT_EQ(offset, 0) << "partition " << partition;
}

}  // namespace
}  // namespace threatd::testing
