// The Healer on a real (SQLite) database with fake time and a recording
// backend standing in for the kernel (the nftables backend has its own
// network-namespace test): thresholds, the whitelist and protected networks
// (never enforced, lifted when added later), expiry, escalation, the circuit
// breaker, dry-run, manual decisions, restart reconcile - and a randomised
// property test of the safety invariants.
#include "healing/healer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "integration/healing/recording_backend.h"
#include "storage/database.h"
#include "support/eventually.h"

namespace threatd::healing {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::Eventually;

PolicyConfig TestPolicy(int64_t max_blocks_per_minute = 100) {
  auto p = ParsePolicy(json{
      {"rules",
       {{{"name", "dos"}, {"classes", {"DDoS"}}, {"min_detections", 3}, {"window", "10s"}, {"action", "block_ip"},
         {"durations", {"10m", "1h", "24h", "7d"}}},
        {{"name", "infected"}, {"classes", {"Bot*"}}, {"min_detections", 1}, {"action", "isolate_host"},
         {"target", "internal"}, {"durations", {"1h"}}}}},
      {"protected_networks", {"172.16.0.1"}},
      {"max_blocks_per_minute", max_blocks_per_minute}});
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

class HealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StorageOptions so;
    so.url = "sqlite::memory:";
    auto db = storage::OpenDatabase(so, registry_, clock_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate().ok());
    whitelist_ = std::make_unique<ingest::WhitelistMatcher>(db_->Whitelist(), clock_);
    ASSERT_TRUE(whitelist_->Start().ok());
  }
  void TearDown() override {
    if (healer_) healer_->Stop();
  }

  void StartHealer(HealerOptions o = {}) {
    if (!o.initial_policy) o.initial_policy = TestPolicy();
    o.tick = std::chrono::milliseconds(20);
    auto backend = std::make_unique<RecordingBackend>();
    backend_ = backend.get();
    backend_->guard = [this](const Enforcement& e) { CheckSafe(e); };
    healer_ = std::make_unique<Healer>(o, db_->Decisions(), *whitelist_, std::move(backend), clock_, registry_,
                                       [this](std::string_view type, const json& data) {
                                         std::lock_guard lock(events_mu_);
                                         events_.push_back({std::string(type), data});
                                       });
    ASSERT_TRUE(healer_->Start().ok());
  }

  // The invariant: nothing whitelisted or protected reaches the backend.
  void CheckSafe(const Enforcement& e) {
    EXPECT_FALSE(whitelist_->Overlapping(e.target).has_value()) << "whitelisted target enforced: " << e.target.ToString();
    EXPECT_FALSE(e.target.Overlaps(*IpNetwork::Parse("172.16.0.1"))) << "protected target enforced";
    EXPECT_FALSE(e.target.Overlaps(*IpNetwork::Parse("127.0.0.0/8"))) << "loopback enforced";
  }

  // n attack flows from src to dst, stored (as the pipeline would report them).
  void Attack(const std::string& src, const std::string& dst, const std::string& cls, int n) {
    storage::ScoredFlowBatch batch;
    batch.source = "test_stream";
    std::vector<storage::StoredFlowIds> ids;
    for (int i = 0; i < n; ++i) {
      storage::NewScoredFlow f;
      f.ids.src_ip = src;
      f.ids.dst_ip = dst;
      f.created_at = clock_.Now();
      f.threat = {0.99, true, 0.5, "detector-v1"};
      f.attack = storage::NewAttackPrediction{1, cls, 0.97, "classifier-v1"};
      batch.flows.push_back(f);
      storage::StoredFlowIds s;
      s.traffic_data_id = ++next_flow_;
      s.threat_prediction_id = next_flow_;
      ids.push_back(s);
    }
    healer_->OnStored(batch, ids);
    healer_->Flush();
  }

