// The Kafka publishers against the real broker (CTest fixture `kafka`):
// predictions of a real pipeline arrive on their topic keyed by source
// address (and a redelivered batch is not published twice), self-healing
// decisions of a real Healer arrive keyed by target with their event, and
// the test stream goes through the internal topic (send-single returns once
// its flow is in the topic).
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "healing/healer.h"
#include "ingest/source_states.h"
#include "ingest/test_stream.h"
#include "ingest/whitelist_matcher.h"
#include "integration/healing/recording_backend.h"
#include "integration/kafka/topic_reader.h"
#include "kafka/decision_publisher.h"
#include "kafka/flow_publisher.h"
#include "kafka/prediction_publisher.h"
#include "kafka/publisher.h"
#include "pipeline/pipeline.h"
#include "realtime/messages.h"
#include "sim/flow_generator.h"
#include "storage/database.h"
#include "support/eventually.h"
#include "support/kafka_test_broker.h"
#include "support/shipped_models.h"

namespace threatd::kafka {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::KafkaTestBroker;
using testing::ReadTopic;
using testing::ScopedKafkaTopic;
using testing::UniqueKafkaName;

using threatd::testing::ShippedModelProvider;
using threatd::testing::SourceDir;

class KafkaPublishersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = KafkaTestBroker::FromFixture();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_.emplace(std::move(broker).value());
    ClusterSettings cluster;
    cluster.bootstrap_servers = broker_->bootstrap();
    auto p = Publisher::Create(cluster, PublisherOptions{.name = "test"}, Clock::System(), registry_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    publisher_ = std::move(p).value();
    publisher_->Start();
    storage::StorageOptions so;
    so.url = "sqlite::memory:";
    auto db = storage::OpenDatabase(so, registry_, Clock::System());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate().ok());
  }

  ScopedKafkaTopic Topic(const std::string& prefix, int partitions) {
    auto t = ScopedKafkaTopic::Create(*broker_, UniqueKafkaName(prefix), partitions);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(t).value();
  }

  // `n` synthetic flows (half attacks) from the shipped traffic profile.
  std::vector<flow::FlowRecord> Flows(size_t n) {
    auto profile = ingest::LoadTrafficProfile(SourceDir());
    EXPECT_TRUE(profile.ok()) << profile.status().ToString();
    sim::GeneratorOptions o;
    o.seed = 7;
    o.mix = {{"BENIGN", 0.5}, {"DDoS", 0.5}};
    auto gen = sim::FlowGenerator::Create(*profile, o);
    EXPECT_TRUE(gen.ok()) << gen.status().ToString();
    std::vector<flow::FlowRecord> flows;
    for (size_t i = 0; i < n; ++i) flows.push_back(gen->Next());
    return flows;
  }

  metrics::Registry registry_;
  std::optional<KafkaTestBroker> broker_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<storage::Database> db_;
};

pipeline::BatchResult SubmitAndWait(pipeline::Pipeline& pipe, pipeline::FlowBatch batch) {
  auto done = std::make_shared<std::promise<pipeline::BatchResult>>();
  auto result = done->get_future();
  batch.done = [done](const pipeline::BatchResult& r) { done->set_value(r); };
  EXPECT_TRUE(pipe.Submit(std::move(batch)).ok());
  EXPECT_EQ(result.wait_for(seconds(60)), std::future_status::ready);
  return result.get();
}

