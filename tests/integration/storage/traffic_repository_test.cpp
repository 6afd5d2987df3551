// TrafficRepository against both backends: the pipeline's batch insert, the
// prediction queries (with the decisions the healing component writes through
// DecisionRepository), upload batches and retention.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>

#include <unistd.h>

#include "flow/features.h"
#include "integration/storage/storage_fixture.h"
#include "storage/retention.h"
#include "storage/traffic_sql.h"

namespace threatd::storage::testing {
namespace {

class TrafficTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (IsSkipped()) return;
    db_ = OpenMigrated();
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override {
    db_.reset();
    StorageTest::TearDown();
  }

  TrafficRepository& traffic() { return db_->Traffic(); }

  // A flow; attack_type empty = no attack prediction.
  NewScoredFlow Flow(bool is_attack, const std::string& attack_type = "") {
    NewScoredFlow f;
    for (size_t i = 0; i < f.features.size(); ++i) f.features[i] = static_cast<float>(i) + 0.5f;
    f.features[3] = std::numeric_limits<float>::quiet_NaN();
    f.ids.src_ip = "10.0.0.1";
    f.ids.dst_ip = "10.0.0.2";
    f.ids.src_port = 40000;
    f.ids.dst_port = 443;
    f.ids.protocol = 6;
    f.label = is_attack ? "DDoS" : "BENIGN";
    f.created_at = NextTime();
    f.threat = {is_attack ? 0.9 : 0.1, is_attack, 0.5, "det-1"};
    if (!attack_type.empty()) f.attack = NewAttackPrediction{3, attack_type, 0.75, "cls-1"};
    return f;
  }

  std::vector<StoredFlowIds> Insert(ScoredFlowBatch batch) {
    std::vector<StoredFlowIds> ids;
    const Status s = traffic().InsertScoredFlows(batch, &ids);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ids;
  }

  ScoredFlowBatch Batch(std::vector<NewScoredFlow> flows, std::optional<std::string> batch_id = {}) {
    ScoredFlowBatch b;
    b.source = batch_id ? "upload" : "realtime";
    b.batch_id = std::move(batch_id);
    b.flows = std::move(flows);
    return b;
  }

  int64_t CountAll() {
    PredictionFilter f;
    f.limit = 1000;
    auto rows = traffic().ListPredictions(f);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? static_cast<int64_t>(rows->size()) : -1;
  }

  // A decision about 10.0.0.1 triggered by `attack_prediction_id` (0: none).
  Decision Decide(int64_t attack_prediction_id, const std::string& action_type, const std::string& status = "applied",
                  std::optional<WallTime> expires_at = {}) {
    NewDecision d;
    if (attack_prediction_id != 0) d.attack_prediction_id = attack_prediction_id;
    d.target = "10.0.0.1";
    d.action_type = action_type;
    d.action_description = "because";
    d.action_params_json = R"({"ip": "10.0.0.1"})";
    d.origin = "automatic";
    d.mode = "enforce";
    d.status = status;
    d.expires_at = expires_at;
    auto r = db_->Decisions().InsertDecision(d);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Decision{};
  }

