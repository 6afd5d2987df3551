// DecisionRepository against both backends (self_healing_actions, its events
// and healing_settings): decisions with their history, list filters and
// pages, status changes in one transaction, what is active and what expires,
// offence counts, the settings row, migration 0004 on existing action rows,
// and retention keeping decisions in force.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <set>
#include <thread>

#include "integration/storage/storage_fixture.h"
#include "storage/micros.h"
#include "storage/retention.h"
#include "storage/sqlite/sqlite_connection.h"

namespace threatd::storage::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class DecisionTest : public StorageTest {
 protected:
  // A valid automatic block of `target`, pending, expiring in 10 minutes.
  NewDecision Block(const std::string& target) {
    NewDecision d;
    d.target = target;
    d.action_type = "block_ip";
    d.action_description = "DDoS from " + target;
    d.action_params_json = R"({"chain": "threatd"})";
    d.origin = "automatic";
    d.mode = "enforce";
    d.status = "pending";
    d.rule = "ddos-block";
    d.attack_class = "DDoS";
    d.confidence = 0.93;
    d.model_version = "cls-1";
    d.trigger_flow_ids = {11, 12, 13};
    d.detections = 25;
    d.escalation_level = 1;
    d.duration_seconds = 600;
    d.expires_at = clock_.Now() + seconds(600);
    d.event_message = "25 detections in 60 s";
    return d;
  }

  Decision Insert(Database& db, const NewDecision& d) {
    auto r = db.Decisions().InsertDecision(d);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Decision{};
  }

  std::vector<int64_t> Ids(const Result<std::vector<Decision>>& r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<int64_t> out;
    if (r.ok()) {
      for (const auto& d : *r) out.push_back(d.id);
    }
    return out;
  }

  // A time literal of the dialect.
  std::string TimeSql(WallTime t) {
    const int64_t us = ToMicros(t);
    if (GetParam() == Backend::kSqlite) return std::to_string(us);
    return "(timestamptz 'epoch' + " + std::to_string(us) + " * interval '1 microsecond')";
  }

  // Stores one attacking flow in `batch_id`; returns its attack prediction id.
  int64_t AttackFlow(Database& db, const std::string& batch_id) {
    ScoredFlowBatch b;
    b.source = "upload";
    b.batch_id = batch_id;
    NewScoredFlow f;
    f.created_at = NextTime();
    f.threat = {0.9, true, 0.5, "det-1"};
    f.attack = NewAttackPrediction{3, "DDoS", 0.8, "cls-1"};
    b.flows.push_back(f);
    std::vector<StoredFlowIds> ids;
    const Status s = db.Traffic().InsertScoredFlows(b, &ids);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() ? ids[0].attack_prediction_id : 0;
  }
};