  std::vector<storage::Decision> Decisions(const std::string& target = "") {
    storage::DecisionQuery q;
    q.limit = 1000;
    if (!target.empty()) q.target = target;
    auto rows = db_->Decisions().ListDecisions(q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<storage::Decision>{};
  }

  Status AddWhitelist(const std::string& ip) {
    storage::NewWhitelistEntry e;
    e.ip_address = IpNetwork::Parse(ip)->ToString();
    auto r = db_->Whitelist().CreateWhitelistEntry(e);
    if (!r.ok()) return r.status();
    return whitelist_->Refresh();
  }

  metrics::Registry registry_;
  FakeClock clock_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<ingest::WhitelistMatcher> whitelist_;
  std::unique_ptr<Healer> healer_;
  RecordingBackend* backend_ = nullptr;
  std::mutex events_mu_;
  std::vector<std::pair<std::string, json>> events_;
  int64_t next_flow_ = 0;
};

TEST_F(HealerTest, ThresholdReachedBlocksTheSourceWithReasonAndHistory) {
  StartHealer();
  Attack("203.0.113.7", "10.0.0.5", "DDoS", 2);
  EXPECT_TRUE(backend_->Targets().empty()) << "two detections are below the threshold of three";
  Attack("203.0.113.7", "10.0.0.5", "DDoS", 1);
  EXPECT_EQ(backend_->Targets(), (std::set<std::string>{"block_ip 203.0.113.7"}));

  auto rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  auto d = db_->Decisions().GetDecision(rows[0].id);
  ASSERT_TRUE(d.ok() && d->has_value());
  const auto& dec = **d;
  EXPECT_EQ(dec.status, "applied");
  EXPECT_EQ(dec.mode, "enforce");
  EXPECT_EQ(dec.origin, "automatic");
  EXPECT_EQ(dec.rule, std::optional<std::string>("dos"));
  EXPECT_EQ(dec.attack_class, std::optional<std::string>("DDoS"));
  EXPECT_EQ(dec.detections, 3);
  EXPECT_EQ(dec.trigger_flow_ids, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(dec.duration_seconds, std::optional<int64_t>(600));
  EXPECT_EQ(dec.expires_at, std::optional<Clock::WallTime>(dec.created_at + minutes(10)));
  EXPECT_NE(dec.action_description.find("3 DDoS detections within 10s"), std::string::npos) << dec.action_description;
  ASSERT_EQ(dec.history.size(), 2u);
  EXPECT_EQ(dec.history[0].status, "pending");
  EXPECT_EQ(dec.history[1].status, "applied");

  std::lock_guard lock(events_mu_);
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.back().first, "action");
  EXPECT_EQ(events_.back().second["status"], "applied");
  EXPECT_EQ(events_.back().second["target"], "203.0.113.7");
}

TEST_F(HealerTest, ProtectedSourceBecomesAnAlertThatSaysWhy) {
  StartHealer();
  Attack("172.16.0.1", "192.168.10.50", "DDoS", 3);  // CIC-IDS2017: every attack arrives from the NAT address
  EXPECT_TRUE(backend_->Targets().empty());
  auto rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action_type, "alert_admin");
  EXPECT_EQ(rows[0].target, "172.16.0.1");
  EXPECT_NE(rows[0].action_description.find("172.16.0.1 is protected"), std::string::npos)
      << rows[0].action_description;
  // More attacks within the cool-down raise no second alert.
  Attack("172.16.0.1", "192.168.10.50", "DDoS", 3);
  EXPECT_EQ(Decisions().size(), 1u);
}

