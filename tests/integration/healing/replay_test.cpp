// Replay of the shared CIC-IDS2017 training data (../shared; skipped when
// absent) through the real pipeline (the shipped models) and the Healer with
// the default policy, in flow-timestamp order with the NAT gateway 172.16.0.1
// protected:
//   - the BENIGN rows enforce zero blocks;
//   - the attack rows lead to a block or isolation of every attacking source
//     that is not protected (here: the infected internal hosts), and never to
//     one of a protected address.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <numeric>

#include "flow/dataset.h"
#include "flow/labels.h"
#include "flow/table_loader.h"
#include "healing/healer.h"
#include "integration/healing/recording_backend.h"
#include "pipeline/pipeline.h"
#include "storage/database.h"
#include "support/shipped_models.h"

namespace threatd::healing {
namespace {

using threatd::testing::ShippedModelProvider;
using threatd::testing::SourceDir;

// Gives the Healer the flows' own times, so the policy's windows see the
// test bed's real rates (the rows span days). Decisions are still made at
// the Healer clock's now, which does not move: nothing expires during the
// replay, so each target is decided at most once per action.
class FlowTime final : public pipeline::PipelineObserver {
 public:
  explicit FlowTime(Healer& h) : healer_(h) {}
  void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) override {
    storage::ScoredFlowBatch copy = batch;
    for (auto& f : copy.flows) f.created_at = Clock::WallTime(std::chrono::microseconds(f.ids.timestamp_us));
    healer_.OnStored(copy, ids);
    healer_.Flush();
  }

 private:
  Healer& healer_;
};

struct Outcome {
  std::vector<storage::Decision> decisions;
  int applies = 0;
};

// Replays `rows` of `ds` (in timestamp order) and returns what was decided.
Outcome Replay(const flow::Dataset& ds, std::vector<size_t> rows) {
  std::sort(rows.begin(), rows.end(),
            [&](size_t a, size_t b) { return ds.identifiers[a].timestamp_us < ds.identifiers[b].timestamp_us; });
  metrics::Registry registry;
  FakeClock clock;
  storage::StorageOptions so;
  so.url = "sqlite::memory:";
  auto db = storage::OpenDatabase(so, registry, Clock::System());
  EXPECT_TRUE(db.ok());
  EXPECT_TRUE((*db)->Migrate().ok());
  ingest::WhitelistMatcher whitelist((*db)->Whitelist(), clock);
  EXPECT_TRUE(whitelist.Start().ok());

  PolicyConfig policy = DefaultPolicy();
  policy.protected_networks.push_back(*IpNetwork::Parse("172.16.0.1"));  // the test bed's NAT gateway
  HealerOptions o;
  o.initial_policy = policy;
  auto backend = std::make_unique<RecordingBackend>();
  auto* rec = backend.get();
  rec->guard = [](const Enforcement& e) {
    EXPECT_FALSE(e.target.Overlaps(*IpNetwork::Parse("172.16.0.1"))) << "the NAT gateway was blocked";
  };
  Healer healer(o, (*db)->Decisions(), whitelist, std::move(backend), clock, registry);
  EXPECT_TRUE(healer.Start().ok());

  ShippedModelProvider models;
  pipeline::Pipeline pipe({.queue_capacity = 4, .workers = 1}, models, (*db)->Traffic(), Clock::System(), registry);
  FlowTime shift(healer);
  pipe.AddObserver(&shift);
  constexpr size_t kBatch = 256;
  for (size_t i = 0; i < rows.size(); i += kBatch) {
    pipeline::FlowBatch b;
    b.source = "upload";
    for (size_t j = i; j < std::min(rows.size(), i + kBatch); ++j) {
      flow::FlowRecord f;
      std::copy_n(ds.row(rows[j]), flow::kFeatureCount, f.features.begin());
      f.ids = ds.identifiers[rows[j]];
      f.label = ds.labels[rows[j]];
      b.flows.push_back(std::move(f));
    }
    std::promise<pipeline::BatchResult> done;
    b.done = [&](const pipeline::BatchResult& r) { done.set_value(r); };
    EXPECT_TRUE(pipe.Submit(std::move(b)).ok());
    auto r = done.get_future().get();
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  }
  pipe.Stop();
  healer.Stop();
  Outcome out;
  storage::DecisionQuery q;
  q.limit = 1000;
  auto list = (*db)->Decisions().ListDecisions(q);
  EXPECT_TRUE(list.ok());
  out.decisions = *list;
  out.applies = rec->applies;
  return out;
}

TEST(HealingReplay, DefaultPolicyOverTheSharedTrainingData) {
  const auto path = std::filesystem::path(SourceDir()) / ".." / "shared" / "datasets" / "cicids2017-improved-train.csv.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data set " << path << " is absent (expected in a fresh clone)";
  auto ds = flow::LoadDataset({path.string()}, flow::LoadOptions{});
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ASSERT_TRUE(ds->cic_flow_meter);
  ASSERT_EQ(ds->cols(), flow::kFeatureCount);

  std::vector<size_t> benign, attacks;
  for (size_t i = 0; i < ds->rows(); ++i) (ds->labels[i] == flow::kBenignLabel ? benign : attacks).push_back(i);

  const Outcome b = Replay(*ds, benign);
  int benign_blocks = 0;
  for (const auto& d : b.decisions) benign_blocks += d.action_type != "alert_admin" && d.mode == "enforce";
  std::cout << "replay BENIGN: " << benign.size() << " rows, " << b.decisions.size() << " decisions, "
            << benign_blocks << " enforced blocks\n";
  EXPECT_EQ(b.applies, 0);
  EXPECT_EQ(benign_blocks, 0);

  const Outcome a = Replay(*ds, attacks);
  std::set<std::string> acted;
  std::map<std::string, int> by_action;
  for (const auto& d : a.decisions) {
    ++by_action[d.action_type];
    if (d.action_type == "block_ip" || d.action_type == "isolate_host") acted.insert(d.target);
  }
  const ProtectedNetworks protected_nets({*IpNetwork::Parse("172.16.0.1")}, /*include_host_addresses=*/false);
  std::map<std::string, int> sources;  // attacking, not protected -> rows
  for (size_t i : attacks) {
    auto src = IpNetwork::ParseAddress(ds->identifiers[i].src_ip);
    if (src.ok() && !protected_nets.Check(*src)) ++sources[src->ToString()];
  }
  std::cout << "replay attacks: " << attacks.size() << " rows, " << a.decisions.size() << " decisions (";
  for (const auto& [k, n] : by_action) std::cout << k << " " << n << " ";
  std::cout << "), " << sources.size() << " unprotected attacking sources\n";
  for (const auto& [src, n] : sources) EXPECT_TRUE(acted.count(src)) << src << " (" << n << " attack rows) was never acted on";
  EXPECT_GT(a.applies, 0);
}

}  // namespace
}  // namespace threatd::healing