  std::unique_ptr<Database> db_;
};

TEST_P(TrafficTest, InsertThenReadBackACompletePrediction) {
  auto ids = Insert(Batch({Flow(true, "DDoS"), Flow(false)}));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_GT(ids[0].traffic_data_id, 0);
  EXPECT_GT(ids[0].attack_prediction_id, 0);
  EXPECT_EQ(ids[1].attack_prediction_id, 0);
  EXPECT_FALSE(ids[0].duplicate);
  // Decisions come after the flows; the flow shows the newest of its prediction.
  Decide(ids[0].attack_prediction_id, "alert_admin");
  clock_.Advance(std::chrono::seconds(1));
  const WallTime expiry = clock_.Now() + std::chrono::minutes(10);
  const Decision newest = Decide(ids[0].attack_prediction_id, "block_ip", "applied", expiry);

  auto got = traffic().GetPrediction(ids[0].traffic_data_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const CompletePrediction& p = **got;
  EXPECT_EQ(p.traffic_data.source, "realtime");
  EXPECT_EQ(p.traffic_data.src_ip, std::optional<std::string>("10.0.0.1"));
  EXPECT_EQ(p.traffic_data.dst_port, std::optional<int64_t>(443));
  EXPECT_EQ(p.traffic_data.label, std::optional<std::string>("DDoS"));
  ASSERT_NE(p.traffic_data.feature_names, nullptr);
  ASSERT_EQ(p.traffic_data.feature_names->size(), flow::kFeatureCount);
  ASSERT_EQ(p.traffic_data.feature_values.size(), flow::kFeatureCount);
  EXPECT_EQ((*p.traffic_data.feature_names)[0], flow::CanonicalFeatures()[0].name);
  EXPECT_DOUBLE_EQ(p.traffic_data.feature_values[1], 1.5);
  EXPECT_TRUE(std::isnan(p.traffic_data.feature_values[3]));
  ASSERT_TRUE(p.threat_prediction.has_value());
  EXPECT_TRUE(p.threat_prediction->is_attack);
  EXPECT_DOUBLE_EQ(p.threat_prediction->prediction_score, 0.9);
  EXPECT_EQ(p.threat_prediction->id, ids[0].threat_prediction_id);
  ASSERT_TRUE(p.attack_prediction.has_value());
  EXPECT_EQ(p.attack_prediction->attack_type_name, "DDoS");
  EXPECT_EQ(p.attack_prediction->confidence, std::optional<double>(0.75));
  ASSERT_TRUE(p.self_healing_action.has_value());
  EXPECT_EQ(p.self_healing_action->id, newest.id);
  EXPECT_EQ(p.self_healing_action->action_type, "block_ip");
  EXPECT_EQ(p.self_healing_action->attack_prediction_id, std::optional<int64_t>(ids[0].attack_prediction_id));
  EXPECT_EQ(p.self_healing_action->status, "applied");
  EXPECT_EQ(p.self_healing_action->target, "10.0.0.1");
  EXPECT_EQ(p.self_healing_action->origin, "automatic");
  EXPECT_EQ(p.self_healing_action->mode, "enforce");
  EXPECT_EQ(p.self_healing_action->expires_at, std::optional<WallTime>(expiry));
  EXPECT_EQ(p.self_healing_action->created_at, newest.created_at);
  auto other = traffic().GetPrediction(ids[1].traffic_data_id);
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_FALSE((*other)->self_healing_action.has_value());
  EXPECT_EQ(p.traffic_data.created_at, p.threat_prediction->created_at);

  auto none = traffic().GetPrediction(ids[1].traffic_data_id + 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(TrafficTest, FeaturesAreStoredAsFloat32AndOlderFloat64RowsStillRead) {
  auto ids = Insert(Batch({Flow(false)}));
  const std::string id = std::to_string(ids[0].traffic_data_id);
  const int64_t n = static_cast<int64_t>(flow::kFeatureCount);
  // 1 format byte + 4 bytes per feature (docs/formats/database.md).
  const std::string length = GetParam() == Backend::kSqlite ? "length" : "octet_length";
  EXPECT_EQ(ScalarSql("SELECT " + length + "(features) FROM traffic_data WHERE id = " + id), 1 + 4 * n);

  // A row as threatd wrote it before: float64s, no header. Values 0, 1.5, 3, 4.5, ...
  std::string hex;
  for (int64_t i = 0; i < n; ++i) {
    const double v = 1.5 * static_cast<double>(i);
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    for (int b = 0; b < 8; ++b) hex += fmt::format("{:02x}", (bits >> (8 * b)) & 0xff);  // little-endian
  }
  ExecSql("UPDATE traffic_data SET features = " +
          (GetParam() == Backend::kSqlite ? "X'" + hex + "'" : "decode('" + hex + "', 'hex')") + " WHERE id = " + id);
  auto got = traffic().GetPrediction(ids[0].traffic_data_id);
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  const auto& values = (*got)->traffic_data.feature_values;
  ASSERT_EQ(values.size(), flow::kFeatureCount);
  EXPECT_DOUBLE_EQ(values[0], 0.0);
  EXPECT_DOUBLE_EQ(values[3], 4.5);
  EXPECT_DOUBLE_EQ(values[n - 1], 1.5 * static_cast<double>(n - 1));
}

TEST_P(TrafficTest, StoredFeatureSubsetKeepsItsNames) {
  ScoredFlowBatch b = Batch({Flow(false)});
  b.stored_features = {5, 1};
  auto ids = Insert(b);
  auto got = traffic().GetPrediction(ids[0].traffic_data_id);
  ASSERT_TRUE(got.ok() && got->has_value());
  const auto& t = (*got)->traffic_data;
  ASSERT_EQ(t.feature_names->size(), 2u);
  EXPECT_EQ((*t.feature_names)[0], flow::CanonicalFeatures()[5].name);
  EXPECT_DOUBLE_EQ(t.feature_values[1], 1.5);

  b.stored_features = {flow::kFeatureCount};
  std::vector<StoredFlowIds> out;
  EXPECT_EQ(traffic().InsertScoredFlows(b, &out).code(), ErrorCode::kValidation);
}

TEST_P(TrafficTest, KafkaDuplicatesAreSkippedAndReported) {
  auto a = Flow(false);
  a.kafka = KafkaPosition{"network-traffic", 0, 7};
  auto b = Flow(false);
  b.kafka = KafkaPosition{"network-traffic", 0, 8};
  auto first = Insert(Batch({a, b}));
  EXPECT_FALSE(first[0].duplicate);

  auto c = Flow(false);
  c.kafka = KafkaPosition{"network-traffic", 0, 9};
  auto again = Insert(Batch({a, c, c}));
  ASSERT_EQ(again.size(), 3u);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].traffic_data_id, 0);
  EXPECT_FALSE(again[1].duplicate);
  EXPECT_TRUE(again[2].duplicate);
  EXPECT_EQ(CountAll(), 3);
}

// A batch large enough that SQLite writes its predictions many rows to a
// statement, with Kafka duplicates and flows without an attack between the
// others: every prediction is stored with its own flow, and none for a
// duplicate.
TEST_P(TrafficTest, EveryPredictionOfALargeBatchIsStoredWithItsOwnFlow) {
  constexpr int kFlows = 300;  // several statements' worth, and a remainder
  std::vector<NewScoredFlow> first_pass;
  for (int i = 0; i < kFlows; i += 7) {  // stored before: duplicates below
    auto f = Flow(false);
    f.kafka = KafkaPosition{"network-traffic", 1, i};
    first_pass.push_back(std::move(f));
  }
  Insert(Batch(first_pass));
  const int64_t before = CountAll();

  std::vector<NewScoredFlow> flows;
  for (int i = 0; i < kFlows; ++i) {
    auto f = Flow(i % 3 == 0, i % 3 == 0 ? fmt::format("type-{}", i) : "");
    f.threat.prediction_score = i / 1000.0;
    f.ids.src_port = 1000 + i;
    f.kafka = KafkaPosition{"network-traffic", 1, i};
    flows.push_back(std::move(f));
  }
  auto ids = Insert(Batch(flows));
  ASSERT_EQ(ids.size(), static_cast<size_t>(kFlows));
  int stored = 0;
  for (int i = 0; i < kFlows; ++i) {
    SCOPED_TRACE(fmt::format("flow {}", i));
    EXPECT_EQ(ids[i].duplicate, i % 7 == 0);
    if (ids[i].duplicate) continue;
    ++stored;
    auto got = traffic().GetPrediction(ids[i].traffic_data_id);
    ASSERT_TRUE(got.ok() && got->has_value());
    const CompletePrediction& p = **got;
    EXPECT_EQ(p.traffic_data.src_port, std::optional<int64_t>(1000 + i));
    ASSERT_TRUE(p.threat_prediction.has_value());
    EXPECT_DOUBLE_EQ(p.threat_prediction->prediction_score, i / 1000.0);
    EXPECT_EQ(p.threat_prediction->created_at, p.traffic_data.created_at);
    EXPECT_EQ(p.attack_prediction.has_value(), i % 3 == 0);
    if (p.attack_prediction) {
      EXPECT_EQ(p.attack_prediction->attack_type_name, fmt::format("type-{}", i));
    }
  }
  EXPECT_EQ(CountAll(), before + stored);
}

// Text goes to PostgreSQL in COPY's text format, where a tab ends a field,
// a newline a row and a backslash starts an escape: text holding them, and
// a field that is empty, come back exactly as written.
TEST_P(TrafficTest, TextWithTabsNewlinesAndBackslashesComesBackAsWritten) {
  const std::string awkward = "a\tb\nc\\d\r\\N\\.\x01 \xc3\xa9";
  auto f = Flow(true, "Web \\ Attack\t" + awkward);
  f.label = awkward;
  f.ids.src_ip = "";
  f.ids.flow_id = "10.0.0.1-10.0.0.2\t" + awkward;
  f.threat.model_version = "det\\1\n";
  f.kafka = KafkaPosition{"topic\\with\ttab", 3, 41};
  const auto ids = Insert(Batch({f}, "batch\\" + awkward));
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_GT(ids[0].traffic_data_id, 0);

  PredictionFilter all;
  all.limit = 10;
  auto rows = traffic().ListPredictions(all);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  const auto& row = rows->front();
  EXPECT_EQ(row.traffic_data.label, std::optional<std::string>(awkward));
  EXPECT_EQ(row.traffic_data.batch_id, std::optional<std::string>("batch\\" + awkward));
  EXPECT_EQ(row.traffic_data.feature_values[0], 0.5);
  ASSERT_TRUE(row.threat_prediction.has_value());
  EXPECT_EQ(row.threat_prediction->model_version, "det\\1\n");
  ASSERT_TRUE(row.attack_prediction.has_value());
  EXPECT_EQ(row.attack_prediction->attack_type_name, "Web \\ Attack\t" + awkward);

  // The same position again is known, so the topic was stored as written.
  auto again = Insert(Batch({f}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].duplicate);
}

TEST_P(TrafficTest, AFailingBatchStoresNothing) {
  // A last row each backend rejects: SQLite binds a NaN score as NULL (NOT
  // NULL column); PostgreSQL limits attack_type_name to 100 characters.
  auto bad = Flow(true, std::string(200, 'x'));
  bad.threat.prediction_score = std::numeric_limits<double>::quiet_NaN();
  std::vector<StoredFlowIds> ids;
  const Status s = traffic().InsertScoredFlows(Batch({Flow(false), Flow(true, "DDoS"), bad}), &ids);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(CountAll(), 0);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].traffic_data_id, 0);
}

