// The engine must reproduce XGBoost's own predictions (within 1e-6), including
// rows with missing values, for binary and multiclass models.
#include <algorithm>
#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "ml/chained_scorer.h"
#include "ml/inference.h"
#include "ml/xgboost_export.h"
#include "ml/xgboost_import.h"
#include "unit/ml/xgboost_reference.h"

namespace threatd::ml {
namespace {

ImportProfile Profile(const flow::Dataset& d, std::vector<std::string> classes, ModelType type) {
  ImportProfile p;
  p.model_type = type;
  for (const auto& f : d.feature_names) p.features.push_back({f, {}});
  p.classes = std::move(classes);
  p.created_at = "2026-01-01T00:00:00.000Z";
  return p;
}

struct Fixture {
  flow::Dataset data;
  std::vector<float> labels;
  std::vector<float> rows;  // scoring rows incl. all-NaN and extreme rows
};

Fixture MakeFixture(size_t classes) {
  Fixture fx;
  fx.data = testing::SyntheticDataset(3000, 8, classes, 7);
  for (const auto& l : fx.data.labels) {
    fx.labels.push_back(classes == 2 ? (l == "BENIGN" ? 0.0f : 1.0f) : (l == "BENIGN" ? 0.0f : std::stof(l.substr(1))));
  }
  fx.rows.assign(fx.data.values.begin(), fx.data.values.begin() + 1000 * 8);
  fx.rows.insert(fx.rows.end(), 8, std::nanf(""));
  fx.rows.insert(fx.rows.end(), 8, 1e30f);
  fx.rows.insert(fx.rows.end(), 8, -1e30f);
  return fx;
}

// Bug (found by the ONNX fuzzer): a non-UTF-8 label made the canonical JSON
// dump throw out of an importer. It is a validation error for every importer.
TEST(InferenceTest, NonUtf8ProfileLabelIsAValidationErrorNotAThrow) {
  Fixture fx = MakeFixture(2);
  auto ref = testing::TrainReference(fx.data.values, fx.labels, 8, 2, 5, fx.rows);
  auto bundle = ImportXgboostJson(ref.json, Profile(fx.data, {"BENIGN", "AT\x99TACK"}, ModelType::kThreatDetector));
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().code(), ErrorCode::kValidation);
  EXPECT_NE(bundle.status().message().find("class label 1 is not valid UTF-8"), std::string::npos)
      << bundle.status().ToString();
}

TEST(InferenceTest, BinaryMatchesXgboostWithMissingValues) {
  Fixture fx = MakeFixture(2);
  auto ref = testing::TrainReference(fx.data.values, fx.labels, 8, 2, 40, fx.rows);
  auto bundle = ImportXgboostJson(ref.json, Profile(fx.data, {"BENIGN", "ATTACK"}, ModelType::kThreatDetector));
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  auto engine = InferenceEngine::Create(*bundle);
  ASSERT_TRUE(engine.ok());
  const size_t n = fx.rows.size() / 8;
  ASSERT_EQ(ref.predictions.size(), n);
  std::vector<float> out(n * 2);
  engine->PredictProba(fx.rows.data(), n, out.data());
  size_t nan_rows = 0;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(out[i * 2 + 1], ref.predictions[i], 1e-6) << "row " << i;
    EXPECT_NEAR(out[i * 2] + out[i * 2 + 1], 1.0f, 1e-6);
    for (size_t f = 0; f < 8; ++f) nan_rows += std::isnan(fx.rows[i * 8 + f]) ? 1 : 0;
  }
  EXPECT_GT(nan_rows, 100u);  // the comparison really exercised default branches
  EXPECT_NEAR(engine->PredictPositive(fx.rows.data()), ref.predictions[0], 1e-6);
}

int Depth(const Tree& t, int32_t node = 0) {
  if (t.IsLeaf(static_cast<size_t>(node))) return 0;
  return 1 + std::max(Depth(t, t.left[static_cast<size_t>(node)]), Depth(t, t.right[static_cast<size_t>(node)]));
}

// Trees deeper than the complete-tree layout allows take the pointer layout.
TEST(InferenceTest, DeepTreesMatchXgboostToo) {
  Fixture fx = MakeFixture(2);
  auto ref = testing::TrainReference(fx.data.values, fx.labels, 8, 2, 8, fx.rows, /*max_depth=*/14);
  auto bundle = ImportXgboostJson(ref.json, Profile(fx.data, {"BENIGN", "ATTACK"}, ModelType::kThreatDetector));
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  int deepest = 0;
  for (const Tree& t : bundle->trees) deepest = std::max(deepest, Depth(t));
  ASSERT_GT(deepest, 10) << "the fixture no longer produces deep trees";
  auto engine = InferenceEngine::Create(*bundle);
  ASSERT_TRUE(engine.ok());
  const size_t n = fx.rows.size() / 8;
  std::vector<float> out(n * 2);
  engine->PredictProba(fx.rows.data(), n, out.data());
  for (size_t i = 0; i < n; ++i) EXPECT_NEAR(out[i * 2 + 1], ref.predictions[i], 1e-6) << "row " << i;
}

