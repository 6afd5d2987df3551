// `threatd agent`'s core (kafka::Agent) against the real broker (CTest
// fixture `kafka`), with a recording enforcement backend: decisions
// published before the agent starts are replayed and reconciled in one go,
// live decisions are enforced and lifted as they arrive, and a restarted
// agent converges to exactly the decisions in force.
#include "kafka/agent.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "integration/healing/recording_backend.h"
#include "kafka/decision_publisher.h"
#include "kafka/publisher.h"
#include "support/eventually.h"
#include "support/kafka_test_broker.h"

namespace threatd::kafka {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::Eventually;
using testing::KafkaTestBroker;
using testing::ScopedKafkaTopic;
using testing::UniqueKafkaName;

class KafkaAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = KafkaTestBroker::FromFixture();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_.emplace(std::move(broker).value());
    auto topic = ScopedKafkaTopic::Create(*broker_, UniqueKafkaName("self-healing-actions"), 3);
    ASSERT_TRUE(topic.ok()) << topic.status().ToString();
    topic_.emplace(std::move(topic).value());
    auto p = Publisher::Create(Cluster(), PublisherOptions{.name = "test"}, Clock::System(), registry_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    publisher_ = std::move(p).value();
    publisher_->Start();
    decisions_ = std::make_unique<DecisionPublisher>(*publisher_, topic_->name());
    group_ = UniqueKafkaName("threatd-agent-test");
  }

  ClusterSettings Cluster() const {
    ClusterSettings c;
    c.bootstrap_servers = broker_->bootstrap();
    return c;
  }

  // Publishes one decision event as the Healer emits it and waits for the broker's ack.
  void Publish(int64_t id, const std::string& event, const std::string& target, std::optional<seconds> expires_in,
               const std::string& mode = "enforce") {
    json d = {{"id", id}, {"event", event}, {"status", event}, {"target", target}, {"mode", mode},
              {"action_type", "block_ip"}, {"action_params", json::object()}};
    d["expires_at"] = expires_in ? json(FormatIso8601(Clock::System().Now() + *expires_in)) : json(nullptr);
    decisions_->Publish("action", d);
    ASSERT_TRUE(publisher_->Flush(seconds(30)).ok());
  }

  // Starts an agent on the test topic with a fresh recording backend.
  std::unique_ptr<Agent> StartAgent(healing::RecordingBackend** backend) {
    auto b = std::make_unique<healing::RecordingBackend>();
    *backend = b.get();
    AgentOptions o;
    o.cluster = Cluster();
    o.topic = topic_->name();
    o.group_id = group_;
    auto agent = std::make_unique<Agent>(std::move(o), std::move(b), Clock::System(), registry_);
    EXPECT_TRUE(agent->Start().ok());
    return agent;
  }

  metrics::Registry registry_;
  std::optional<KafkaTestBroker> broker_;
  std::optional<ScopedKafkaTopic> topic_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<DecisionPublisher> decisions_;
  std::string group_;
};

TEST_F(KafkaAgentTest, ReplaysConvergesEnforcesLiveDecisionsAndConvergesAgainAfterARestart) {
  // History before the agent exists.
  Publish(1, "applied", "203.0.113.1", seconds(600));
  Publish(2, "applied", "203.0.113.2", seconds(600));
  Publish(2, "revoked", "203.0.113.2", seconds(600));
  Publish(3, "applied", "203.0.113.3", seconds(600), "simulate");
  Publish(4, "applied", "203.0.113.4", seconds(-60));  // already expired
  Publish(5, "applied", "198.51.100.0/24", std::nullopt);

  healing::RecordingBackend* backend = nullptr;
  auto agent = StartAgent(&backend);
  ASSERT_TRUE(Eventually([&] { return agent->Stats().caught_up; }, seconds(60))) << agent->HealthCheck().dump();
  EXPECT_EQ(backend->Targets(), (std::set<std::string>{"block_ip 203.0.113.1", "block_ip 198.51.100.0/24"}));
  EXPECT_EQ(backend->reconciles, 1);
  EXPECT_EQ(backend->applies, 0) << "the replay is installed by one Reconcile, not event by event";
  EXPECT_EQ(agent->Stats().skipped_simulate, 1u);
  EXPECT_EQ(agent->Stats().skipped_expired, 1u);
  EXPECT_EQ(agent->HealthCheck()["status"], "ok");

  // Live: a new block, a lift, and a short decision that expires on its own.
  Publish(6, "applied", "203.0.113.6", seconds(600));
  ASSERT_TRUE(Eventually([&] { return backend->Targets().count("block_ip 203.0.113.6") == 1; }, seconds(30)));
  Publish(1, "revoked", "203.0.113.1", seconds(600));
  ASSERT_TRUE(Eventually([&] { return backend->Targets().count("block_ip 203.0.113.1") == 0; }, seconds(30)));
  Publish(7, "applied", "203.0.113.7", seconds(2));
  ASSERT_TRUE(Eventually([&] { return backend->Targets().count("block_ip 203.0.113.7") == 1; }, seconds(30)));
  ASSERT_TRUE(Eventually([&] { return backend->Targets().count("block_ip 203.0.113.7") == 0; }, seconds(30)))
      << "expires_at passed: lifted locally";
  agent->Stop();

  // Decisions made while the agent is down.
  Publish(8, "applied", "203.0.113.8", seconds(600));
  Publish(5, "expired", "198.51.100.0/24", std::nullopt);

  healing::RecordingBackend* restarted = nullptr;
  auto again = StartAgent(&restarted);
  ASSERT_TRUE(Eventually([&] { return again->Stats().caught_up; }, seconds(60))) << again->HealthCheck().dump();
  EXPECT_EQ(restarted->Targets(), (std::set<std::string>{"block_ip 203.0.113.6", "block_ip 203.0.113.8"}))
      << "a restarted agent converges to exactly the decisions in force";
  EXPECT_EQ(restarted->reconciles, 1);
  EXPECT_EQ(again->HealthCheck()["assigned_partitions"].size(), 3u);
}

TEST_F(KafkaAgentTest, StartsWithoutABrokerAndReportsIt) {
  auto b = std::make_unique<healing::RecordingBackend>();
  AgentOptions o;
  o.cluster.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  o.topic = topic_->name();
  o.group_id = group_;
  Agent agent(std::move(o), std::move(b), Clock::System(), registry_);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(agent.Start().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2)) << "Start does not wait for the brokers";
  ASSERT_TRUE(Eventually([&] { return !agent.HealthCheck()["last_error"].is_null(); }, seconds(30)));
  EXPECT_EQ(agent.HealthCheck()["status"], "starting");
  EXPECT_FALSE(agent.Stats().caught_up) << "no replay, no reconcile: nothing is lifted while the topic is unreachable";
  agent.Stop();
}

}  // namespace
}  // namespace threatd::kafka
