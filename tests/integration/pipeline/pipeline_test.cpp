// The pipeline end to end on a real (in-memory SQLite) database with the
// shipped default models: scoring, chaining, storing, observers, failures,
// and model swaps under load.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "sim/flow_generator.h"
#include "sim/traffic_profile.h"
#include "storage/database.h"

namespace threatd::pipeline {
namespace {

std::string ModelPath(const std::string& name) { return std::string(std::getenv("THREATD_SOURCE_DIR")) + "/models/" + name; }

std::shared_ptr<const ml::LoadedModel> Load(const std::string& name, const std::string& version) {
  auto bundle = ml::ReadBundleFile(ModelPath(name));
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  bundle->version = version;
  auto m = ml::LoadModel(*bundle);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

class SwappableModels final : public ModelProvider {
 public:
  std::shared_ptr<const ml::ModelSet> Current() const override { return std::atomic_load(&set_); }
  void Set(std::shared_ptr<const ml::ModelSet> s) { std::atomic_store(&set_, std::move(s)); }

 private:
  std::shared_ptr<const ml::ModelSet> set_;
};

// Records what it sees: per batch, the detector and classifier versions.
class Recorder final : public PipelineObserver {
 public:
  void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) override {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < batch.flows.size(); ++i) {
      const auto& f = batch.flows[i];
      traffic_ids.push_back(ids[i].traffic_data_id);
      versions.insert(f.threat.model_version + "|" + (f.attack ? f.attack->model_version : f.threat.model_version));
      if (f.threat.is_attack) ++attacks;
      if (f.attack) ++classified;
    }
  }
  std::mutex mu;
  std::vector<int64_t> traffic_ids;
  std::set<std::string> versions;
  size_t attacks = 0, classified = 0;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StorageOptions so;
    so.url = "sqlite::memory:";
    auto db = storage::OpenDatabase(so, registry_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate().ok());
    auto profile = sim::ReadTrafficProfile(ModelPath("traffic_profile.json.gz"));
    ASSERT_TRUE(profile.ok()) << profile.status().ToString();
    sim::GeneratorOptions go;
    go.mix = {{"BENIGN", 0.5}, {"DDoS", 0.25}, {"Portscan", 0.25}};
    auto gen = sim::FlowGenerator::Create(std::make_shared<const sim::TrafficProfile>(std::move(profile).value()), go);
    ASSERT_TRUE(gen.ok()) << gen.status().ToString();
    generator_ = std::make_unique<sim::FlowGenerator>(std::move(gen).value());
  }

  FlowBatch MakeBatch(size_t n, std::function<void(const BatchResult&)> done = {}) {
    FlowBatch b;
    b.source = "test_stream";
    for (size_t i = 0; i < n; ++i) b.flows.push_back(generator_->Next());
    b.done = std::move(done);
    return b;
  }

  metrics::Registry registry_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<sim::FlowGenerator> generator_;
};

TEST_F(PipelineTest, ScoresChainsStoresAndNotifies) {
  SwappableModels models;
  models.Set(std::make_shared<ml::ModelSet>(
      ml::ModelSet{Load("threat_detector.json.gz", "d1"), Load("attack_classifier.json.gz", "c1")}));
  Pipeline pipeline({.queue_capacity = 4, .workers = 1}, models, db_->Traffic(), Clock::System(), registry_);
  Recorder recorder;
  pipeline.AddObserver(&recorder);

  std::promise<BatchResult> result;
  ASSERT_TRUE(pipeline.Submit(MakeBatch(1000, [&](const BatchResult& r) { result.set_value(r); })).ok());
  const BatchResult r = result.get_future().get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.stored, 1000u);
  EXPECT_EQ(r.duplicates, 0u);
  // Half the generated flows are attacks; the detector finds most of them
  // and only detected attacks are classified (the models are chained).
  EXPECT_GT(r.attacks, 300u);
  EXPECT_LT(r.attacks, 700u);
  std::lock_guard lock(recorder.mu);
  EXPECT_EQ(recorder.traffic_ids.size(), 1000u);
  EXPECT_EQ(recorder.classified, recorder.attacks);
  EXPECT_EQ(pipeline.Snapshot().flows_total, 1000u);
}

TEST_F(PipelineTest, WithoutDetectorBatchesFailWithAClearError) {
  SwappableModels models;  // nothing active
  Pipeline pipeline({}, models, db_->Traffic(), Clock::System(), registry_);
  std::promise<BatchResult> result;
  ASSERT_TRUE(pipeline.Submit(MakeBatch(10, [&](const BatchResult& r) { result.set_value(r); })).ok());
  const BatchResult r = result.get_future().get();
  EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status.message().find("no threat detector"), std::string::npos);
  EXPECT_EQ(pipeline.Snapshot().batches_failed, 1u);
  EXPECT_TRUE(pipeline.Snapshot().last_error.has_value());
}

// Models swapped continuously while batches flow: every flow is stored once,
// and every batch is scored by one complete ModelSet (never detector of one
// and classifier of another).
TEST_F(PipelineTest, ModelSwapsUnderLoadScoreEveryFlowOnceWithOneModelSet) {
  const auto d1 = Load("threat_detector.json.gz", "A");
  const auto c1 = Load("attack_classifier.json.gz", "A");
  const auto d2 = Load("threat_detector.json.gz", "B");
  const auto c2 = Load("attack_classifier.json.gz", "B");
  SwappableModels models;
  models.Set(std::make_shared<ml::ModelSet>(ml::ModelSet{d1, c1}));
  Pipeline pipeline({.queue_capacity = 4, .workers = 2}, models, db_->Traffic(), Clock::System(), registry_);
  Recorder recorder;
  pipeline.AddObserver(&recorder);

  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    while (!stop) {
      const bool a = swaps++ % 2 == 0;
      models.Set(std::make_shared<ml::ModelSet>(a ? ml::ModelSet{d2, c2} : ml::ModelSet{d1, c1}));
      std::this_thread::yield();
    }
  });
  constexpr size_t kBatches = 40, kPerBatch = 200;
  std::atomic<size_t> stored{0}, done{0};
  for (size_t i = 0; i < kBatches; ++i)
    ASSERT_TRUE(pipeline.Submit(MakeBatch(kPerBatch, [&](const BatchResult& r) {
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
      stored += r.stored;
      ++done;
    })).ok());
  pipeline.Stop();  // drains the queue
  stop = true;
  swapper.join();
  EXPECT_EQ(done.load(), kBatches);
  EXPECT_EQ(stored.load(), kBatches * kPerBatch);
  EXPECT_GT(swaps.load(), 1);
  std::lock_guard lock(recorder.mu);
  std::set<int64_t> unique(recorder.traffic_ids.begin(), recorder.traffic_ids.end());
  EXPECT_EQ(unique.size(), kBatches * kPerBatch);
  for (const auto& v : recorder.versions) EXPECT_TRUE(v == "A|A" || v == "B|B") << v;
}

TEST_F(PipelineTest, SubmitAfterStopIsRefused) {
  SwappableModels models;
  Pipeline pipeline({}, models, db_->Traffic(), Clock::System(), registry_);
  pipeline.Stop();
  EXPECT_EQ(pipeline.Submit(MakeBatch(1)).code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace threatd::pipeline