TEST_F(HealerTest, WhitelistWinsBeforeAndAfterTheBlock) {
  StartHealer();
  ASSERT_TRUE(AddWhitelist("198.51.100.0/24").ok());
  Attack("198.51.100.9", "10.0.0.5", "DDoS", 10);
  EXPECT_TRUE(backend_->Targets().empty());
  EXPECT_TRUE(Decisions().empty());

  Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
  ASSERT_EQ(backend_->Targets().size(), 1u);
  // A whitelist entry added later lifts the block it covers.
  ASSERT_TRUE(AddWhitelist("203.0.113.7").ok());
  auto lifted = healer_->ApplyWhitelist();
  ASSERT_TRUE(lifted.ok());
  EXPECT_EQ(*lifted, 1u);
  EXPECT_TRUE(backend_->Targets().empty());
  auto rows = Decisions("203.0.113.7");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "revoked");

  // Manual blocks of whitelisted or protected targets are refused with the reason.
  ManualDecision m;
  m.target = "203.0.113.0/24";
  m.actor = "alice";
  auto r = healer_->Create(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kConflict);
  EXPECT_NE(r.status().message().find("whitelisted (entry 203.0.113.7)"), std::string::npos) << r.status().message();
  m.target = "127.0.0.1";
  r = healer_->Create(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("loopback"), std::string::npos) << r.status().message();
}

// A block of a network covers its hosts: no second decision for an address
// inside it, in IPv4 and IPv6, until it is revoked.
TEST_F(HealerTest, ANetworkInForceCoversItsHostsUntilRevoked) {
  StartHealer();
  ManualDecision m;
  m.target = "203.0.113.0/24";
  m.actor = "alice";
  auto net = healer_->Create(m);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  m.target = "2001:db8:1::/48";
  auto net6 = healer_->Create(m);
  ASSERT_TRUE(net6.ok()) << net6.status().ToString();

  Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
  Attack("2001:db8:1:2::9", "10.0.0.5", "DDoS", 3);
  Attack("198.51.100.9", "10.0.0.5", "DDoS", 3);  // outside both
  EXPECT_TRUE(Decisions("203.0.113.7").empty());
  EXPECT_TRUE(Decisions("2001:db8:1:2::9").empty());
  EXPECT_EQ(Decisions("198.51.100.9").size(), 1u);

  ASSERT_TRUE(healer_->Revoke(net->id, "alice", "done").ok());
  Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
  EXPECT_EQ(Decisions("203.0.113.7").size(), 1u);
  Attack("2001:db8:1:2::9", "10.0.0.5", "DDoS", 3);
  EXPECT_TRUE(Decisions("2001:db8:1:2::9").empty()) << "the IPv6 network is still in force";
}

TEST_F(HealerTest, TheTickLiftsBlocksCoveredByANewWhitelistEntryWithoutBeingTold) {
  StartHealer();
  Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
  ASSERT_EQ(backend_->Targets().size(), 1u);
  // Another instance (or the database directly) adds the entry: the periodic check lifts it.
  ASSERT_TRUE(AddWhitelist("203.0.113.0/28").ok());
  clock_.Advance(seconds(2));
  EXPECT_TRUE(Eventually([&] { return backend_->Targets().empty(); }));
}

TEST_F(HealerTest, ExpiryIsHonouredAndRepeatOffendersEscalate) {
  StartHealer();
  const std::vector<int64_t> ladder = {600, 3600, 86400, 604800, 604800};
  for (size_t i = 0; i < ladder.size(); ++i) {
    Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
    auto rows = Decisions("203.0.113.7");
    ASSERT_EQ(rows.size(), i + 1);
    EXPECT_EQ(rows[0].duration_seconds, std::optional<int64_t>(ladder[i])) << "offence " << i + 1;
    EXPECT_EQ(rows[0].escalation_level, static_cast<int>(i));
    ASSERT_EQ(backend_->Targets().size(), 1u);
    // Not yet due: still enforced.
    clock_.Advance(seconds(ladder[i] - 1));
    healer_->Flush();
    EXPECT_EQ(backend_->Targets().size(), 1u);
    clock_.Advance(seconds(1));
    ASSERT_TRUE(Eventually([&] { return backend_->Targets().empty(); })) << "offence " << i + 1;
    EXPECT_TRUE(Eventually([&] { return Decisions("203.0.113.7")[0].status == "expired"; }));
  }
}

