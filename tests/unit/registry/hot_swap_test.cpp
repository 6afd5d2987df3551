// Hot swap under load: scorer threads take Current() snapshots and score
// while another thread activates and rolls back repeatedly. Every snapshot
// must be complete (detector and classifier present) and every score must be
// the one its model's version implies - never a mix. Run under TSan too
// (build/models-tsan).
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "unit/registry/registry_fixture.h"

namespace threatd::registry::testing {
namespace {

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST_F(RegistryTest, ScorersNeverSeeAHalfLoadedOrMixedModelSet) {
  auto& reg = StartRegistry();
  auto v2 = UploadBundle(TestDetector("v2", 2.0f));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  const std::map<std::string, float> expected = {{"default", Sigmoid(-2.0f)}, {"v2", Sigmoid(2.0f)}};

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> scored{0};
  std::atomic<uint64_t> bad{0};
  std::mutex seen_mu;
  std::map<std::string, uint64_t> seen;
  std::vector<std::thread> scorers;
  for (int t = 0; t < 3; ++t) {
    scorers.emplace_back([&] {
      std::map<std::string, uint64_t> local;
      while (!stop.load()) {
        const auto set = reg.Current();
        if (!set || !set->detector || !set->classifier) {
          bad.fetch_add(1);
          continue;
        }
        const auto it = expected.find(set->detector->version);
        if (it == expected.end() || std::fabs(Score(*set->detector) - it->second) > 1e-5f) bad.fetch_add(1);
        ++local[set->detector->version];
        scored.fetch_add(1);
      }
      std::lock_guard lock(seen_mu);
      for (const auto& [v, n] : local) seen[v] += n;
    });
  }

  for (int i = 0; i < 30; ++i) {
    clock_.Advance(std::chrono::milliseconds(10));
    auto rec = (i % 2 == 0) ? reg.Activate(v2->id) : reg.Rollback(ml::ModelType::kThreatDetector);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    // Published before the call returned.
    EXPECT_EQ(reg.Current()->detector->id, rec->id);
    // Let the scorers see this state before the next swap.
    const uint64_t before = scored.load();
    while (scored.load() < before + 10) std::this_thread::yield();
  }
  stop = true;
  for (auto& t : scorers) t.join();

  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(seen["default"], 0u);
  EXPECT_GT(seen["v2"], 0u);
  EXPECT_EQ(DetectorVersion(), "default") << "30 swaps end on a rollback";
  EXPECT_GE(reg.stats().swaps.Value(), 30u);
}

}  // namespace
}  // namespace threatd::registry::testing