TEST_F(KafkaPublishersTest, EveryStoredPredictionArrivesKeyedBySourceAddressAndARedeliveryIsNotPublishedAgain) {
  auto topic = Topic("predictions", 3);
  PredictionPublisher predictions(*publisher_, topic.name());
  ShippedModelProvider models;
  pipeline::Pipeline pipe({.queue_capacity = 4, .workers = 1}, models, db_->Traffic(), Clock::System(), registry_);
  pipe.AddObserver(&predictions);

  constexpr size_t kFlows = 60;
  pipeline::FlowBatch batch;
  batch.source = "realtime";
  batch.flows = Flows(kFlows);
  batch.flows[5].ids.src_ip.clear();  // a flow without a source address: no key
  for (size_t i = 0; i < kFlows; ++i) batch.kafka.push_back(storage::KafkaPosition{"flows", 0, static_cast<int64_t>(i)});
  pipeline::FlowBatch again = batch;
  const auto first = SubmitAndWait(pipe, std::move(batch));
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  ASSERT_EQ(first.stored, kFlows);
  ASSERT_GT(first.attacks, 0u);
  // The same Kafka positions again (a consumer redelivery): stored as duplicates, not published.
  const auto second = SubmitAndWait(pipe, std::move(again));
  ASSERT_EQ(second.duplicates, kFlows);
  pipe.Stop();
  ASSERT_TRUE(publisher_->Flush(seconds(30)).ok());

  auto messages = ReadTopic(broker_->bootstrap(), topic.name(), 3, kFlows + 1, seconds(5));  // waits for one too many
  ASSERT_EQ(messages.size(), kFlows) << "exactly one message per stored flow";
  std::set<int64_t> traffic_ids;
  std::map<std::string, std::set<int32_t>> partitions_of_key;
  size_t attacks = 0;
  for (const auto& m : messages) {
    const json v = json::parse(m.value);
    // The WebSocket `prediction` data shape.
    for (const char* field : {"timestamp", "traffic_data_id", "source", "batch_id", "src_ip", "dst_ip",
                              "threat_prediction", "attack_prediction", "self_healing_action"})
      EXPECT_TRUE(v.contains(field)) << field << " missing in " << m.value;
    EXPECT_EQ(v["source"], "realtime");
    traffic_ids.insert(v["traffic_data_id"].get<int64_t>());
    if (v["src_ip"].is_null()) {
      EXPECT_FALSE(m.has_key) << "no source address, no key";
    } else {
      EXPECT_TRUE(m.has_key);
      EXPECT_EQ(m.key, v["src_ip"].get<std::string>());
      partitions_of_key[m.key].insert(m.partition);
    }
    ASSERT_TRUE(v["threat_prediction"].is_object());
    if (v["threat_prediction"]["is_attack"].get<bool>()) ++attacks;
  }
  EXPECT_EQ(traffic_ids.size(), kFlows);
  EXPECT_EQ(attacks, first.attacks);
  for (const auto& [key, parts] : partitions_of_key) EXPECT_EQ(parts.size(), 1u) << "key " << key << " in several partitions";
  EXPECT_EQ(predictions.HealthCheck()["published"], kFlows);
  EXPECT_EQ(publisher_->Stats().delivered, kFlows);
}

