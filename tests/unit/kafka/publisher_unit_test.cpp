// Publisher without a real broker: against an unreachable address it never
// blocks, drops (and counts) what does not fit its queue, and fails what is
// left at Stop; against librdkafka's mock cluster it delivers and reports
// each delivery. And DestroyWithin, which every client's stop goes through.
#include "kafka/publisher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "kafka/client.h"
#include "support/eventually.h"

namespace threatd::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

ClusterSettings Cluster(std::string bootstrap) {
  ClusterSettings c;
  c.bootstrap_servers = std::move(bootstrap);
  return c;
}

TEST(PublisherTest, BrokerUnreachablePublishNeverBlocksAndDropsAreCountedOnceTheQueueIsFull) {
  metrics::Registry registry;
  PublisherOptions o;
  o.name = "dead";
  o.queue_messages = 10;
  // 127.0.0.1:1 refuses connections: nothing can ever be delivered.
  auto p = Publisher::Create(Cluster("127.0.0.1:1"), o, Clock::System(), registry);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  (*p)->Start();
  std::atomic<int> callbacks{0};
  std::atomic<int> callback_errors{0};
  const auto start = steady_clock::now();
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < 25; ++i) {
    Status s = (*p)->Publish("predictions", "10.0.0.1", "{\"n\":" + std::to_string(i) + "}", {{"h", "v"}},
                             [&](const Status& outcome) {
                               ++callbacks;
                               if (!outcome.ok()) ++callback_errors;
                             });
    if (s.ok()) {
      ++accepted;
    } else {
      ++refused;
      EXPECT_TRUE(s.retryable()) << s.ToString();
    }
  }
  // Generous: a blocking producer would wait for the broker (seconds to minutes).
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(refused, 15);
  auto stats = (*p)->Stats();
  EXPECT_EQ(stats.published, 10u);
  EXPECT_EQ(stats.dropped, 15u);
  EXPECT_EQ(stats.delivered, 0u);
  EXPECT_EQ(registry.GetCounter("threatd_kafka_producer_dropped_total", "", {{"producer", "dead"}}).Value(), 15u);
  EXPECT_EQ((*p)->HealthCheck()["dropped"], 15);

  (*p)->Stop(milliseconds(100));
  EXPECT_EQ(callbacks.load(), 10) << "every accepted message is settled exactly once";
  EXPECT_EQ(callback_errors.load(), 10);
  EXPECT_EQ((*p)->Stats().failed, 10u);
  EXPECT_FALSE((*p)->Publish("predictions", "", "{}").ok()) << "a stopped publisher refuses";
  EXPECT_EQ((*p)->HealthCheck()["status"], "disabled");
  EXPECT_EQ((*p)->HealthCheck()["stopped"], true);
}

TEST(PublisherTest, CreateNeverTouchesTheNetworkAndRejectsBadSettingsByName) {
  metrics::Registry registry;
  PublisherOptions o;
  o.compression = "brotli";
  auto p = Publisher::Create(Cluster("127.0.0.1:1"), o, Clock::System(), registry);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("compression.codec"), std::string::npos) << p.status().ToString();
  auto none = Publisher::Create(Cluster(""), PublisherOptions{}, Clock::System(), registry);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("bootstrap_servers"), std::string::npos);
  for (const auto linger : {milliseconds(-1), milliseconds(900'001)}) {
    PublisherOptions slow;
    slow.linger = linger;
    auto bad = Publisher::Create(Cluster("127.0.0.1:1"), slow, Clock::System(), registry);
    ASSERT_FALSE(bad.ok()) << linger.count();
    EXPECT_NE(bad.status().message().find("kafka.producer_linger"), std::string::npos) << bad.status().ToString();
  }
}

TEST(PublisherTest, MockClusterDeliversAndReportsEachMessage) {
  metrics::Registry registry;
  PublisherOptions o;
  o.name = "mock";
  o.extra = {{"test.mock.num.brokers", "1"}};
  auto p = Publisher::Create(Cluster("mock:9092"), o, Clock::System(), registry);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  (*p)->Start();
  std::mutex mu;
  std::vector<Status> outcomes;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE((*p)->Publish("decisions", "203.0.113.7", "{}", {}, [&](const Status& s) {
      std::lock_guard lock(mu);
      outcomes.push_back(s);
    }).ok());
  }
  ASSERT_TRUE(testing::Eventually([&] { return (*p)->Stats().delivered == 50; }, std::chrono::seconds(30)))
      << (*p)->HealthCheck().dump();
  std::lock_guard lock(mu);
  ASSERT_EQ(outcomes.size(), 50u);
  for (const auto& s : outcomes) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ((*p)->HealthCheck()["status"], "ok");
  EXPECT_EQ((*p)->Stats().failed, 0u);
}