TEST_P(TrafficTest, FiltersApplyBeforeLimit) {
  std::vector<NewScoredFlow> flows;
  for (int i = 0; i < 5; ++i) flows.push_back(Flow(true, "PortScan"));  // oldest
  for (int i = 0; i < 40; ++i) flows.push_back(Flow(false, "BENIGN"));
  const auto ids = Insert(Batch(flows));
  for (size_t i = 0; i < ids.size(); ++i) Decide(ids[i].attack_prediction_id, i < 5 ? "alert_admin" : "log_only");

  PredictionFilter f;
  f.limit = 5;
  f.attacks_only = true;
  auto threats = traffic().ListThreats(f);
  ASSERT_TRUE(threats.ok()) << threats.status().ToString();
  EXPECT_EQ(threats->size(), 5u);
  for (const auto& t : *threats) EXPECT_TRUE(t.is_attack);

  auto complete = traffic().ListPredictions(f);
  ASSERT_TRUE(complete.ok()) << complete.status().ToString();
  EXPECT_EQ(complete->size(), 5u);

  PredictionFilter by_type;
  by_type.limit = 3;
  by_type.attack_type = "PortScan";
  auto attacks = traffic().ListAttacks(by_type);
  ASSERT_TRUE(attacks.ok());
  EXPECT_EQ(attacks->size(), 3u);
  by_type.offset = 3;
  EXPECT_EQ(traffic().ListAttacks(by_type)->size(), 2u);

  PredictionFilter by_action;
  by_action.limit = 10;
  by_action.action_type = "alert_admin";
  auto actions = traffic().ListActions(by_action);
  ASSERT_TRUE(actions.ok());
  EXPECT_EQ(actions->size(), 5u);
  auto complete_by_action = traffic().ListPredictions(by_action);
  ASSERT_TRUE(complete_by_action.ok());
  EXPECT_EQ(complete_by_action->size(), 5u);

  // Newest first; the time window selects the oldest five.
  PredictionFilter window;
  window.limit = 100;
  window.until = flows[4].created_at;
  auto early = traffic().ListPredictions(window);
  ASSERT_TRUE(early.ok());
  ASSERT_EQ(early->size(), 5u);
  EXPECT_EQ(early->front().traffic_data.created_at, flows[4].created_at);
  window.until.reset();
  window.since = flows[44].created_at;
  EXPECT_EQ(traffic().ListPredictions(window)->size(), 1u);

  PredictionFilter bad;
  bad.limit = 0;
  EXPECT_EQ(traffic().ListPredictions(bad).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(TrafficTest, StatsAndDistributionsExcludeBenign) {
  const auto ids = Insert(Batch({Flow(true, "DDoS"), Flow(true, "DDoS"), Flow(true, "PortScan"), Flow(false, "BENIGN"),
                                 Flow(false)}));
  const char* actions_of[] = {"block_ip", "block_ip", "alert_admin", "log_only"};
  for (size_t i = 0; i < 4; ++i) Decide(ids[i].attack_prediction_id, actions_of[i]);
  auto dist = traffic().AttackDistribution({});
  ASSERT_TRUE(dist.ok()) << dist.status().ToString();
  ASSERT_EQ(dist->counts.size(), 2u);
  EXPECT_EQ(dist->counts[0], (std::pair<std::string, int64_t>("DDoS", 2)));
  EXPECT_EQ(dist->total, 3);

  auto actions = traffic().ActionDistribution({});
  ASSERT_TRUE(actions.ok());
  EXPECT_EQ(actions->total, 4);
  ASSERT_EQ(actions->counts.size(), 3u);
  EXPECT_EQ(actions->counts[0], (std::pair<std::string, int64_t>("block_ip", 2)));

  auto st = traffic().Stats({});
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->total_predictions, 5);
  EXPECT_EQ(st->total_attacks, 3);
  EXPECT_EQ(st->total_normal, 2);
  EXPECT_DOUBLE_EQ(st->attack_rate, 60.0);
  EXPECT_EQ(st->attack_types.total, 3);
  EXPECT_EQ(st->recent.size(), 5u);
}

// A flow at `at`; `attack_type` "" = flagged but not classified.
NewScoredFlow At(NewScoredFlow f, WallTime at, const std::string& src_ip = "10.0.0.1") {
  f.created_at = at;
  f.ids.src_ip = src_ip;
  return f;
}

TEST_P(TrafficTest, TimelineCountsFlowsAndAttacksPerBucket) {
  using std::chrono::microseconds;
  using std::chrono::seconds;
  const WallTime since = NextTime();
  const WallTime until = since + seconds(240);
  Insert(Batch({
      At(Flow(false), since - microseconds(1)),        // before the range
      At(Flow(true, "DDoS"), since),                   // bucket 0
      At(Flow(false), since + seconds(30)),            // bucket 0, not an attack
      At(Flow(true, "BENIGN"), since + seconds(60)),   // bucket 1: flagged, but the classifier says BENIGN
      At(Flow(true), since + seconds(90)),             // bucket 1: flagged, not classified = attack
      At(Flow(true, "PortScan"), until),               // `until` itself belongs to the last bucket
      At(Flow(true, "DDoS"), until + microseconds(1)),  // after the range
  }));

  auto got = traffic().Timeline({since, until, 4});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 4u);
  const int64_t totals[] = {2, 2, 0, 1};
  const int64_t attacks[] = {1, 1, 0, 1};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ((*got)[i].start, since + seconds(60) * static_cast<int>(i));
    EXPECT_EQ((*got)[i].end, since + seconds(60) * static_cast<int>(i + 1));
    EXPECT_EQ((*got)[i].total, totals[i]);
    EXPECT_EQ((*got)[i].attacks, attacks[i]);
  }

  // Buckets that do not divide the range: equal whole-millisecond widths,
  // the last one ending at `until`, nothing lost or counted twice.
  auto seven = traffic().Timeline({since, until, 7});
  ASSERT_TRUE(seven.ok()) << seven.status().ToString();
  ASSERT_EQ(seven->size(), 7u);
  const auto width = (*seven)[1].start - (*seven)[0].start;
  EXPECT_EQ(width, std::chrono::milliseconds(34286));
  int64_t total = 0, attack_total = 0;
  for (size_t i = 0; i < seven->size(); ++i) {
    if (i > 0) {
      EXPECT_EQ((*seven)[i].start, (*seven)[i - 1].end);
    }
    if (i + 1 < seven->size()) {
      EXPECT_EQ((*seven)[i].end - (*seven)[i].start, width);
    }
    total += (*seven)[i].total;
    attack_total += (*seven)[i].attacks;
  }
  EXPECT_EQ((*seven)[0].start, since);
  EXPECT_EQ(seven->back().end, until);
  EXPECT_EQ(seven->back().total, 1) << "the flow at `until`";
  EXPECT_EQ(total, 5);
  EXPECT_EQ(attack_total, 3);

  // One bucket over the whole range agrees with Stats on the totals.
  auto one = traffic().Timeline({since, until, 1});
  ASSERT_TRUE(one.ok());
  auto st = traffic().Stats({since, until});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(one->at(0).total, st->total_predictions);
  EXPECT_EQ(one->at(0).attacks, st->total_attacks - 1) << "Stats counts the flow the classifier called BENIGN";

  for (const TimelineQuery bad : {TimelineQuery{since, until, 0}, TimelineQuery{since, until, 501},
                                  TimelineQuery{since, since, 1}, TimelineQuery{until, since, 1},
                                  TimelineQuery{since, since + seconds(60), 61}}) {
    EXPECT_EQ(traffic().Timeline(bad).status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_P(TrafficTest, TopSourcesRanksAttackFlowsBySourceInRange) {
  using std::chrono::seconds;
  const WallTime old = NextTime();
  const WallTime since = old + seconds(10);
  std::vector<NewScoredFlow> flows;
  for (int i = 0; i < 10; ++i) flows.push_back(At(Flow(true, "DDoS"), old + std::chrono::milliseconds(i), "10.0.0.5"));
  WallTime t = since;
  auto next = [&] { return t += seconds(1); };
  flows.push_back(At(Flow(true, "DDoS"), next(), "10.0.0.1"));
  flows.push_back(At(Flow(true, "PortScan"), next(), "10.0.0.1"));
  flows.push_back(At(Flow(true, "DDoS"), next(), "10.0.0.1"));
  const WallTime last_of_1 = t;
  flows.push_back(At(Flow(true), next(), "10.0.0.2"));
  flows.push_back(At(Flow(true, "PortScan"), next(), "10.0.0.2"));
  flows.push_back(At(Flow(true), next(), "10.0.0.2"));
  const WallTime last_of_2 = t;
  flows.push_back(At(Flow(true), next(), "10.0.0.4"));
  flows.push_back(At(Flow(true), next(), "10.0.0.4"));
  // Not attack flows: the detector said normal, or the classifier said BENIGN.
  for (int i = 0; i < 5; ++i) flows.push_back(At(Flow(false), next(), "10.0.0.3"));
  flows.push_back(At(Flow(true, "BENIGN"), next(), "10.0.0.3"));
  // No source address.
  for (int i = 0; i < 5; ++i) flows.push_back(At(Flow(true, "DDoS"), next(), ""));
  Insert(Batch(flows));

  auto top = traffic().TopSources({since, std::nullopt}, 10);
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  ASSERT_EQ(top->size(), 3u);
  // .1 and .2 both have 3; .2's newest attack is later.
  EXPECT_EQ((*top)[0].src_ip, "10.0.0.2");
  EXPECT_EQ((*top)[0].attacks, 3);
  EXPECT_EQ((*top)[0].last_seen, last_of_2);
  EXPECT_EQ((*top)[0].top_attack_type, std::optional<std::string>("PortScan"));
  EXPECT_EQ((*top)[1].src_ip, "10.0.0.1");
  EXPECT_EQ((*top)[1].attacks, 3);
  EXPECT_EQ((*top)[1].last_seen, last_of_1);
  EXPECT_EQ((*top)[1].top_attack_type, std::optional<std::string>("DDoS"));
  EXPECT_EQ((*top)[2].src_ip, "10.0.0.4");
  EXPECT_EQ((*top)[2].attacks, 2);
  EXPECT_EQ((*top)[2].top_attack_type, std::nullopt);

  // The range applies before the limit: without it, .5's old flows lead.
  auto all = traffic().TopSources({}, 1);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].src_ip, "10.0.0.5");
  EXPECT_EQ((*all)[0].attacks, 10);
  auto before = traffic().TopSources({std::nullopt, since}, 5);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].src_ip, "10.0.0.5");
  auto two = traffic().TopSources({since, std::nullopt}, 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].src_ip, "10.0.0.1");

  EXPECT_EQ(traffic().TopSources({}, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(traffic().TopSources({}, 101).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(TrafficTest, UploadBatchLifecycleAndCompensation) {
  const WallTime t0 = NextTime();
  ASSERT_TRUE(traffic().CreateUploadBatch({"b-1", "flows.csv", "admin", t0}).ok());
  EXPECT_EQ(traffic().CreateUploadBatch({"b-1", "flows.csv", "admin", t0}).code(), ErrorCode::kConflict);
  const auto b1 = Insert(Batch({Flow(true, "DDoS"), Flow(false)}, "b-1"));
  const Decision decision = Decide(b1[0].attack_prediction_id, "block_ip");
  Insert(Batch({Flow(false)}));

  PredictionFilter f;
  f.batch_id = "b-1";
  f.oldest_first = true;
  auto rows = traffic().ListPredictions(f);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_LT(rows->at(0).traffic_data.id, rows->at(1).traffic_data.id);

  UploadBatchOutcome done{std::string(kBatchCompleted), 3, 2, 1, R"({"rejected": {"nan": 1}})", {}, NextTime()};
  ASSERT_TRUE(traffic().FinishUploadBatch("b-1", done).ok());
  EXPECT_EQ(traffic().FinishUploadBatch("nope", done).code(), ErrorCode::kNotFound);
  auto got = traffic().GetUploadBatch("b-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, "completed");
  EXPECT_EQ((*got)->accepted_rows, 2);
  EXPECT_EQ((*got)->stored_flows, 2);
  EXPECT_EQ((*got)->created_at, t0);
  ASSERT_TRUE((*got)->summary_json.has_value());
  EXPECT_NE((*got)->summary_json->find("rejected"), std::string::npos);

  ASSERT_TRUE(traffic().CreateUploadBatch({"b-2", "crash.csv", std::nullopt, NextTime()}).ok());
  Insert(Batch({Flow(false)}, "b-2"));
  auto list = traffic().ListUploadBatches(10, 0);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->front().batch_id, "b-2");  // newest first

  auto failed = traffic().FailAbandonedUploads(NextTime());
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(*failed, 1);
  EXPECT_EQ((*traffic().GetUploadBatch("b-2"))->status, "failed");
  EXPECT_EQ((*traffic().GetUploadBatch("b-2"))->stored_flows, 0);
  EXPECT_EQ(CountAll(), 3);

  auto deleted = traffic().DeleteBatchFlows("b-1");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(CountAll(), 1);
  // The decision outlives its flow (ON DELETE SET NULL): a block in force
  // must not vanish with the traffic that triggered it.
  EXPECT_EQ(traffic().ActionDistribution({})->total, 1);
  auto kept = db_->Decisions().GetDecision(decision.id);
  ASSERT_TRUE(kept.ok() && kept->has_value()) << kept.status().ToString();
  EXPECT_EQ((*kept)->attack_prediction_id, std::nullopt);
  EXPECT_EQ((*kept)->status, "applied");
}

TEST_P(TrafficTest, RetentionDeletesOnlyOldRows) {
  const auto old_ids = Insert(Batch({Flow(true, "DDoS"), Flow(false), Flow(false)}));
  const Decision finished = Decide(old_ids[0].attack_prediction_id, "block_ip", "failed");
  const Decision in_force = Decide(old_ids[0].attack_prediction_id, "block_ip", "applied");
  clock_.Advance(std::chrono::hours(24 * 10));
  const auto new_ids = Insert(Batch({Flow(false), Flow(true, "DDoS")}));
  Decide(new_ids[1].attack_prediction_id, "block_ip", "revoked");
  RetentionWorker worker(traffic(), RetentionOptions{5, std::chrono::hours(1), 2}, clock_);
  auto n = worker.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4);  // 3 flows + 1 finished decision
  EXPECT_EQ(CountAll(), 2);
  EXPECT_EQ(traffic().ActionDistribution({})->total, 2);  // the old one in force, the new one
  EXPECT_FALSE(db_->Decisions().GetDecision(finished.id)->has_value());
  auto kept = db_->Decisions().GetDecision(in_force.id);
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->attack_prediction_id, std::nullopt);
  EXPECT_EQ(worker.stats().rows_deleted.load(), 4u);
  EXPECT_EQ(worker.HealthCheck()["status"], "ok");

  RetentionWorker disabled(traffic(), RetentionOptions{0, std::chrono::hours(1), 2}, clock_);
  EXPECT_EQ(*disabled.RunOnce(), 0);
  EXPECT_EQ(disabled.HealthCheck()["status"], "disabled");
}

// PostgreSQL: a superuser's batch inserts skip the per-row foreign-key
// checks (session_replication_role, this transaction only); an ordinary role
// keeps them. Either way every prediction references its flow and deleting
// a flow still cascades.
class PgTrafficTest : public TrafficTest {};  // PostgreSQL only

TEST_P(PgTrafficTest, OrdinaryAndSuperuserRolesBothStoreConsistentRowsThatCascade) {
  const std::string role = "threatd_app_" + std::to_string(::getpid());
  ExecSql("DROP ROLE IF EXISTS " + role);
  ExecSql("CREATE ROLE " + role + " LOGIN NOSUPERUSER");
  ExecSql("GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role);
  ExecSql("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role);
  const std::string superuser_url = url_;
  url_.replace(url_.find("://postgres@") + 3, std::string("postgres").size(), role);
  {
    auto app = Open();
    ASSERT_NE(app, nullptr);
    std::vector<StoredFlowIds> ids;
    const Status s = app->Traffic().InsertScoredFlows(Batch({Flow(true, "DDoS"), Flow(false)}), &ids);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(ScalarSql("SELECT (current_setting('is_superuser') = 'on')::int"), 0);  // ScalarSql uses url_
  }
  url_ = superuser_url;
  Insert(Batch({Flow(true, "PortScan"), Flow(false), Flow(true, "DDoS")}));
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM traffic_data"), 5);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM threat_predictions tp JOIN traffic_data td ON td.id = tp.traffic_data_id"), 5);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM attack_predictions ap JOIN traffic_data td ON td.id = ap.traffic_data_id"), 3);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM traffic_data td JOIN feature_schemas fs ON fs.id = td.feature_schema_id"), 5);
  // The constraints are still there and still enforced outside the batch insert.
  EXPECT_FALSE(TryExecSql("INSERT INTO threat_predictions(id, traffic_data_id, prediction_score, is_attack, "
                          "model_version) VALUES (-1, -1, 0.5, true, 'x')")
                   .ok());
  ExecSql("DELETE FROM traffic_data");
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM threat_predictions") + ScalarSql("SELECT count(*) FROM attack_predictions"), 0);
  db_.reset();
  ExecSql("DROP OWNED BY " + role);
  // The role is dropped with the server; other databases may still hold grants.
}