TEST_P(DecisionTest, InsertThenGetWithHistory) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  NewDecision nd = Block("203.0.113.7");
  nd.attack_prediction_id = AttackFlow(*db, "b-1");
  const WallTime created = clock_.Now();
  const Decision d = Insert(*db, nd);
  ASSERT_GT(d.id, 0);
  EXPECT_EQ(d.created_at, created);
  EXPECT_EQ(d.updated_at, created);
  EXPECT_EQ(d.attack_prediction_id, nd.attack_prediction_id);
  EXPECT_EQ(d.target, "203.0.113.7");
  EXPECT_EQ(d.action_type, "block_ip");
  EXPECT_EQ(d.action_description, "DDoS from 203.0.113.7");
  ASSERT_TRUE(d.action_params_json.has_value());
  EXPECT_EQ(nlohmann::json::parse(*d.action_params_json), nlohmann::json({{"chain", "threatd"}}));
  EXPECT_EQ(d.origin, "automatic");
  EXPECT_EQ(d.mode, "enforce");
  EXPECT_EQ(d.status, "pending");
  EXPECT_EQ(d.rule, std::optional<std::string>("ddos-block"));
  EXPECT_EQ(d.attack_class, std::optional<std::string>("DDoS"));
  EXPECT_EQ(d.confidence, std::optional<double>(0.93));
  EXPECT_EQ(d.model_version, std::optional<std::string>("cls-1"));
  EXPECT_EQ(d.trigger_flow_ids, (std::vector<int64_t>{11, 12, 13}));
  EXPECT_EQ(d.detections, 25);
  EXPECT_EQ(d.escalation_level, 1);
  EXPECT_EQ(d.duration_seconds, std::optional<int64_t>(600));
  EXPECT_EQ(d.expires_at, nd.expires_at);
  EXPECT_FALSE(d.execution_time.has_value());
  EXPECT_FALSE(d.created_by.has_value());
  EXPECT_TRUE(d.history.empty());  // GetDecision fills it

  clock_.Advance(seconds(2));
  const WallTime applied_at = clock_.Now();
  ASSERT_TRUE(db->Decisions()
                  .UpdateDecisionStatus({{d.id, "applied", "nft element added", std::nullopt, applied_at, "healer"}})
                  .ok());

  auto got = db->Decisions().GetDecision(d.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Decision& g = **got;
  EXPECT_EQ(g.status, "applied");
  EXPECT_EQ(g.execution_time, std::optional<WallTime>(applied_at));
  EXPECT_EQ(g.created_at, created);
  EXPECT_EQ(g.updated_at, applied_at);
  EXPECT_EQ(g.trigger_flow_ids, d.trigger_flow_ids);
  ASSERT_EQ(g.history.size(), 2u);
  EXPECT_EQ(g.history[0].action_id, d.id);
  EXPECT_EQ(g.history[0].status, "pending");
  EXPECT_EQ(g.history[0].message, "25 detections in 60 s");
  EXPECT_EQ(g.history[0].at, created);
  EXPECT_FALSE(g.history[0].actor.has_value());
  EXPECT_EQ(g.history[1].status, "applied");
  EXPECT_EQ(g.history[1].message, "nft element added");
  EXPECT_EQ(g.history[1].at, applied_at);
  EXPECT_EQ(g.history[1].actor, std::optional<std::string>("healer"));

  auto missing = db->Decisions().GetDecision(d.id + 1000);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(DecisionTest, ManualDecisionsNeedNoPredictionAndRecordTheirAuthor) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  NewDecision nd = Block("2001:db8::/32");
  nd.origin = "manual";
  nd.created_by = "otto";
  nd.expires_at.reset();
  nd.duration_seconds.reset();
  nd.event_message = "blocked by hand";
  const Decision d = Insert(*db, nd);
  EXPECT_FALSE(d.attack_prediction_id.has_value());
  EXPECT_EQ(d.created_by, std::optional<std::string>("otto"));
  EXPECT_FALSE(d.expires_at.has_value());
  auto got = db->Decisions().GetDecision(d.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->history.size(), 1u);
  EXPECT_EQ((*got)->history[0].actor, std::optional<std::string>("otto"));
  EXPECT_EQ((*got)->history[0].message, "blocked by hand");
}

TEST_P(DecisionTest, MalformedDecisionsAreRejectedAndStoreNothing) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  auto expect_validation = [&](NewDecision nd, const std::string& what) {
    auto r = repo.InsertDecision(nd);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), ErrorCode::kValidation) << what << ": " << r.status().ToString();
  };
  NewDecision host_bits = Block("10.0.0.5/24");
  expect_validation(host_bits, "host bits set");
  expect_validation(Block("2001:DB8::1"), "not canonical");
  expect_validation(Block(""), "no target");
  NewDecision bad_json = Block("10.0.0.5");
  bad_json.action_params_json = "{not json";
  expect_validation(bad_json, "bad params");
  NewDecision array_params = Block("10.0.0.5");
  array_params.action_params_json = "[1]";
  expect_validation(array_params, "params not an object");
  NewDecision origin = Block("10.0.0.5");
  origin.origin = "cron";
  expect_validation(origin, "origin");
  NewDecision mode = Block("10.0.0.5");
  mode.mode = "dry_run";  // a settings mode, not a decision mode
  expect_validation(mode, "mode");
  NewDecision legacy = Block("10.0.0.5");
  legacy.status = "logged";
  expect_validation(legacy, "legacy status");
  NewDecision no_such_prediction = Block("10.0.0.5");
  no_such_prediction.attack_prediction_id = 424242;  // the foreign key
  expect_validation(no_such_prediction, "unknown prediction");

  auto all = repo.ListDecisions({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->empty());
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_action_events"), 0);
}

