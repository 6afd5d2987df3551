#include "ingest/source_states.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "support/eventually.h"
#include "unit/ingest/ingest_fakes.h"

namespace threatd::ingest {
namespace {

using threatd::testing::Eventually;
using testing::FakeSourceRepository;

class SourceStatesTest : public ::testing::Test {
 protected:
  std::vector<std::pair<std::string, bool>> Changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }
  void Record(const std::string& name, bool enabled) {
    std::lock_guard lock(mu_);
    changes_.emplace_back(name, enabled);
  }

  FakeClock clock_;
  FakeSourceRepository repo_{clock_};
  std::mutex mu_;
  std::vector<std::pair<std::string, bool>> changes_;
};

TEST_F(SourceStatesTest, NothingIsEnabledBeforeTheFirstLoad) {
  SourceStates states(repo_, clock_);
  EXPECT_FALSE(states.loaded());
  EXPECT_FALSE(states.IsEnabled(kInternalKafkaSource));
  EXPECT_EQ(states.HealthCheck()["status"], "error");
  ASSERT_TRUE(states.Refresh().ok());
  EXPECT_TRUE(states.IsEnabled(kInternalKafkaSource));
  EXPECT_FALSE(states.IsEnabled(kExternalKafkaSource));
  EXPECT_FALSE(states.IsEnabled("no_such_source"));
  ASSERT_EQ(states.List().size(), 3u);
  EXPECT_EQ(states.List()[0].name, "external_kafka");  // by name
}

TEST_F(SourceStatesTest, UpdateAppliesAtOnceAndNotifiesSubscribers) {
  SourceStates states(repo_, clock_);
  ASSERT_TRUE(states.Refresh().ok());
  states.Subscribe([this](const std::string& n, bool e) { Record(n, e); });
  clock_.Advance(std::chrono::seconds(1));
  auto row = states.Update("internal_kafka", false, std::string(R"({"topic":"t"})"));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_FALSE(row->enabled);
  EXPECT_FALSE(states.IsEnabled(kInternalKafkaSource));
  EXPECT_EQ(states.Get("internal_kafka")->config_json, std::optional<std::string>(R"({"topic":"t"})"));
  ASSERT_EQ(Changes().size(), 1u);
  EXPECT_EQ(Changes()[0], std::make_pair(std::string("internal_kafka"), false));
  // The same flag again is not a change.
  ASSERT_TRUE(states.Update("internal_kafka", false, std::nullopt).ok());
  EXPECT_EQ(Changes().size(), 1u);
}

TEST_F(SourceStatesTest, UnknownSourceIsNotFoundWithTheOriginalMessage) {
  SourceStates states(repo_, clock_);
  auto row = states.Update("bogus", true, std::nullopt);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(row.status().message(), "Data source not found: bogus");
}

TEST_F(SourceStatesTest, BackgroundRefreshSeesAnotherInstancesChange) {
  SourceStates states(repo_, clock_, SourceStates::Options{std::chrono::milliseconds(10)});
  states.Subscribe([this](const std::string& n, bool e) { Record(n, e); });
  ASSERT_TRUE(states.Start().ok());
  const size_t initial = Changes().size();  // the first load reports every source
  EXPECT_EQ(initial, 3u);
  clock_.Advance(std::chrono::seconds(1));
  repo_.SetEnabledBehindTheBack("external_kafka", true);
  ASSERT_TRUE(Eventually([&] { return states.IsEnabled(kExternalKafkaSource); }));
  ASSERT_TRUE(Eventually([&] { return Changes().size() == initial + 1; }));
  EXPECT_EQ(Changes().back(), std::make_pair(std::string("external_kafka"), true));
  states.Stop();
}

TEST_F(SourceStatesTest, ADownDatabaseKeepsTheLastFlagsAndDegradesHealth) {
  SourceStates states(repo_, clock_);
  ASSERT_TRUE(states.Refresh().ok());
  repo_.SetDown(true);
  EXPECT_EQ(states.Refresh().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(states.IsEnabled(kInternalKafkaSource));
  const auto health = states.HealthCheck();
  EXPECT_EQ(health["status"], "degraded");
  EXPECT_EQ(health["last_error"], "database is down");
  EXPECT_EQ(states.Update("internal_kafka", false, std::nullopt).status().code(), ErrorCode::kUnavailable);
  repo_.SetDown(false);
  ASSERT_TRUE(states.Refresh().ok());
  EXPECT_EQ(states.HealthCheck()["status"], "ok");
}

TEST_F(SourceStatesTest, HealthShowsEnabledAndRunningPerSource) {
  SourceStates states(repo_, clock_);
  ASSERT_TRUE(states.Refresh().ok());
  states.SetRunning(kInternalKafkaSource, true, "test stream at 5 flows/s");
  const auto h = states.HealthCheck();
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["sources"]["internal_kafka"]["enabled"], true);
  EXPECT_EQ(h["sources"]["internal_kafka"]["running"], true);
  EXPECT_EQ(h["sources"]["internal_kafka"]["detail"], "test stream at 5 flows/s");
  EXPECT_EQ(h["sources"]["packet_capture"]["running"], false);
}

TEST_F(SourceStatesTest, AStaleRefreshDoesNotUndoANewerUpdate) {
  SourceStates states(repo_, clock_);
  ASSERT_TRUE(states.Refresh().ok());
  const Clock::WallTime before = clock_.Now();
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(states.Update("packet_capture", true, std::nullopt).ok());
  // A read that raced the update returns the row as it was before it.
  repo_.SetEnabledBehindTheBack("packet_capture", false, before);
  ASSERT_TRUE(states.Refresh().ok());
  EXPECT_TRUE(states.IsEnabled(kPacketCaptureSource));
  // A genuinely newer change elsewhere wins.
  clock_.Advance(std::chrono::seconds(1));
  repo_.SetEnabledBehindTheBack("packet_capture", false);
  ASSERT_TRUE(states.Refresh().ok());
  EXPECT_FALSE(states.IsEnabled(kPacketCaptureSource));
}

TEST_F(SourceStatesTest, UnsubscribedListenersAreNotCalled) {
  SourceStates states(repo_, clock_);
  ASSERT_TRUE(states.Refresh().ok());
  const int id = states.Subscribe([this](const std::string& n, bool e) { Record(n, e); });
  states.Unsubscribe(id);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(states.Update("internal_kafka", false, std::nullopt).ok());
  EXPECT_TRUE(Changes().empty());
}

}  // namespace
}  // namespace threatd::ingest
