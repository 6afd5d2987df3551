// The AVX2 batch kernel (VectorForest) against the single-row path and
// against XGBoost: every batch size (block tails, 8-row groups), trees of
// every leaf-count class (<= 8 leaves: permute, 9-32: gather, > 32: walk),
// and the default models on the shared CIC-IDS2017 rows.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "flow/table_loader.h"
#include "ml/inference.h"
#include "ml/xgboost_export.h"
#include "ml/xgboost_import.h"
#include "unit/ml/xgboost_reference.h"

namespace threatd::ml {
namespace {

size_t Leaves(const Tree& t) {
  size_t n = 0;
  for (size_t i = 0; i < t.size(); ++i) n += t.IsLeaf(i) ? 1 : 0;
  return n;
}

struct Counts {
  size_t small = 0, medium = 0, big = 0;  // <= 8, 9..32, > 32 leaves
};

// Trains a 4-class reference at max_depth, checks single rows against
// XGBoost and every batch size against single rows; returns the tree mix.
// Checks the AVX2 kernel (when this CPU has it) and the portable kernels.
Counts CheckBatchSizes(int max_depth) {
  const auto data = testing::SyntheticDataset(3000, 8, 4, 11);
  std::vector<float> labels;
  for (const auto& l : data.labels) labels.push_back(l == "BENIGN" ? 0.0f : std::stof(l.substr(1)));
  std::vector<float> rows(data.values.begin(), data.values.begin() + 200 * 8);
  rows.insert(rows.end(), 8, std::nanf(""));
  auto ref = testing::TrainReference(data.values, labels, 8, 4, 12, rows, max_depth);
  ImportProfile p;
  p.model_type = ModelType::kAttackClassifier;
  for (const auto& f : data.feature_names) p.features.push_back({f, {}});
  p.classes = {"BENIGN", "A1", "A2", "A3"};
  p.created_at = "2026-01-01T00:00:00.000Z";
  auto bundle = ImportXgboostJson(ref.json, p);
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  if (!bundle.ok()) return {};
  Counts counts;
  for (const Tree& t : bundle->trees) {
    const size_t l = Leaves(t);
    (l <= 8 ? counts.small : l <= 32 ? counts.medium : counts.big) += 1;
  }
  auto engine = InferenceEngine::Create(*bundle);
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return {};
#if defined(__x86_64__) && defined(__GNUC__)
  // The fast path must not switch itself off silently on an AVX2 machine.
  if (__builtin_cpu_supports("avx2")) {
    EXPECT_TRUE(engine->vectorised());
  }
#endif
  const size_t n = rows.size() / 8;
  std::vector<float> single(n * 4);
  for (size_t r = 0; r < n; ++r) engine->PredictProba(rows.data() + r * 8, 1, single.data() + r * 4);
  for (size_t r = 0; r < n * 4; ++r) {
    EXPECT_NEAR(single[r], ref.predictions[r], 1e-6) << "cell " << r;
    if (std::abs(single[r] - ref.predictions[r]) > 1e-6) return counts;
  }
  // The portable kernels (complete-tree or pointer layout) must agree too.
  auto portable = InferenceEngine::Create(*bundle, {.vectorise = false});
  EXPECT_TRUE(portable.ok());
  if (!portable.ok()) return {};
  EXPECT_FALSE(portable->vectorised());
  for (const InferenceEngine* e : {&*engine, &*portable}) {
    for (size_t batch : {2u, 3u, 7u, 8u, 9u, 63u, 64u, 65u, 130u, 201u}) {
      std::vector<float> out(batch * 4, -1.0f);
      e->PredictProba(rows.data(), batch, out.data());
      for (size_t i = 0; i < batch * 4; ++i) {
        EXPECT_NEAR(out[i], single[i], 1e-6) << "vectorised " << e->vectorised() << " batch " << batch << " cell " << i;
        if (std::abs(out[i] - single[i]) > 1e-6) return counts;
      }
    }
  }
  return counts;
}

TEST(VectorForestTest, EveryBatchSizeEqualsTheSingleRowPathShallowTrees) {
  const Counts c = CheckBatchSizes(3);
  EXPECT_GT(c.small, 0u);
}

TEST(VectorForestTest, EveryBatchSizeEqualsTheSingleRowPathMediumTrees) {
  const Counts c = CheckBatchSizes(5);
  EXPECT_GT(c.medium, 0u);
}

TEST(VectorForestTest, EveryBatchSizeEqualsTheSingleRowPathLargeTrees) {
  const Counts c = CheckBatchSizes(8);
  EXPECT_GT(c.big, 0u) << "the fixture no longer produces trees with > 32 leaves";
}

// Deeper than the portable complete-tree layout: its pointer layout is used.
TEST(VectorForestTest, EveryBatchSizeEqualsTheSingleRowPathDeepTrees) {
  const Counts c = CheckBatchSizes(12);
  EXPECT_GT(c.big, 0u);
}

// The brief's acceptance check: the shipped models, the shared rows, == XGBoost.
TEST(VectorForestTest, DefaultModelsMatchXgboostOnSharedData) {
  const char* src_env = std::getenv("THREATD_SOURCE_DIR");
  const std::filesystem::path src(src_env ? src_env : ".");
  const auto file = src / ".." / "shared" / "datasets" / "cicids2017-improved-train.csv.gz";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data set absent (" << file << "); nothing to score";
  for (const char* name : {"threat_detector.json.gz", "attack_classifier.json.gz"}) {
    SCOPED_TRACE(name);
    auto bundle = ReadBundleFile((src / "models" / name).string());
    ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
    flow::LoadOptions lo;
    lo.max_rows = 3000;
    for (const auto& f : bundle->features) lo.required_features.push_back(f.name);
    auto data = flow::LoadDataset({file.string()}, lo);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    auto mapping = ResolveFeatures(*bundle, data->feature_names);
    ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
    const size_t f = bundle->features.size();
    std::vector<float> rows(data->rows() * f);
    for (size_t r = 0; r < data->rows(); ++r) {
      for (size_t c = 0; c < f; ++c) rows[r * f + c] = data->row(r)[(*mapping)[c]];
    }
    auto engine = InferenceEngine::Create(*bundle);
    ASSERT_TRUE(engine.ok());
    const size_t n = data->rows(), k = engine->NumOutputs();
    std::vector<float> out(n * k);
    engine->PredictProba(rows.data(), n, out.data());
    const auto xgb = testing::PredictWithXgboost(ExportXgboostJson(*bundle), rows, f);
    if (engine->binary()) {
      ASSERT_EQ(xgb.size(), n);
      for (size_t r = 0; r < n; ++r) ASSERT_NEAR(out[r * 2 + 1], xgb[r], 1e-6) << "row " << r;
    } else {
      ASSERT_EQ(xgb.size(), n * k);
      for (size_t i = 0; i < n * k; ++i) ASSERT_NEAR(out[i], xgb[i], 1e-6) << "cell " << i;
    }
  }
}

}  // namespace
}  // namespace threatd::ml