// The healer writes a round of decisions at once: in input order, each with
// its first event, and when one fails in the database (here the foreign key)
// the ones before it are undone.
TEST_P(DecisionTest, ARoundOfDecisionsIsStoredTogetherOrNotAtAll) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  NewDecision orphan = Block("10.0.0.3");
  orphan.attack_prediction_id = 424242;
  auto refused = repo.InsertDecisions({Block("10.0.0.1"), Block("10.0.0.2"), orphan});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kValidation) << refused.status().ToString();
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_actions"), 0);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_action_events"), 0);

  auto none = repo.InsertDecisions({});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  NewDecision alert = Block("10.0.0.2");
  alert.action_type = "alert_admin";
  auto stored = repo.InsertDecisions({Block("10.0.0.1"), alert});
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].target, "10.0.0.1");
  EXPECT_EQ((*stored)[1].target, "10.0.0.2");
  EXPECT_EQ((*stored)[1].action_type, "alert_admin");
  EXPECT_LT((*stored)[0].id, (*stored)[1].id);
  for (const auto& d : *stored) {
    auto back = repo.GetDecision(d.id);
    ASSERT_TRUE(back.ok() && back->has_value());
    EXPECT_EQ((*back)->target, d.target);
    ASSERT_EQ((*back)->history.size(), 1u);
    EXPECT_EQ((*back)->history[0].message, "25 detections in 60 s");
  }
}