// One round of detections (one stored batch) from two sources: a decision
// for each, written together; the source seen again later in the same round
// is already being decided and gets no second one.
TEST_F(HealerTest, OneRoundDecidesEachSourceOnce) {
  StartHealer();
  storage::ScoredFlowBatch batch;
  batch.source = "kafka";
  std::vector<storage::StoredFlowIds> ids;
  for (const char* src : {"203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.9", "198.51.100.9",
                          "198.51.100.9", "203.0.113.7", "203.0.113.7", "203.0.113.7"}) {
    storage::NewScoredFlow f;
    f.ids.src_ip = src;
    f.ids.dst_ip = "10.0.0.5";
    f.created_at = clock_.Now();
    f.threat = {0.99, true, 0.5, "detector-v1"};
    f.attack = storage::NewAttackPrediction{1, "DDoS", 0.97, "classifier-v1"};
    batch.flows.push_back(f);
    storage::StoredFlowIds s;
    s.traffic_data_id = s.threat_prediction_id = ++next_flow_;
    ids.push_back(s);
  }
  healer_->OnStored(batch, ids);
  healer_->Flush();
  EXPECT_EQ(backend_->Targets(), (std::set<std::string>{"block_ip 198.51.100.9", "block_ip 203.0.113.7"}));
  auto rows = Decisions();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& d : rows) EXPECT_EQ(d.status, "applied") << d.target;
  EXPECT_EQ(healer_->HealthCheck()["active"], 2);
}

TEST_F(HealerTest, CircuitBreakerTurnsExcessBlocksIntoAlertsAndReportsDegraded) {
  HealerOptions o;
  o.initial_policy = TestPolicy(/*max_blocks_per_minute=*/3);
  StartHealer(o);
  for (int i = 1; i <= 5; ++i) Attack("203.0.113." + std::to_string(i), "10.0.0.5", "DDoS", 3);
  EXPECT_EQ(backend_->Targets().size(), 3u);
  int alerts = 0;
  for (const auto& d : Decisions()) {
    if (d.action_type != "alert_admin") continue;
    ++alerts;
    EXPECT_NE(d.action_description.find("circuit breaker open"), std::string::npos) << d.action_description;
  }
  EXPECT_EQ(alerts, 2);
  auto h = healer_->HealthCheck();
  EXPECT_EQ(h["status"], "degraded") << h.dump();
  EXPECT_EQ(h["circuit_breaker"]["state"], "open");
  EXPECT_EQ(registry_.GetCounter("threatd_healing_circuit_breaker_trips_total", "").Value(), 2u);
  // A minute later it closes again.
  clock_.Advance(seconds(61));
  EXPECT_EQ(healer_->CircuitBreakerState()["state"], "closed");
  Attack("203.0.113.9", "10.0.0.5", "DDoS", 3);
  EXPECT_EQ(backend_->Targets().size(), 4u);
}

TEST_F(HealerTest, DryRunRecordsWouldHaveDecisionsAndEnforcesNothing) {
  StartHealer();
  ASSERT_TRUE(healer_->SetMode(Mode::kDryRun, "alice").ok());
  Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
  Attack("192.168.10.15", "205.174.165.73", "Botnet", 1);
  EXPECT_TRUE(backend_->Targets().empty());
  EXPECT_EQ(backend_->applies, 0);
  auto rows = Decisions();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& d : rows) {
    EXPECT_EQ(d.mode, "simulate");
    EXPECT_EQ(d.status, "applied");
  }
  // The mode survives a restart (stored in the database).
  healer_->Stop();
  healer_.reset();
  StartHealer();
  EXPECT_EQ(healer_->mode(), Mode::kDryRun);
}