TEST_P(TrafficTest, RetentionThreadStartsAndStops) {
  Insert(Batch({Flow(false)}));
  clock_.Advance(std::chrono::hours(24 * 2));
  RetentionWorker worker(traffic(), RetentionOptions{1, std::chrono::hours(1), 100}, clock_);
  worker.Start();
  // The first pass runs at start; Stop() then wakes the waiting thread.
  for (int i = 0; i < 2000 && worker.stats().passes.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  worker.Stop();
  EXPECT_GE(worker.stats().passes.load(), 1u);
  EXPECT_EQ(CountAll(), 0);
}

// Schema v6: flows without a batch_id (Kafka, the test stream) add no entry to
// the batch_id index, and every query on batch_id can still use it.
TEST_P(TrafficTest, BatchIdIndexIsPartialAndServesEveryBatchQuery) {
  const std::string definition =
      GetParam() == Backend::kSqlite
          ? "SELECT count(*) FROM sqlite_master WHERE name = 'ix_traffic_data_batch_id' AND sql LIKE "
            "'%WHERE batch_id IS NOT NULL%'"
          : "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_traffic_data_batch_id' AND indexdef LIKE "
            "'%WHERE (batch_id IS NOT NULL)%'";
  EXPECT_EQ(ScalarSql(definition), 1);
  // The shapes of the repositories' batch queries (src/storage/traffic_sql.cpp
  // and the two traffic repositories).
  for (const std::string sql :
       {"SELECT count(*) FROM traffic_data td WHERE td.batch_id = 'b1'",
        "SELECT u.batch_id, (SELECT count(*) FROM traffic_data td WHERE td.batch_id = u.batch_id) FROM upload_batches u",
        "DELETE FROM traffic_data WHERE batch_id = 'b1'",
        "DELETE FROM traffic_data WHERE batch_id IN (SELECT batch_id FROM upload_batches WHERE status = 'processing')"}) {
    const std::string plan = PlanSql(sql);
    EXPECT_NE(plan.find("ix_traffic_data_batch_id"), std::string::npos) << sql << "\n" << plan;
  }
}

// Schema v7: a flow's predictions share its id, the prediction tables keep no
// index of their own but the primary keys (and attack_type_name), and every
// query by time walks traffic_data's created_at index and joins on the id.
TEST_P(TrafficTest, PredictionsShareTheirFlowsIdAndQueriesByTimeUseItsIndex) {
  const auto ids = Insert(Batch({Flow(true, "DDoS"), Flow(false), Flow(true, "PortScan")}));
  ASSERT_EQ(ids.size(), 3u);
  for (const auto& id : ids) EXPECT_EQ(id.threat_prediction_id, id.traffic_data_id);
  EXPECT_EQ(ids[0].attack_prediction_id, ids[0].traffic_data_id);
  EXPECT_EQ(ids[1].attack_prediction_id, 0);
  const bool pg = GetParam() == Backend::kPostgresql;
  EXPECT_EQ(ScalarSql(pg ? "SELECT count(*) FROM pg_indexes WHERE tablename IN ('threat_predictions', "
                           "'attack_predictions') AND indexname NOT LIKE '%_pkey'"
                         : "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
                           "('threat_predictions', 'attack_predictions')"),
            1);  // ix_attack_predictions_attack_type_name
  auto threats = traffic().ListThreats(PredictionFilter{});
  ASSERT_TRUE(threats.ok()) << threats.status().ToString();
  ASSERT_EQ(threats->size(), 3u);
  EXPECT_EQ((*threats)[0].id, ids[2].traffic_data_id);  // newest first

  // The statements the repositories run, with their parameters written in.
  const Dialect dialect = pg ? Dialect::kPostgres : Dialect::kSqlite;
  const auto inline_params = [&](const SqlQuery& q) -> std::string {
    std::string sql = q.sql;
    for (size_t i = q.params.size(); i > 0; --i) {
      const SqlValue& v = q.params[i - 1];
      const std::string literal = std::holds_alternative<int64_t>(v) ? std::to_string(std::get<int64_t>(v))
                                                                     : "'" + std::get<std::string>(v) + "'";
      const std::string placeholder = pg ? "$" + std::to_string(i) : "?";
      const size_t at = pg ? sql.find(placeholder) : sql.rfind(placeholder);
      if (at == std::string::npos) {
        ADD_FAILURE() << "no placeholder " << placeholder << " for parameter " << i << " in " << q.sql;
        return {};
      }
      if (pg) {
        for (size_t p = at; p != std::string::npos; p = sql.find(placeholder, p + literal.size()))
          sql.replace(p, placeholder.size(), literal);
      } else {
        sql.replace(at, 1, literal);
      }
    }
    return sql;
  };
  PredictionFilter recent;
  recent.since = NextTime() - std::chrono::hours(1);
  const TimeRange range{NextTime() - std::chrono::hours(1), NextTime()};
  TimelineQuery timeline;
  timeline.since = *range.since;
  timeline.until = *range.until;
  timeline.buckets = 6;
  // Listings are read newest first from the index, not sorted.
  const std::vector<std::pair<SqlQuery, bool>> queries = {
      {traffic_sql::ThreatList(dialect, PredictionFilter{}), true},
      {traffic_sql::ThreatList(dialect, recent), true},
      {traffic_sql::AttackList(dialect, recent), true},
      {traffic_sql::ThreatTotals(dialect, range), false},
      {traffic_sql::AttackDistribution(dialect, range), false},
      {traffic_sql::Timeline(dialect, timeline), false}};
  for (const auto& [q, listing] : queries) {
    const std::string sql = inline_params(q);
    if (sql.empty()) continue;
    const std::string plan = PlanSql(sql);
    EXPECT_NE(plan.find("ix_traffic_data_created_at"), std::string::npos) << sql << "\n" << plan;
    if (!pg && listing) {
      EXPECT_EQ(plan.find("TEMP B-TREE FOR ORDER BY"), std::string::npos) << sql << "\n" << plan;
    }
  }
}

// Prints rows/s; no assertion on speed (bench/ owns that).
TEST_P(TrafficTest, InsertThroughput) {
  constexpr int kBatches = 10;
  constexpr int kBatchSize = 2000;
  std::vector<ScoredFlowBatch> batches;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<NewScoredFlow> flows;
    flows.reserve(kBatchSize);
    for (int i = 0; i < kBatchSize; ++i)
      flows.push_back(i % 4 == 0 ? Flow(true, "DDoS") : Flow(false, "BENIGN"));
    batches.push_back(Batch(std::move(flows)));
  }
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();  // process CPU time: the machine may be shared
  for (const auto& b : batches) {
    std::vector<StoredFlowIds> ids;
    const Status s = traffic().InsertScoredFlows(b, &ids);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::printf("[ throughput ] %s: %d flows in %.3f s = %.0f flows/s wall; client CPU %.3f s (batches of %d)\n",
              GetParam() == Backend::kSqlite ? "sqlite" : "postgresql", kBatches * kBatchSize, secs,
              kBatches * kBatchSize / secs, cpu, kBatchSize);
  auto st = traffic().Stats({});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->total_predictions, kBatches * kBatchSize);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrafficTest, ::testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Backend, PgTrafficTest, ::testing::Values(Backend::kPostgresql),
                         BackendName);

}  // namespace
}  // namespace threatd::storage::testing