TEST_P(DecisionTest, ListIsNewestFirstFiltersBeforeLimitAndPages) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  // Oldest first: a..f.
  const WallTime t0 = clock_.Now();
  const Decision a = Insert(*db, Block("10.0.0.1"));
  clock_.Advance(seconds(1));
  NewDecision nb = Block("10.0.0.2");
  nb.status = "applied";
  const Decision b = Insert(*db, nb);
  clock_.Advance(seconds(1));
  NewDecision nc = Block("10.0.0.1");
  nc.action_type = "rate_limit";
  nc.mode = "simulate";
  const Decision c = Insert(*db, nc);
  clock_.Advance(seconds(1));
  NewDecision nd = Block("10.0.0.3");
  nd.origin = "api";
  nd.status = "applied";
  const Decision d = Insert(*db, nd);
  clock_.Advance(seconds(1));
  const Decision e = Insert(*db, Block("10.0.0.1"));
  clock_.Advance(seconds(1));
  const Decision f = Insert(*db, Block("10.0.0.4"));

  EXPECT_EQ(Ids(repo.ListDecisions({})), (std::vector<int64_t>{f.id, e.id, d.id, c.id, b.id, a.id}));
  // The two newest are pending, yet limit 1 finds an applied one.
  EXPECT_EQ(Ids(repo.ListDecisions({.limit = 1, .status = "applied"})), (std::vector<int64_t>{d.id}));
  EXPECT_EQ(Ids(repo.ListDecisions({.limit = 1, .offset = 1, .status = "applied"})), (std::vector<int64_t>{b.id}));
  EXPECT_TRUE(Ids(repo.ListDecisions({.limit = 1, .offset = 2, .status = "applied"})).empty());
  EXPECT_EQ(Ids(repo.ListDecisions({.target = "10.0.0.1"})), (std::vector<int64_t>{e.id, c.id, a.id}));
  EXPECT_EQ(Ids(repo.ListDecisions({.action_type = "block_ip", .target = "10.0.0.1"})),
            (std::vector<int64_t>{e.id, a.id}));
  EXPECT_EQ(Ids(repo.ListDecisions({.origin = "api"})), (std::vector<int64_t>{d.id}));
  EXPECT_EQ(Ids(repo.ListDecisions({.mode = "simulate"})), (std::vector<int64_t>{c.id}));
  EXPECT_EQ(Ids(repo.ListDecisions({.since = t0 + seconds(1), .until = t0 + seconds(3)})),
            (std::vector<int64_t>{d.id, c.id, b.id}));
  EXPECT_EQ(Ids(repo.ListDecisions({.limit = 2, .offset = 2})), (std::vector<int64_t>{d.id, c.id}));

  EXPECT_EQ(repo.ListDecisions({.limit = 0}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo.ListDecisions({.limit = 1001}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo.ListDecisions({.offset = -1}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo.ListDecisions({.status = "done"}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(repo.ListDecisions({.status = "logged"})->empty());
}

TEST_P(DecisionTest, StatusChangesCommitTogetherOrNotAtAll) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  const Decision a = Insert(*db, Block("10.0.0.1"));
  const Decision b = Insert(*db, Block("10.0.0.2"));
  clock_.Advance(seconds(1));

  // An unknown id anywhere in the list: NotFound, and a's change is undone.
  const Status missing = repo.UpdateDecisionStatus(
      {{a.id, "applied", "applied", std::nullopt, clock_.Now(), std::nullopt},
       {b.id + 1000, "applied", "applied", std::nullopt, clock_.Now(), std::nullopt}});
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound) << missing.ToString();
  EXPECT_NE(missing.message().find(std::to_string(b.id + 1000)), std::string::npos) << missing.ToString();
  auto a1 = repo.GetDecision(a.id);
  ASSERT_TRUE(a1.ok() && a1->has_value());
  EXPECT_EQ((*a1)->status, "pending");
  EXPECT_EQ((*a1)->updated_at, a.updated_at);
  EXPECT_FALSE((*a1)->execution_time.has_value());
  EXPECT_EQ((*a1)->history.size(), 1u);

  // A status that is not a decision status: Validation, nothing changed.
  EXPECT_EQ(repo.UpdateDecisionStatus({{a.id, "logged", "x", {}, {}, {}}}).code(), ErrorCode::kValidation);
  EXPECT_TRUE(repo.UpdateDecisionStatus({}).ok());

  const Status both = repo.UpdateDecisionStatus(
      {{a.id, "applied", "nft element added", std::nullopt, clock_.Now(), "healer"},
       {b.id, "failed", "nft failed", "nft: Operation not permitted", std::nullopt, "healer"}});
  ASSERT_TRUE(both.ok()) << both.ToString();
  auto a2 = repo.GetDecision(a.id);
  auto b2 = repo.GetDecision(b.id);
  ASSERT_TRUE(a2.ok() && a2->has_value() && b2.ok() && b2->has_value());
  EXPECT_EQ((*a2)->status, "applied");
  EXPECT_EQ((*a2)->updated_at, clock_.Now());
  EXPECT_EQ((*b2)->status, "failed");
  EXPECT_EQ((*b2)->error_message, std::optional<std::string>("nft: Operation not permitted"));
  EXPECT_FALSE((*b2)->execution_time.has_value());
  ASSERT_EQ((*b2)->history.size(), 2u);
  EXPECT_EQ((*b2)->history[1].status, "failed");
  EXPECT_EQ((*b2)->history[1].message, "nft failed");

  // A later change keeps what it does not set (execution time, error).
  clock_.Advance(seconds(1));
  ASSERT_TRUE(repo.UpdateDecisionStatus({{a.id, "revoked", "revoked by otto", {}, {}, "otto"}}).ok());
  auto a3 = repo.GetDecision(a.id);
  ASSERT_TRUE(a3.ok() && a3->has_value());
  EXPECT_EQ((*a3)->status, "revoked");
  EXPECT_EQ((*a3)->execution_time, (*a2)->execution_time);
  ASSERT_EQ((*a3)->history.size(), 3u);
  EXPECT_EQ((*a3)->history[2].actor, std::optional<std::string>("otto"));
}

TEST_P(DecisionTest, ActiveIsPendingOrAppliedAndUnexpiredAndExpireMarksExactlyTheDueOnes) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  const WallTime t0 = clock_.Now();
  auto with = [&](const std::string& target, const std::string& status, std::optional<WallTime> expires) {
    NewDecision nd = Block(target);
    nd.status = status;
    nd.expires_at = expires;
    clock_.Advance(std::chrono::milliseconds(1));
    return Insert(*db, nd);
  };
  const Decision soon = with("10.0.0.1", "applied", t0 + seconds(10));
  const Decision forever = with("10.0.0.2", "pending", std::nullopt);
  const Decision later = with("10.0.0.3", "applied", t0 + seconds(100));
  const Decision revoked = with("10.0.0.4", "revoked", t0 + seconds(10));
  const Decision failed = with("10.0.0.5", "failed", t0 + seconds(10));
  const Decision overdue = with("10.0.0.6", "pending", t0 - seconds(1));

  EXPECT_EQ(Ids(repo.ListActiveDecisions(clock_.Now())), (std::vector<int64_t>{soon.id, forever.id, later.id}));

  // expires_at <= now is due: `soon` exactly at its expiry, and the overdue one.
  clock_.Advance(seconds(5));
  const WallTime marked_at = clock_.Now();
  auto expired = repo.ExpireDecisions(t0 + seconds(10));
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  ASSERT_EQ(Ids(expired), (std::vector<int64_t>{soon.id, overdue.id}));
  for (const auto& d : *expired) {
    EXPECT_EQ(d.status, "expired");
    EXPECT_EQ(d.updated_at, marked_at);
  }
  EXPECT_EQ((*expired)[0].target, "10.0.0.1");
  EXPECT_TRUE(repo.ExpireDecisions(t0 + seconds(10))->empty());  // nothing twice

  auto got = repo.GetDecision(soon.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, "expired");
  ASSERT_EQ((*got)->history.size(), 2u);
  EXPECT_EQ((*got)->history[1].status, "expired");
  EXPECT_EQ((*got)->history[1].at, marked_at);
  EXPECT_EQ((*repo.GetDecision(revoked.id))->status, "revoked");
  EXPECT_EQ((*repo.GetDecision(failed.id))->status, "failed");
  EXPECT_EQ((*repo.GetDecision(failed.id))->history.size(), 1u);

  EXPECT_EQ(Ids(repo.ListActiveDecisions(t0 + seconds(10))), (std::vector<int64_t>{forever.id, later.id}));
  EXPECT_EQ(Ids(repo.ListActiveDecisions(t0 + seconds(100))), (std::vector<int64_t>{forever.id}));
}

TEST_P(DecisionTest, TwoInstancesExpiringAtOnceMarkEachDecisionOnce) {
  auto db1 = OpenMigrated();
  ASSERT_NE(db1, nullptr);
  auto db2 = Open();  // the same database, as a second threatd instance
  ASSERT_NE(db2, nullptr);
  constexpr int kDue = 40;
  for (int i = 0; i < kDue; ++i) {
    NewDecision nd = Block("10.0.1." + std::to_string(i));
    nd.expires_at = clock_.Now();
    Insert(*db1, nd);
  }
  std::vector<Decision> first, second;
  std::thread t1([&] {
    auto r = db1->Decisions().ExpireDecisions(clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) first = *r;
  });
  std::thread t2([&] {
    auto r = db2->Decisions().ExpireDecisions(clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) second = *r;
  });
  t1.join();
  t2.join();
  std::set<int64_t> ids;
  for (const auto& d : first) ids.insert(d.id);
  for (const auto& d : second) ids.insert(d.id);
  EXPECT_EQ(first.size() + second.size(), static_cast<size_t>(kDue));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kDue));
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_action_events WHERE status = 'expired'"), kDue);
}

