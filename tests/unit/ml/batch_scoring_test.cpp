// Scoring a Dataset whose columns come in another order, with labels the
// model has never seen.
#include <gtest/gtest.h>

#include "ml/batch_scoring.h"
#include "ml/trainer.h"
#include "unit/ml/xgboost_reference.h"

namespace threatd::ml {
namespace {

TEST(BatchScoringTest, ReorderedColumnsScoreLikeTheOriginalAndUnknownLabelsAreReported) {
  const auto data = testing::SyntheticDataset(1500, 5, 3, 11);
  TrainOptions o;
  o.task = Task::kMulticlass;
  o.max_rounds = 10;
  o.created_at = "2026-01-01T00:00:00.000Z";
  auto bundle = Train(data, o);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  auto engine = InferenceEngine::Create(*bundle);
  ASSERT_TRUE(engine.ok());

  // Same rows, columns reversed and upper-cased, plus one unseen label.
  flow::Dataset reordered = data;
  const size_t f = data.cols();
  for (size_t c = 0; c < f; ++c) reordered.feature_names[c] = "F" + std::to_string(f - 1 - c);
  for (size_t r = 0; r < data.rows(); ++r) {
    for (size_t c = 0; c < f; ++c) reordered.values[r * f + c] = data.values[r * f + (f - 1 - c)];
  }
  reordered.labels[0] = "Never Seen";

  auto a = PredictDataset(*bundle, *engine, data);
  auto b = PredictDataset(*bundle, *engine, reordered);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->proba, b->proba);
  EXPECT_EQ(a->predicted, b->predicted);

  auto report = EvaluateDataset(*bundle, *engine, reordered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->classes.back(), "Never Seen");
  EXPECT_EQ(report->per_class.back().support, 1u);
  EXPECT_EQ(report->rows, data.rows());

  flow::Dataset missing = data;
  missing.feature_names[2] = "something_else";
  auto m = PredictDataset(*bundle, *engine, missing);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("missing features 'f2' (matched 4 of 5)"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace threatd::ml