TEST_F(HealerTest, FailedEnforcementIsRecordedWithTheError) {
  StartHealer();
  backend_->fail_targets.insert("203.0.113.7");
  Attack("203.0.113.7", "10.0.0.5", "DDoS", 3);
  auto rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "failed");
  EXPECT_EQ(rows[0].error_message, std::optional<std::string>("simulated kernel error"));
  EXPECT_EQ(registry_.GetCounter("threatd_healing_enforcement_failures_total", "").Value(), 1u);
}

// A round of decisions holds the healer's lock across the store and the
// backend; the health check must answer meanwhile, with the last figures.
TEST_F(HealerTest, HealthAnswersWhileARoundOfDecisionsIsUnderWay) {
  StartHealer();
  const json before = healer_->HealthCheck();
  EXPECT_FALSE(before.contains("busy"));
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  backend_->guard = [&, released](const Enforcement& e) {
    CheckSafe(e);
    if (first.exchange(false)) {
      entered.set_value();
      released.wait();
    }
  };
  std::thread attack([&] { Attack("203.0.113.7", "10.0.0.5", "DDoS", 3); });
  entered.get_future().wait();
  auto health = std::async(std::launch::async, [&] { return healer_->HealthCheck(); });
  const bool answered = health.wait_for(seconds(10)) == std::future_status::ready;
  release.set_value();
  attack.join();
  ASSERT_TRUE(answered) << "HealthCheck waited for the round of decisions";
  const json busy = health.get();
  EXPECT_EQ(busy["busy"], true);
  EXPECT_EQ(busy["status"], before["status"]);
  EXPECT_EQ(busy["active"], before["active"]);
  const json after = healer_->HealthCheck();
  EXPECT_FALSE(after.contains("busy"));
  EXPECT_EQ(after["active"], 1);
}

TEST_F(HealerTest, ManualBlockRevokeAndRestartReconcile) {
  StartHealer();
  ManualDecision m;
  m.target = "2001:db8:5:6::77";
  m.actor = "alice";
  m.origin = "manual";
  m.duration = hours(2);
  m.reason = "seen in the SSH logs";
  auto d = healer_->Create(m);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->target, "2001:db8:5:6::/64");  // aggregated to the policy's IPv6 prefix
  EXPECT_EQ(d->status, "applied");
  EXPECT_EQ(d->created_by, std::optional<std::string>("alice"));
  EXPECT_EQ(d->action_description, "seen in the SSH logs");
  // The same again is a conflict.
  auto again = healer_->Create(m);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);

  ManualDecision other;
  other.target = "198.51.100.3";
  other.actor = "bob";
  auto d2 = healer_->Create(other);
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(backend_->Targets().size(), 2u);

  // Restart: the backend is reconciled to exactly the decisions in force.
  healer_->Stop();
  healer_.reset();
  StartHealer();
  EXPECT_EQ(backend_->reconciles, 1);
  EXPECT_EQ(backend_->Targets(), (std::set<std::string>{"block_ip 2001:db8:5:6::/64", "block_ip 198.51.100.3"}));

  auto revoked = healer_->Revoke(d2->id, "carol", "false positive");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->status, "revoked");
  EXPECT_EQ(revoked->history.back().actor, std::optional<std::string>("carol"));
  EXPECT_EQ(revoked->history.back().message, "revoked by carol: false positive");
  EXPECT_EQ(backend_->Targets(), (std::set<std::string>{"block_ip 2001:db8:5:6::/64"}));
  auto twice = healer_->Revoke(d2->id, "carol", "");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(healer_->Revoke(999999, "carol", "").status().code(), ErrorCode::kNotFound);
}