TEST(InferenceTest, MulticlassMatchesXgboostWithMissingValues) {
  Fixture fx = MakeFixture(4);
  auto ref = testing::TrainReference(fx.data.values, fx.labels, 8, 4, 25, fx.rows);
  auto bundle = ImportXgboostJson(ref.json, Profile(fx.data, {"BENIGN", "A1", "A2", "A3"}, ModelType::kAttackClassifier));
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  auto engine = InferenceEngine::Create(*bundle);
  ASSERT_TRUE(engine.ok());
  const size_t n = fx.rows.size() / 8;
  ASSERT_EQ(ref.predictions.size(), n * 4);
  std::vector<float> out(n * 4);
  engine->PredictProba(fx.rows.data(), n, out.data());
  for (size_t i = 0; i < n * 4; ++i) EXPECT_NEAR(out[i], ref.predictions[i], 1e-6) << "cell " << i;
  // Single-row helper agrees with the batch path.
  std::vector<float> proba(4);
  const int c = engine->PredictClass(fx.rows.data() + 5 * 8, proba);
  EXPECT_EQ(c, engine->Decide(std::span<const float>(out.data() + 5 * 4, 4)));
}

TEST(InferenceTest, ChainClassifiesOnlyDetectedAttacksUnlessAlways) {
  Fixture bin = MakeFixture(2);
  Fixture multi = MakeFixture(4);
  auto dref = testing::TrainReference(bin.data.values, bin.labels, 8, 2, 10, bin.rows);
  auto cref = testing::TrainReference(multi.data.values, multi.labels, 8, 4, 10, multi.rows);
  auto db = ImportXgboostJson(dref.json, Profile(bin.data, {"BENIGN", "ATTACK"}, ModelType::kThreatDetector));
  auto cb = ImportXgboostJson(cref.json, Profile(multi.data, {"BENIGN", "A1", "A2", "A3"}, ModelType::kAttackClassifier));
  ASSERT_TRUE(db.ok() && cb.ok());
  auto det = std::make_shared<const InferenceEngine>(std::move(InferenceEngine::Create(*db)).value());
  auto cls = std::make_shared<const InferenceEngine>(std::move(InferenceEngine::Create(*cb)).value());
  auto chain = ChainedScorer::Create(det, cls);
  auto always = ChainedScorer::Create(det, cls, ChainOptions{.classify_always = true});
  ASSERT_TRUE(chain.ok() && always.ok());
  size_t benign_seen = 0, attack_seen = 0;
  for (size_t i = 0; i < 200; ++i) {
    const float* row = bin.rows.data() + i * 8;
    const ChainedScore s = chain->Score(row, row);
    const ChainedScore a = always->Score(row, row);
    EXPECT_EQ(s.is_attack, s.attack_probability >= det->threshold());
    if (s.is_attack) {
      ++attack_seen;
      EXPECT_GE(s.class_index, 0);
      EXPECT_EQ(s.class_index, a.class_index);
    } else {
      ++benign_seen;
      EXPECT_EQ(s.class_index, -1);
      EXPECT_TRUE(s.label.empty());
      EXPECT_GE(a.class_index, 0);
    }
  }
  EXPECT_GT(benign_seen, 0u);
  EXPECT_GT(attack_seen, 0u);
  EXPECT_FALSE(ChainedScorer::Create(cls, det).ok());  // classifier first is refused
}

TEST(InferenceTest, ExportedBundleScoresTheSameInXgboost) {
  Fixture fx = MakeFixture(4);
  auto ref = testing::TrainReference(fx.data.values, fx.labels, 8, 4, 10, fx.rows);
  auto bundle = ImportXgboostJson(ref.json, Profile(fx.data, {"BENIGN", "A1", "A2", "A3"}, ModelType::kAttackClassifier));
  ASSERT_TRUE(bundle.ok());
  const auto xgb = testing::PredictWithXgboost(ExportXgboostJson(*bundle), fx.rows, 8);
  ASSERT_EQ(xgb.size(), ref.predictions.size());
  for (size_t i = 0; i < xgb.size(); ++i) EXPECT_NEAR(xgb[i], ref.predictions[i], 1e-6) << "cell " << i;
  Fixture bin = MakeFixture(2);
  auto bref = testing::TrainReference(bin.data.values, bin.labels, 8, 2, 10, bin.rows);
  auto bb = ImportXgboostJson(bref.json, Profile(bin.data, {"BENIGN", "ATTACK"}, ModelType::kThreatDetector));
  ASSERT_TRUE(bb.ok());
  const auto bx = testing::PredictWithXgboost(ExportXgboostJson(*bb), bin.rows, 8);
  ASSERT_EQ(bx.size(), bref.predictions.size());
  for (size_t i = 0; i < bx.size(); ++i) EXPECT_NEAR(bx[i], bref.predictions[i], 1e-6) << "row " << i;
}

}  // namespace
}  // namespace threatd::ml