TEST(PublisherTest, DroppedMessagesMakeHealthDegradedWhileTheBrokersAreUp) {
  // The brokers are up but the queue is full (here: messages held by a long
  // linger; in production a slow broker or a topic that does not exist).
  metrics::Registry registry;
  PublisherOptions o;
  o.name = "full";
  o.queue_messages = 10;
  o.linger = milliseconds(60'000);
  o.extra = {{"test.mock.num.brokers", "1"}};
  auto p = Publisher::Create(Cluster("mock:9092"), o, Clock::System(), registry);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  (*p)->Start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*p)->Publish("predictions", "10.0.0.1", "{}").ok());
  EXPECT_EQ((*p)->HealthCheck()["status"], "ok") << (*p)->HealthCheck().dump();
  for (int i = 0; i < 5; ++i) EXPECT_FALSE((*p)->Publish("predictions", "10.0.0.1", "{}").ok());
  const nlohmann::json health = (*p)->HealthCheck();
  EXPECT_EQ(health["brokers"], "up");
  EXPECT_EQ(health["dropped"], 5);
  EXPECT_EQ(health["status"], "degraded") << health.dump();
  EXPECT_NE(health["last_error"].get<std::string>().find("local queue full (10 messages): 1 message(s) dropped"),
            std::string::npos)
      << health.dump();
  (*p)->Stop(milliseconds(100));
}

// Stopping a client never hangs on librdkafka: a handle whose destroy cannot
// finish (here its log callback blocks, as a stuck broker thread would) is
// abandoned after the given time; an ordinary one is destroyed.
std::atomic<bool> hold_logs{false};

void HoldingLogCb(const rd_kafka_t*, int, const char*, const char*) {
  while (hold_logs.load()) std::this_thread::sleep_for(milliseconds(5));
}

TEST(DestroyWithinTest, GivesUpOnAHandleThatCannotBeDestroyedAndDestroysTheRest) {
  auto make = [] {
    auto conf = MakeConf(Cluster("127.0.0.1:1"), {{"debug", "generic"}});
    EXPECT_TRUE(conf.ok()) << conf.status().ToString();
    rd_kafka_conf_set_log_cb(conf->get(), &HoldingLogCb);
    char err[512] = {0};
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err);
    EXPECT_NE(rk, nullptr) << err;
    return rk;
  };
  EXPECT_TRUE(DestroyWithin(make(), 0, std::chrono::seconds(30), "ordinary"));

  rd_kafka_t* stuck = make();
  hold_logs = true;
  const auto t0 = steady_clock::now();
  const bool destroyed = DestroyWithin(stuck, 0, milliseconds(300), "stuck");
  const auto waited = steady_clock::now() - t0;
  hold_logs = false;  // lets the abandoned handle finish in the background
  EXPECT_FALSE(destroyed);
  EXPECT_GE(waited, milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(20)) << "DestroyWithin waited for librdkafka";
  // Once unblocked, the abandoned handle is destroyed after all (and the
  // process does not exit under it, which LeakSanitizer would report).
  EXPECT_EQ(rd_kafka_wait_destroyed(10000), 0) << "the abandoned handle was never destroyed";
}

}  // namespace
}  // namespace threatd::kafka
