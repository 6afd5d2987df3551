// Training: determinism, early stopping, class weights, the time split, the
// binary threshold rule, and (when ../shared exists) the real data set.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "ml/inference.h"
#include "ml/trainer.h"
#include "ml/training_split.h"
#include "unit/ml/xgboost_reference.h"

#ifdef THREATD_ML_HAVE_FLOW_LOADER
#include "flow/features.h"
#include "flow/table_loader.h"
#endif

namespace threatd::ml {
namespace {

TrainOptions FastOptions(Task task) {
  TrainOptions o;
  o.task = task;
  o.max_rounds = 30;
  o.created_at = "2026-01-01T00:00:00.000Z";
  return o;
}

TEST(TrainerTest, SameSeedGivesIdenticalBundle) {
  const auto data = testing::SyntheticDataset(2000, 6, 4, 3);
  auto a = Train(data, FastOptions(Task::kMulticlass));
  auto b = Train(data, FastOptions(Task::kMulticlass));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->sha256, b->sha256);
  EXPECT_EQ(SerializeBundle(*a), SerializeBundle(*b));
  auto other_seed = FastOptions(Task::kMulticlass);
  other_seed.seed = 7;
  auto c = Train(data, other_seed);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->sha256, c->sha256);  // the seed matters (subsampling)
  EXPECT_EQ(a->classes, (std::vector<std::string>{"A1", "A2", "A3", "BENIGN"}));
  EXPECT_EQ(a->model_type, ModelType::kAttackClassifier);
  EXPECT_GT(a->card.validation.macro_f1, 0.5);
}

TEST(TrainerTest, EarlyStoppingKeepsOnlyTheBestIterations) {
  const auto data = testing::SyntheticDataset(1500, 6, 2, 5);
  auto o = FastOptions(Task::kBinary);
  o.max_rounds = 400;
  o.eta = 0.8;  // overfits fast, so validation loss turns up early
  o.early_stopping_rounds = 5;
  auto b = Train(data, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_LT(b->card.best_iteration, 390);
  EXPECT_EQ(b->trees.size(), static_cast<size_t>(b->card.best_iteration + 1));
}

TEST(TrainerTest, BinaryThresholdKeepsValidationBenignFprWithinTarget) {
  const auto data = testing::SyntheticDataset(4000, 6, 3, 9);
  auto o = FastOptions(Task::kBinary);
  auto b = Train(data, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->classes, (std::vector<std::string>{"BENIGN", "ATTACK"}));
  EXPECT_LE(b->card.validation.benign_fpr, o.max_benign_fpr);
  EXPECT_GT(b->card.validation.attack_recall, 0.0);
  EXPECT_FALSE(b->card.stump.feature.empty());
  EXPECT_GT(b->card.stump.validation.rows, 0u);
}

TEST(TrainerTest, ClassWeightsAreInverseFrequencyAndCapped) {
  // 90 rows of class 0, 9 of class 1, 1 of class 2.
  std::vector<int> y(90, 0);
  y.insert(y.end(), 9, 1);
  y.insert(y.end(), 1, 2);
  std::vector<size_t> rows(y.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  const auto w = ClassWeights(y, rows, 3, 20.0f);
  EXPECT_NEAR(w[0], 100.0 / (3 * 90), 1e-6);
  EXPECT_NEAR(w[1], 100.0 / (3 * 9), 1e-6);
  EXPECT_FLOAT_EQ(w[2], 20.0f);  // 33.3 capped
}

TEST(TrainerTest, TimeSplitHoldsOutTheLatestQuarterOfEachClass) {
  // Class 0: 8 rows, class 1: 4 rows; timestamps deliberately shuffled.
  const std::vector<int> y = {0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0};
  const std::vector<int64_t> ts = {50, 9, 10, 80, 3, 70, 20, 7, 30, 60, 1, 40};
  std::vector<flow::RowIdentifiers> ids(y.size());
  for (size_t i = 0; i < y.size(); ++i) ids[i].timestamp_us = ts[i];
  auto s = SplitPerClass(y, 2, ids, ValidationMode::kTime, 0.25, 1);
  ASSERT_TRUE(s.ok());
  // Class 0 latest two: ts 80 (row 3), 70 (row 5). Class 1 latest one: ts 9 (row 1).
  EXPECT_EQ(s->validation, (std::vector<size_t>{1, 3, 5}));
  EXPECT_EQ(s->train.size(), 9u);
  ids.assign(y.size(), {});
  EXPECT_FALSE(SplitPerClass(y, 2, ids, ValidationMode::kTime, 0.25, 1).ok());  // no timestamps: says so
  auto r = SplitPerClass(y, 2, ids, ValidationMode::kRandom, 0.25, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->validation.size(), 3u);
}

#ifdef THREATD_ML_HAVE_FLOW_LOADER
TEST(TrainerSharedDataTest, TimeSplitDetectorOnImprovedCicIds2017) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  const std::filesystem::path file =
      std::filesystem::path(src ? src : ".") / ".." / "shared" / "datasets" / "cicids2017-improved-train.csv.gz";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data set absent (" << file << "); nothing to train on";
  flow::LoadOptions lo;
  lo.required_features = flow::CommonFeatureNames();
  auto data = flow::LoadDataset({file.string()}, lo);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  TrainOptions o;
  o.task = Task::kBinary;
  o.max_rounds = 60;
  auto b = Train(*data, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_LE(b->card.validation.benign_fpr, 0.01);
  EXPECT_GE(b->card.validation.attack_recall, 0.95);
}
#endif

}  // namespace
}  // namespace threatd::ml
