// FlowConsumer under injected faults, on librdkafka's built-in mock cluster
// (rdkafka_mock.h): request errors, a broker down and up again, a slow
// broker, and a pipeline that cannot store. In each the consumer reports
// degraded, recovers by itself, and every flow is stored exactly once.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "integration/kafka/consumer_fixture.h"
#include "kafka/flow_consumer.h"
#include "support/eventually.h"

namespace threatd::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CommittedTotal;
using testing::FlowJson;
using testing::PipelineHarness;
using testing::TestOptions;
using threatd::testing::Eventually;

constexpr auto kLong = seconds(60);
// Kafka protocol API keys (librdkafka keeps its RD_KAFKAP_* names internal).
constexpr int16_t kApiFetch = 1;
constexpr int16_t kApiOffsetCommit = 8;

class MockClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ASSERT_NE(handle_, nullptr) << err;
    cluster_ = rd_kafka_mock_cluster_new(handle_, 1);
    ASSERT_NE(cluster_, nullptr);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, "flows", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, "flows.dlq", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_conf_t* pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "bootstrap.servers", bootstrap_.c_str(), err, sizeof err);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    ASSERT_NE(producer_, nullptr) << err;
  }
  void TearDown() override {
    if (producer_) rd_kafka_destroy(producer_);
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (handle_) rd_kafka_destroy(handle_);
  }

  void Produce(int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string v = FlowJson(i);
      rd_kafka_vu_t vus[3];
      vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
      vus[0].u.cstr = "flows";
      vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vus[1].u.i = RD_KAFKA_MSG_F_COPY;
      vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
      vus[2].u.mem.ptr = const_cast<char*>(v.data());
      vus[2].u.mem.size = v.size();
      rd_kafka_error_t* e = rd_kafka_produceva(producer_, vus, 3);
      ASSERT_EQ(e, nullptr) << rd_kafka_error_string(e);
    }
    ASSERT_EQ(rd_kafka_flush(producer_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  FlowConsumerOptions Options() {
    auto o = TestOptions(bootstrap_, "flows", "mock-group");
    o.slow_broker_rtt = milliseconds(500);
    o.stats_interval = milliseconds(200);
    o.degraded_window = milliseconds(1500);
    o.backoff_initial = milliseconds(200);
    o.backoff_max = milliseconds(1000);
    return o;
  }

  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstrap_;
};

TEST_F(MockClusterTest, RequestErrorsOnFetchAndCommitAreRetriedWithoutLoss) {
  Produce(0, 400);
  rd_kafka_mock_push_request_errors(cluster_, kApiFetch, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  rd_kafka_mock_push_request_errors(cluster_, kApiOffsetCommit, 2, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
  PipelineHarness h;
  FlowConsumer consumer(Options(), h.Submit(), nullptr, nullptr, Clock::System(), h.registry);
  ASSERT_TRUE(consumer.Start().ok());
  ASSERT_TRUE(Eventually([&] { return h.log.rows() >= 400; }, kLong)) << consumer.HealthCheck().dump();
  Produce(400, 500);  // later commits carry the offsets the failed ones did not
  ASSERT_TRUE(Eventually([&] { return CommittedTotal(consumer.Snapshot()) == 500; }, kLong))
      << consumer.HealthCheck().dump();
  EXPECT_EQ(h.log.rows(), 500u);
  EXPECT_EQ(h.log.stored_twice(), 0u);
  EXPECT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kRunning; }, kLong))
      << consumer.HealthCheck().dump();
}

TEST_F(MockClusterTest, BrokerDownIsReportedDegradedAndRecoveredFrom) {
  Produce(0, 200);
  PipelineHarness h;
  FlowConsumer consumer(Options(), h.Submit(), nullptr, nullptr, Clock::System(), h.registry);
  ASSERT_TRUE(consumer.Start().ok());
  ASSERT_TRUE(Eventually([&] { return CommittedTotal(consumer.Snapshot()) == 200; }, kLong))
      << consumer.HealthCheck().dump();
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kDegraded; }, kLong))
      << consumer.HealthCheck().dump();
  ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  Produce(200, 400);
  ASSERT_TRUE(Eventually([&] { return CommittedTotal(consumer.Snapshot()) == 400; }, kLong))
      << consumer.HealthCheck().dump();
  ASSERT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kRunning; }, kLong))
      << consumer.HealthCheck().dump();
  EXPECT_EQ(h.log.rows(), 400u);
  EXPECT_EQ(h.log.stored_twice(), 0u);
}

TEST_F(MockClusterTest, SlowBrokerIsReportedDegradedAndRecoveredFrom) {
  PipelineHarness h;
  FlowConsumer consumer(Options(), h.Submit(), nullptr, nullptr, Clock::System(), h.registry);
  ASSERT_TRUE(consumer.Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kRunning; }, kLong))
      << consumer.HealthCheck().dump();
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster_, 1, 1500), RD_KAFKA_RESP_ERR_NO_ERROR);
  Produce(0, 100);
  ASSERT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kDegraded; }, kLong))
      << consumer.HealthCheck().dump();
  EXPECT_NE(consumer.Snapshot().detail.find("slow broker"), std::string::npos) << consumer.Snapshot().detail;
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster_, 1, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  Produce(100, 200);
  ASSERT_TRUE(Eventually([&] { return CommittedTotal(consumer.Snapshot()) == 200; }, kLong))
      << consumer.HealthCheck().dump();
  ASSERT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kRunning; }, kLong))
      << consumer.HealthCheck().dump();
  EXPECT_EQ(h.log.rows(), 200u);
}

// No model loaded: every batch fails; nothing is committed, the partitions
// pause, and once a model is there the kept batches are stored.
TEST_F(MockClusterTest, PipelineFailureIsRetriedWithBackoffAndNothingIsLostOrCommittedEarly) {
  Produce(0, 300);
  PipelineHarness h;
  h.models.Set(nullptr);
  FlowConsumer consumer(Options(), h.Submit(), nullptr, nullptr, Clock::System(), h.registry);
  ASSERT_TRUE(consumer.Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer.Snapshot().batches_failed >= 3; }, kLong))
      << consumer.HealthCheck().dump();
  auto s = consumer.Snapshot();
  EXPECT_EQ(s.state, ConsumerState::kDegraded);
  EXPECT_EQ(CommittedTotal(s), 0);
  EXPECT_NE(s.last_error.value_or("").find("no threat detector"), std::string::npos) << s.last_error.value_or("");
  h.models.Set(testing::ShippedModels());
  ASSERT_TRUE(Eventually([&] { return CommittedTotal(consumer.Snapshot()) == 300; }, kLong))
      << consumer.HealthCheck().dump();
  EXPECT_EQ(h.log.rows(), 300u);
  EXPECT_EQ(h.log.stored_twice(), 0u);
  EXPECT_TRUE(Eventually([&] { return consumer.Snapshot().state == ConsumerState::kRunning; }, kLong));
}

}  // namespace
}  // namespace threatd::kafka
