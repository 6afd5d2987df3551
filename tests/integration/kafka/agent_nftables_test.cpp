// `threatd agent` end to end with the real nftables backend and real
// packets: decisions published to the real broker (CTest fixture `kafka`)
// are enforced in the kernel of a throw-away network namespace "fw"
// (tests/support/netns.h) and lifted again; a restarted agent converges.
// Needs root; without it the test FAILS saying so - it is never skipped.
//
// The agent itself (its librdkafka threads) stays in the host's namespace,
// where the broker is; only the backend's calls run on a thread inside "fw".
#include <gtest/gtest.h>

#include <optional>

#include "healing/nftables_backend.h"
#include "kafka/agent.h"
#include "kafka/decision_publisher.h"
#include "kafka/publisher.h"
#include "support/eventually.h"
#include "support/kafka_test_broker.h"
#include "support/netns.h"

namespace threatd::kafka {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::Eventually;
using testing::NsThread;

// Runs every call of an EnforcementBackend on a thread inside a namespace.
class InNamespace final : public healing::EnforcementBackend {
 public:
  InNamespace(NsThread& ns, std::unique_ptr<healing::EnforcementBackend> backend)
      : ns_(ns), backend_(std::move(backend)) {}
  ~InNamespace() override {
    ns_.Run([this] { backend_.reset(); });
  }
  std::string_view Name() const override { return backend_->Name(); }
  bool Supports(healing::ActionType a) const override { return backend_->Supports(a); }
  Status Start() override { return ns_.Run([&] { return backend_->Start(); }); }
  Status Apply(const std::vector<healing::Enforcement>& items,
               std::vector<std::pair<int64_t, std::string>>* failed) override {
    return ns_.Run([&] { return backend_->Apply(items, failed); });
  }
  Status Remove(const std::vector<healing::Enforcement>& items) override {
    return ns_.Run([&] { return backend_->Remove(items); });
  }
  Status Reconcile(const std::vector<healing::Enforcement>& active) override {
    return ns_.Run([&] { return backend_->Reconcile(active); });
  }
  Result<healing::Drift> Measure(const std::vector<healing::Enforcement>& active) override {
    return ns_.Run([&] { return backend_->Measure(active); });
  }
  Status Shutdown(bool cleanup) override { return ns_.Run([&] { return backend_->Shutdown(cleanup); }); }
  nlohmann::json Health() const override { return backend_->Health(); }

 private:
  NsThread& ns_;
  std::unique_ptr<healing::EnforcementBackend> backend_;
};

class AgentNftablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::NetnsUnavailableReason(); !why.empty()) FAIL() << why;
    auto broker = testing::KafkaTestBroker::FromFixture();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_.emplace(std::move(broker).value());
    auto topic = testing::ScopedKafkaTopic::Create(*broker_, testing::UniqueKafkaName("self-healing-actions"), 2);
    ASSERT_TRUE(topic.ok()) << topic.status().ToString();
    topic_.emplace(std::move(topic).value());
    ClusterSettings cluster;
    cluster.bootstrap_servers = broker_->bootstrap();
    auto p = Publisher::Create(cluster, PublisherOptions{.name = "test"}, Clock::System(), registry_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    publisher_ = std::move(p).value();
    publisher_->Start();
    decisions_ = std::make_unique<DecisionPublisher>(*publisher_, topic_->name());

    auto pair = testing::VethPair::Create("agent");
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    net_ = std::move(*pair);
    fw_ = std::make_unique<NsThread>(net_->fw());
    peer_ = std::make_unique<NsThread>(net_->peer());
    ASSERT_EQ(fw_->error(), "");
    ASSERT_EQ(peer_->error(), "");
    auto listener = fw_->Run([] { return testing::TcpListener::Open(); });
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(*listener);
    ASSERT_TRUE(Eventually([&] { return Passes("10.99.0.2") && Passes("10.99.0.3"); }))
        << "no traffic between the namespaces before any rule";
  }

  void TearDown() override {
    agent_.reset();
    listener_.reset();
    fw_.reset();
    peer_.reset();
    net_.reset();
  }

  void StartAgent() {
    AgentOptions o;
    o.cluster.bootstrap_servers = broker_->bootstrap();
    o.topic = topic_->name();
    o.group_id = group_;
    auto backend = std::make_unique<InNamespace>(*fw_, std::make_unique<healing::NftablesBackend>(healing::NftablesOptions{}));
    agent_ = std::make_unique<Agent>(std::move(o), std::move(backend), Clock::System(), registry_);
    Status s = agent_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(Eventually([&] { return agent_->Stats().caught_up; }, seconds(60))) << agent_->HealthCheck().dump();
  }

  void Publish(int64_t id, const std::string& event, const std::string& target) {
    decisions_->Publish("action", {{"id", id}, {"event", event}, {"status", event}, {"target", target},
                                   {"mode", "enforce"}, {"action_type", "block_ip"}, {"action_params", json::object()},
                                   {"expires_at", FormatIso8601(Clock::System().Now() + seconds(600))}});
    ASSERT_TRUE(publisher_->Flush(seconds(30)).ok());
  }

  bool Passes(const std::string& source, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    const uint16_t port = listener_->port();
    return peer_->Run([&] { return testing::TcpConnects(source, "10.99.0.1", port, timeout); });
  }
  bool Blocked(const std::string& source) { return !Passes(source, std::chrono::milliseconds(300)); }

  metrics::Registry registry_;
  std::optional<testing::KafkaTestBroker> broker_;
  std::optional<testing::ScopedKafkaTopic> topic_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<DecisionPublisher> decisions_;
  std::unique_ptr<testing::VethPair> net_;
  std::unique_ptr<NsThread> fw_;
  std::unique_ptr<NsThread> peer_;
  std::unique_ptr<testing::TcpListener> listener_;
  std::unique_ptr<Agent> agent_;
  std::string group_ = testing::UniqueKafkaName("threatd-agent-nft");
};

TEST_F(AgentNftablesTest, PublishedDecisionsBlockAndUnblockRealTrafficAndARestartConverges) {
  StartAgent();
  Publish(1, "applied", "10.99.0.2");
  ASSERT_TRUE(Eventually([&] { return Blocked("10.99.0.2"); }, seconds(30)));
  EXPECT_TRUE(Passes("10.99.0.3")) << "only the target is blocked";

  agent_->Stop();  // the kernel keeps enforcing while the agent is down
  EXPECT_TRUE(Blocked("10.99.0.2"));
  Publish(1, "revoked", "10.99.0.2");
  Publish(2, "applied", "10.99.0.3");
  StartAgent();  // replays: 1 lifted, 2 in force -> one reconcile
  EXPECT_TRUE(Eventually([&] { return Passes("10.99.0.2"); }, seconds(30)));
  EXPECT_TRUE(Eventually([&] { return Blocked("10.99.0.3"); }, seconds(30)));

  Publish(2, "revoked", "10.99.0.3");
  EXPECT_TRUE(Eventually([&] { return Passes("10.99.0.3"); }, seconds(30)));
}

}  // namespace
}  // namespace threatd::kafka