TEST_P(DecisionTest, CountDecisionsCountsTargetActionAndModeInTheWindowWhateverTheStatus) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  const WallTime t0 = clock_.Now();
  const Decision first = Insert(*db, Block("198.51.100.9"));
  ASSERT_TRUE(repo.UpdateDecisionStatus({{first.id, "revoked", "revoked", {}, {}, {}}}).ok());
  clock_.Advance(minutes(1));
  Insert(*db, Block("198.51.100.9"));
  clock_.Advance(minutes(1));
  Insert(*db, Block("198.51.100.9"));
  NewDecision simulated = Block("198.51.100.9");
  simulated.mode = "simulate";
  Insert(*db, simulated);
  NewDecision rate = Block("198.51.100.9");
  rate.action_type = "rate_limit";
  Insert(*db, rate);
  Insert(*db, Block("198.51.100.10"));

  auto count = [&](WallTime since) {
    auto n = repo.CountDecisions("198.51.100.9", "block_ip", "enforce", since);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  };
  EXPECT_EQ(count(t0), 3);
  EXPECT_EQ(count(t0 + minutes(1)), 2);  // inclusive
  EXPECT_EQ(count(t0 + minutes(1) + std::chrono::microseconds(1)), 1);
  EXPECT_EQ(count(clock_.Now() + seconds(1)), 0);
  EXPECT_EQ(*repo.CountDecisions("198.51.100.9", "block_ip", "simulate", t0), 1);
  EXPECT_EQ(*repo.CountDecisions("203.0.113.1", "block_ip", "enforce", t0), 0);
}