TEST_F(HealerTest, DriftIsMeasuredWithoutHoldingUpDecisionsAndThenRepaired) {
  HealerOptions o;
  o.drift_interval = std::chrono::seconds(60);
  StartHealer(o);
  ManualDecision first;
  first.target = "198.51.100.10";
  first.actor = "alice";
  ASSERT_TRUE(healer_->Create(first).ok());
  {
    std::lock_guard lock(backend_->mu);
    backend_->enforced.clear();  // someone flushed the firewall behind our back
  }
  // The measurement blocks until released; meanwhile the API must answer.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> once{false};
  {
    std::lock_guard lock(backend_->mu);
    backend_->measure_hook = [&, released] {
      if (!once.exchange(true)) entered.set_value();
      released.wait();
    };
  }
  clock_.Advance(std::chrono::seconds(61));
  auto in_measure = entered.get_future();
  ASSERT_EQ(in_measure.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "no drift check ran";
  ManualDecision second;
  second.target = "198.51.100.11";
  second.actor = "alice";
  auto made = std::async(std::launch::async, [&] { return healer_->Create(second); });
  const bool answered = made.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  release.set_value();
  ASSERT_TRUE(answered) << "a manual decision waited for the drift measurement";
  ASSERT_TRUE(made.get().ok());
  {
    std::lock_guard lock(backend_->mu);
    backend_->measure_hook = nullptr;
  }
  // That measurement overlapped a change, so it was dropped; the next one
  // finds the first decision missing and reconciles.
  EXPECT_TRUE(Eventually([&] {
    return backend_->Targets() == std::set<std::string>{"block_ip 198.51.100.10", "block_ip 198.51.100.11"};
  })) << "drift not repaired";
  std::lock_guard lock(backend_->mu);
  EXPECT_GE(backend_->measures, 2);
  EXPECT_EQ(backend_->reconciles, 2);  // start-up, then the repair
}

TEST_F(HealerTest, BotnetIsolatesTheInfectedHost) {
  StartHealer();
  Attack("192.168.10.15", "205.174.165.73", "Botnet", 1);
  EXPECT_EQ(backend_->Targets(), (std::set<std::string>{"isolate_host 192.168.10.15"}));
}

// Random sources, whitelist entries added at random moments, protected
// addresses among the attackers and a clock jumping forward: whatever happens,
// nothing whitelisted (at the moment of enforcement) or protected is ever
// enforced (CheckSafe runs on every Apply and Reconcile), and after each
// whitelist change nothing enforced overlaps the whitelist.
TEST_F(HealerTest, PropertyNothingWhitelistedOrProtectedIsEverEnforced) {
  StartHealer();
  std::mt19937 rng(20261123);
  std::vector<std::string> pool;
  for (int i = 0; i < 40; ++i) pool.push_back("203.0.113." + std::to_string(i * 6));
  pool.push_back("172.16.0.1");  // protected
  pool.push_back("127.0.0.1");   // loopback
  pool.push_back("2001:db8:9::" + std::to_string(7));
  std::set<std::string> whitelisted;
  for (int step = 0; step < 400; ++step) {
    const int what = static_cast<int>(rng() % 10);
    if (what == 0) {
      // Whitelist a random /29 or host from the pool.
      std::string ip = pool[rng() % 40];
      if (rng() % 2) ip = IpNetwork::Parse(ip)->Supernet(29).ToString();
      if (whitelisted.insert(ip).second) {
        ASSERT_TRUE(AddWhitelist(ip).ok());
      }
      if (rng() % 2) {
        ASSERT_TRUE(healer_->ApplyWhitelist().ok());
      }
    } else if (what == 1) {
      clock_.Advance(seconds(rng() % 3600));
    } else {
      Attack(pool[rng() % pool.size()], "10.0.0.5", "DDoS", static_cast<int>(1 + rng() % 4));
    }
    ASSERT_FALSE(HasFailure()) << "step " << step;
  }
  ASSERT_TRUE(healer_->ApplyWhitelist().ok());
  std::lock_guard lock(backend_->mu);
  for (const auto& [id, e] : backend_->enforced) CheckSafe(e);
  EXPECT_GT(backend_->applies, 10) << "the property was exercised";
}

}  // namespace
}  // namespace threatd::healing
