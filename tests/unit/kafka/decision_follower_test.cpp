// DecisionFollower: which decision events the agent enforces and lifts, how
// a replay converges through one Reconcile, and local expiry.
#include "kafka/decision_follower.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "integration/healing/recording_backend.h"

namespace threatd::kafka {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class DecisionFollowerTest : public ::testing::Test {
 protected:
  DecisionFollowerTest() {
    auto b = std::make_unique<healing::RecordingBackend>();
    backend_ = b.get();
    follower_ = std::make_unique<DecisionFollower>(std::move(b), clock_, registry_);
  }

  // A decision event as DecisionPublisher writes it.
  json Event(int64_t id, const std::string& event, const std::string& target, std::optional<seconds> expires_in,
             const std::string& mode = "enforce", const std::string& action = "block_ip") {
    json j = {{"id", id}, {"event", event}, {"status", event}, {"target", target},
              {"mode", mode}, {"action_type", action}, {"action_params", json::object()}};
    j["expires_at"] = expires_in ? json(FormatIso8601(clock_.Now() + *expires_in)) : json(nullptr);
    return j;
  }

  std::set<std::string> Enforced() { return backend_->Targets(); }

  FakeClock clock_;
  metrics::Registry registry_;
  healing::RecordingBackend* backend_ = nullptr;
  std::unique_ptr<DecisionFollower> follower_;
};

TEST_F(DecisionFollowerTest, ReplayBuildsStateThenOneReconcileEnforcesOnlyWhatIsInForce) {
  follower_->Handle(Event(1, "applied", "203.0.113.1", seconds(600)));
  follower_->Handle(Event(2, "applied", "203.0.113.2", seconds(600)));
  follower_->Handle(Event(2, "revoked", "203.0.113.2", seconds(600)));
  follower_->Handle(Event(3, "applied", "198.51.100.0/24", std::nullopt));
  EXPECT_EQ(backend_->applies, 0) << "nothing reaches the backend during the replay";
  EXPECT_TRUE(Enforced().empty());

  ASSERT_TRUE(follower_->CatchUp().ok());
  EXPECT_EQ(backend_->reconciles, 1);
  EXPECT_EQ(Enforced(), (std::set<std::string>{"block_ip 203.0.113.1", "block_ip 198.51.100.0/24"}));
  EXPECT_TRUE(follower_->Stats().caught_up);
  EXPECT_EQ(follower_->Stats().active, 2u);
}

TEST_F(DecisionFollowerTest, AfterCatchUpEventsAreEnforcedAndLiftedOneByOne) {
  ASSERT_TRUE(follower_->CatchUp().ok());
  follower_->Handle(Event(7, "applied", "203.0.113.7", seconds(600)));
  EXPECT_EQ(Enforced(), std::set<std::string>{"block_ip 203.0.113.7"});
  follower_->Handle(Event(7, "applied", "203.0.113.7", seconds(600)));  // redelivery
  EXPECT_EQ(backend_->applies, 1);
  follower_->Handle(Event(7, "expired", "203.0.113.7", seconds(600)));
  EXPECT_TRUE(Enforced().empty());
  follower_->Handle(Event(8, "applied", "203.0.113.8", seconds(600), "enforce", "rate_limit"));
  follower_->Handle(Event(8, "failed", "203.0.113.8", seconds(600), "enforce", "rate_limit"));
  EXPECT_TRUE(Enforced().empty()) << "a decision that failed upstream is not in force";
  const auto s = follower_->Stats();
  EXPECT_EQ(s.enforced, 2u);
  EXPECT_EQ(s.lifted, 2u);
}

TEST_F(DecisionFollowerTest, SimulatedExpiredAndNonFirewallDecisionsAreNotEnforced) {
  ASSERT_TRUE(follower_->CatchUp().ok());
  follower_->Handle(Event(1, "applied", "203.0.113.1", seconds(600), "simulate"));
  follower_->Handle(Event(2, "applied", "203.0.113.2", seconds(-5)));
  follower_->Handle(Event(3, "applied", "203.0.113.3", seconds(600), "enforce", "alert_admin"));
  follower_->Handle(Event(4, "revoked", "203.0.113.4", seconds(600)));  // never seen applied
  follower_->Handle(std::string_view("not json"));
  follower_->Handle(json{{"event", "applied"}, {"target", "203.0.113.5"}});  // no id
  follower_->Handle(Event(6, "applied", "not-an-address", seconds(600)));
  EXPECT_TRUE(Enforced().empty());
  EXPECT_EQ(backend_->applies, 0);
  const auto s = follower_->Stats();
  EXPECT_EQ(s.skipped_simulate, 1u);
  EXPECT_EQ(s.skipped_expired, 1u);
  EXPECT_EQ(s.skipped_action, 1u);
  EXPECT_EQ(s.ignored, 1u);
  EXPECT_EQ(s.invalid, 3u);
  EXPECT_EQ(s.received, 7u);
}

TEST_F(DecisionFollowerTest, HonoursTheRemainingTimeToLive) {
  ASSERT_TRUE(follower_->CatchUp().ok());
  follower_->Handle(Event(1, "applied", "203.0.113.1", seconds(30)));
  follower_->Handle(Event(2, "applied", "203.0.113.2", std::nullopt));
  ASSERT_EQ(backend_->enforced.size(), 2u);
  ASSERT_TRUE(backend_->enforced.at(1).expires_at.has_value());
  EXPECT_EQ(*backend_->enforced.at(1).expires_at - clock_.Now(), seconds(30))
      << "the backend gets the decision's own expiry (nftables element timeout = remaining TTL)";
  clock_.Advance(seconds(29));
  follower_->Tick();
  EXPECT_EQ(Enforced().size(), 2u);
  clock_.Advance(seconds(2));
  follower_->Tick();
  EXPECT_EQ(Enforced(), std::set<std::string>{"block_ip 203.0.113.2"});
}

TEST_F(DecisionFollowerTest, DecisionsThatExpiredDuringTheReplayAreNotInstalled) {
  follower_->Handle(Event(1, "applied", "203.0.113.1", seconds(10)));
  follower_->Handle(Event(2, "applied", "203.0.113.2", seconds(100)));
  clock_.Advance(seconds(20));
  ASSERT_TRUE(follower_->CatchUp().ok());
  EXPECT_EQ(Enforced(), std::set<std::string>{"block_ip 203.0.113.2"});
}

TEST_F(DecisionFollowerTest, RewindKeepsTheBackendUntilTheNextReplayReconcilesIt) {
  ASSERT_TRUE(follower_->CatchUp().ok());
  follower_->Handle(Event(1, "applied", "203.0.113.1", seconds(600)));
  follower_->Handle(Event(2, "applied", "203.0.113.2", seconds(600)));
  follower_->Rewind();  // partitions reassigned: the topic is read again from the start
  EXPECT_EQ(Enforced().size(), 2u) << "no gap in enforcement during a replay";
  follower_->Handle(Event(1, "applied", "203.0.113.1", seconds(600)));
  follower_->Handle(Event(2, "applied", "203.0.113.2", seconds(600)));
  follower_->Handle(Event(2, "revoked", "203.0.113.2", seconds(600)));
  EXPECT_EQ(Enforced().size(), 2u);
  ASSERT_TRUE(follower_->CatchUp().ok());
  EXPECT_EQ(Enforced(), std::set<std::string>{"block_ip 203.0.113.1"});
}

TEST_F(DecisionFollowerTest, ABackendFailureIsCountedAndTheDecisionIsNotTracked) {
  ASSERT_TRUE(follower_->CatchUp().ok());
  backend_->fail_targets.insert("203.0.113.9");
  follower_->Handle(Event(9, "applied", "203.0.113.9", seconds(600)));
  EXPECT_TRUE(Enforced().empty());
  EXPECT_EQ(follower_->Stats().failures, 1u);
  EXPECT_EQ(follower_->Stats().active, 0u);
  EXPECT_EQ(follower_->Health()["status"], "degraded");
}

}  // namespace
}  // namespace threatd::kafka