TEST_F(KafkaPublishersTest, SelfHealingDecisionsArriveKeyedByTargetWithTheirEvent) {
  auto topic = Topic("actions", 3);
  DecisionPublisher decisions(*publisher_, topic.name());
  FakeClock clock;
  ingest::WhitelistMatcher whitelist(db_->Whitelist(), clock);
  ASSERT_TRUE(whitelist.Start().ok());
  healing::Healer healer({}, db_->Decisions(), whitelist, std::make_unique<healing::RecordingBackend>(), clock,
                         registry_, [&](std::string_view type, const json& data) { decisions.Publish(type, data); });
  ASSERT_TRUE(healer.Start().ok());

  auto blocked = healer.Create({.target = "203.0.113.7", .duration = seconds(600), .reason = "test"});
  ASSERT_TRUE(blocked.ok()) << blocked.status().ToString();
  auto limited = healer.Create(
      {.target = "198.51.100.0/24", .action = healing::ActionType::kRateLimit, .reason = "test", .rate_per_second = 5});
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  ASSERT_TRUE(healer.Revoke(blocked->id, "tester", "false positive").ok());
  clock.Advance(seconds(3601));  // the rate limit's default duration passes
  ASSERT_TRUE(testing::Eventually([&] { return decisions.HealthCheck()["published"] == 4; }))
      << decisions.HealthCheck().dump();
  healer.Stop();
  ASSERT_TRUE(publisher_->Flush(seconds(30)).ok());

  auto messages = ReadTopic(broker_->bootstrap(), topic.name(), 3, 4, seconds(20));
  ASSERT_EQ(messages.size(), 4u);
  std::map<std::string, std::vector<std::string>> events_of_target;  // in partition (= per-key) order
  std::sort(messages.begin(), messages.end(),
            [](const auto& a, const auto& b) { return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset); });
  for (const auto& m : messages) {
    const json v = json::parse(m.value);
    EXPECT_EQ(m.key, v["target"].get<std::string>());
    EXPECT_EQ(m.headers.at("event"), v["event"].get<std::string>());
    EXPECT_EQ(m.headers.at("decision_id"), std::to_string(v["id"].get<int64_t>()));
    EXPECT_EQ(v["mode"], "enforce");
    events_of_target[m.key].push_back(v["event"]);
  }
  EXPECT_EQ(events_of_target["203.0.113.7"], (std::vector<std::string>{"applied", "revoked"}));
  EXPECT_EQ(events_of_target["198.51.100.0/24"], (std::vector<std::string>{"applied", "expired"}));
}

TEST_F(KafkaPublishersTest, TestStreamGoesThroughTheInternalTopicAndSendSingleReturnsOnceDelivered) {
  auto topic = Topic("network-traffic", 3);
  FlowPublisher flows(*publisher_, topic.name());
  ingest::SourceStates sources(*db_, Clock::System());
  ASSERT_TRUE(sources.Start().ok());
  auto profile = ingest::LoadTrafficProfile(SourceDir());
  ASSERT_TRUE(profile.ok());
  ingest::TestStream stream([&](pipeline::FlowBatch b) { return flows.Publish(std::move(b)); }, *profile, sources,
                            Clock::System());

  ASSERT_TRUE(stream.Start({.count = 300, .rate = 5000, .model_type = "threat_detection"}).ok());
  ASSERT_TRUE(testing::Eventually([&] { return !stream.Snapshot().running; }, seconds(30)));
  ASSERT_EQ(stream.Snapshot().sent, 300u) << stream.Snapshot().last_error.value_or("");
  // The stream queues its flows and goes on (it does not wait for the
  // brokers); wait for their acknowledgements before the send-single check.
  auto in_topic = [&] {
    auto high = broker_->HighWatermarks(topic.name(), 3);
    EXPECT_TRUE(high.ok());
    int64_t total = 0;
    if (high.ok())
      for (int64_t h : *high) total += h;
    return total;
  };
  ASSERT_TRUE(testing::Eventually([&] { return publisher_->Stats().delivered == 300u; }, seconds(30)));
  ASSERT_EQ(in_topic(), 300);

  auto single = stream.SendSingle("attack_classification");
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  // Returned once delivered: the single flow is in the topic now.
  EXPECT_EQ(in_topic(), 301);

  auto messages = ReadTopic(broker_->bootstrap(), topic.name(), 3, 301, seconds(20));
  ASSERT_EQ(messages.size(), 301u);
  bool found_single = false;
  for (const auto& m : messages) {
    const json v = json::parse(m.value);
    ASSERT_TRUE(v["features"].is_object()) << m.value;
    EXPECT_GT(v["features"].size(), 40u) << "the envelope carries the flow's features by canonical name";
    EXPECT_EQ(m.key, v["src_ip"].get<std::string>());
    if (v["flow_id"] == single->flow.ids.flow_id && v["src_ip"] == single->flow.ids.src_ip) found_single = true;
  }
  EXPECT_TRUE(found_single);
  EXPECT_EQ(publisher_->Stats().delivered, 301u);
}

}  // namespace
}  // namespace threatd::kafka