TEST_P(DecisionTest, HealingSettingsAreOneRowThatSurvivesARestart) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  auto none = repo.GetHealingSettings();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  const nlohmann::json policy = {{"rules", nlohmann::json::array({{{"name", "ddos-block"}, {"threshold", 20}}})}};
  auto put = repo.PutHealingSettings(policy.dump(), "dry_run", "admin");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->mode, "dry_run");
  EXPECT_EQ(put->updated_at, clock_.Now());
  EXPECT_EQ(put->updated_by, std::optional<std::string>("admin"));
  EXPECT_EQ(nlohmann::json::parse(put->policy_json), policy);

  clock_.Advance(seconds(3));
  auto again = repo.PutHealingSettings(R"({"rules": []})", "enforce", std::nullopt);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->mode, "enforce");
  EXPECT_FALSE(again->updated_by.has_value());

  EXPECT_EQ(repo.PutHealingSettings("{", "enforce", std::nullopt).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(repo.PutHealingSettings("{}", "simulate", std::nullopt).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM healing_settings"), 1);

  db.reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  auto got = reopened->Decisions().GetHealingSettings();
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->mode, "enforce");
  EXPECT_EQ((*got)->updated_at, clock_.Now());
  EXPECT_EQ(nlohmann::json::parse((*got)->policy_json), nlohmann::json({{"rules", nlohmann::json::array()}}));
}

// Rows written before 0004 (one "logged" action per attack flow) survive it,
// read as decisions, and no longer go with their traffic.
TEST_P(DecisionTest, MigrationKeepsExistingActionsAndTheirTrafficNoLongerTakesThemAlong) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> v3, v4;
  for (const auto& m : EmbeddedMigrations(db->Dialect())) {
    if (m.version <= 3) v3.push_back(m);
    if (m.version <= 4) v4.push_back(m);
  }
  ASSERT_EQ(v3.size(), 3u);
  ASSERT_TRUE(db->Migrate(v3).ok());

  const int64_t prediction = AttackFlow(*db, "b-legacy");
  ASSERT_GT(prediction, 0);
  const WallTime at = clock_.Now();
  ExecSql("INSERT INTO self_healing_actions(attack_prediction_id, created_at, action_type, action_description, "
          "action_params, status, execution_time) VALUES (" +
          std::to_string(prediction) + ", " + TimeSql(at) + ", 'block_ip', 'legacy', '{\"ip\": \"10.0.0.1\"}', " +
          "'logged', " + TimeSql(at) + ")");
  ExecSql("INSERT INTO self_healing_actions(created_at, action_type, action_description, status) VALUES (" +
          TimeSql(at) + ", 'alert_admin', 'manual legacy', 'logged')");
  const int64_t legacy_id = ScalarSql("SELECT id FROM self_healing_actions WHERE action_description = 'legacy'");
  const int64_t manual_id = ScalarSql("SELECT id FROM self_healing_actions WHERE action_description = 'manual legacy'");

  auto report = db->Migrate(v4);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->applied.size(), 1u);
  EXPECT_EQ(report->applied[0].name, "0004_decisions.sql");

  auto legacy = db->Decisions().GetDecision(legacy_id);
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  ASSERT_TRUE(legacy->has_value());
  const Decision& l = **legacy;
  EXPECT_EQ(l.attack_prediction_id, std::optional<int64_t>(prediction));
  EXPECT_EQ(l.status, "logged");
  EXPECT_EQ(l.action_type, "block_ip");
  EXPECT_EQ(l.action_description, "legacy");
  ASSERT_TRUE(l.action_params_json.has_value());
  EXPECT_EQ(nlohmann::json::parse(*l.action_params_json), nlohmann::json({{"ip", "10.0.0.1"}}));
  EXPECT_EQ(l.created_at, at);
  EXPECT_EQ(l.updated_at, at);
  EXPECT_EQ(l.execution_time, std::optional<WallTime>(at));
  EXPECT_EQ(l.target, "");
  EXPECT_EQ(l.origin, "automatic");
  EXPECT_EQ(l.mode, "enforce");
  EXPECT_TRUE(l.trigger_flow_ids.empty());
  EXPECT_EQ(l.detections, 0);
  EXPECT_FALSE(l.expires_at.has_value());
  EXPECT_TRUE(l.history.empty());
  ASSERT_TRUE(db->Decisions().GetDecision(manual_id)->has_value());
  EXPECT_TRUE(db->Decisions().ListActiveDecisions(at)->empty());  // "logged" is not in force

  // The prediction API still reads them.
  PredictionFilter all;
  auto actions = db->Traffic().ListActions(all);
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  ASSERT_EQ(actions->size(), 2u);
  auto flows = db->Traffic().ListPredictions(all);
  ASSERT_TRUE(flows.ok() && flows->size() == 1u);
  ASSERT_TRUE(flows->front().self_healing_action.has_value());
  EXPECT_EQ(flows->front().self_healing_action->id, legacy_id);

  // New decisions follow the old ids.
  EXPECT_GT(Insert(*db, Block("10.0.0.9")).id, std::max(legacy_id, manual_id));

  // ON DELETE SET NULL: deleting the traffic keeps the decision.
  auto deleted = db->Traffic().DeleteBatchFlows("b-legacy");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 1);
  auto after = db->Decisions().GetDecision(legacy_id);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_FALSE((*after)->attack_prediction_id.has_value());
  EXPECT_EQ(db->Traffic().ListActions(all)->size(), 3u);
}

TEST_P(DecisionTest, RetentionKeepsDecisionsInForceAndDeletesFinishedOnesWithTheirEvents) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Decisions();
  const WallTime t0 = clock_.Now();
  auto with = [&](const std::string& target, const std::string& status, std::optional<WallTime> expires) {
    NewDecision nd = Block(target);
    nd.attack_prediction_id = AttackFlow(*db, "b-" + target);
    nd.status = status;
    nd.expires_at = expires;
    return Insert(*db, nd);
  };
  const Decision forever = with("10.0.0.1", "applied", std::nullopt);
  const Decision pending = with("10.0.0.2", "pending", t0 + hours(24 * 30));
  const Decision overdue = with("10.0.0.3", "applied", t0 + hours(1));  // not yet marked expired
  const Decision expired = with("10.0.0.4", "expired", t0 + hours(1));
  const Decision revoked = with("10.0.0.5", "applied", std::nullopt);
  ASSERT_TRUE(repo.UpdateDecisionStatus({{revoked.id, "revoked", "revoked", {}, {}, {}}}).ok());
  const Decision failed = with("10.0.0.6", "failed", std::nullopt);
  clock_.Advance(hours(24 * 10));
  const Decision recent = with("10.0.0.7", "revoked", std::nullopt);

  RetentionWorker worker(db->Traffic(), RetentionOptions{5, hours(1), 2}, clock_);
  auto n = worker.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 6 + 3);  // six old flows, three finished decisions

  for (const Decision& gone : {expired, revoked, failed}) {
    EXPECT_FALSE(repo.GetDecision(gone.id)->has_value()) << gone.target;
    EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_action_events WHERE action_id = " + std::to_string(gone.id)),
              0);
  }
  for (const Decision& kept : {forever, pending, overdue, recent}) {
    auto got = repo.GetDecision(kept.id);
    ASSERT_TRUE(got.ok() && got->has_value()) << kept.target;
    EXPECT_EQ((*got)->status, kept.status);
    EXPECT_FALSE((*got)->history.empty());
  }
  EXPECT_FALSE((*repo.GetDecision(forever.id))->attack_prediction_id.has_value());  // its flow is gone
  EXPECT_TRUE((*repo.GetDecision(recent.id))->attack_prediction_id.has_value());

  // Once marked expired, the overdue one goes in the next pass.
  ASSERT_EQ(Ids(repo.ExpireDecisions(clock_.Now())), (std::vector<int64_t>{overdue.id}));
  EXPECT_EQ(*worker.RunOnce(), 1);
  EXPECT_FALSE(repo.GetDecision(overdue.id)->has_value());
  EXPECT_EQ(Ids(repo.ListActiveDecisions(clock_.Now())), (std::vector<int64_t>{forever.id, pending.id}));
}

INSTANTIATE_TEST_SUITE_P(Backends, DecisionTest, ::testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         BackendName);

}  // namespace
}  // namespace threatd::storage::testing
