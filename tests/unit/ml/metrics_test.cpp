// Metrics on hand-computed examples, and the stump baseline.
#include <gtest/gtest.h>

#include "ml/metrics.h"
#include "ml/stump.h"

namespace threatd::ml {
namespace {

TEST(MetricsTest, HandComputedThreeClassExample) {
  // classes: BENIGN, DoS, Scan. truth/pred pairs:
  // BENIGN: 4 rows -> B,B,B,DoS   DoS: 3 rows -> DoS,DoS,Scan   Scan: 2 rows -> Scan,B
  const std::vector<int> truth = {0, 0, 0, 0, 1, 1, 1, 2, 2};
  const std::vector<int> pred = {0, 0, 0, 1, 1, 1, 2, 2, 0};
  const auto r = Evaluate({"BENIGN", "DoS", "Scan"}, truth, pred);
  EXPECT_EQ(r.rows, 9u);
  EXPECT_EQ(r.confusion, (std::vector<std::vector<uint64_t>>{{3, 1, 0}, {0, 2, 1}, {1, 0, 1}}));
  // BENIGN: P = 3/4, R = 3/4, F1 = 0.75. DoS: P = 2/3, R = 2/3. Scan: P = 1/2, R = 1/2.
  EXPECT_DOUBLE_EQ(r.per_class[0].f1, 0.75);
  EXPECT_NEAR(r.per_class[1].f1, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.per_class[2].f1, 0.5);
  EXPECT_EQ(r.per_class[1].support, 3u);
  EXPECT_NEAR(r.macro_f1, (0.75 + 2.0 / 3.0 + 0.5) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(r.benign_fpr, 0.25);       // 1 of 4 benign flagged
  EXPECT_DOUBLE_EQ(r.attack_recall, 4.0 / 5);  // Scan->BENIGN is the one miss
  EXPECT_NEAR(r.accuracy, 6.0 / 9, 1e-12);
}

TEST(MetricsTest, ClassWithoutSupportOrPredictionsIsLeftOutOfMacroF1) {
  const auto r = Evaluate({"BENIGN", "ATTACK", "Unused"}, {0, 1}, {0, 1});
  EXPECT_DOUBLE_EQ(r.macro_f1, 1.0);
}

TEST(StumpTest, FindsTheSeparatingFeatureAndThreshold) {
  // Feature 0 is noise; feature 1 separates class 0 (< 10) from class 1.
  std::vector<float> values;
  std::vector<int> y;
  std::vector<size_t> rows;
  for (int i = 0; i < 100; ++i) {
    values.push_back(static_cast<float>(i % 7));
    values.push_back(i < 60 ? static_cast<float>(i % 10) : 20.0f + static_cast<float>(i));
    y.push_back(i < 60 ? 0 : 1);
    rows.push_back(static_cast<size_t>(i));
  }
  const StumpFit s = FitStump(values, 2, y, rows, 2);
  EXPECT_EQ(s.feature, 1u);
  EXPECT_GT(s.threshold, 9.0f);
  EXPECT_LE(s.threshold, 80.0f);
  EXPECT_EQ(s.left_class, 0);
  EXPECT_EQ(s.right_class, 1);
  const float probe_low[] = {3.0f, 5.0f}, probe_high[] = {3.0f, 100.0f};
  EXPECT_EQ(s.Predict(probe_low), 0);
  EXPECT_EQ(s.Predict(probe_high), 1);
}

}  // namespace
}  // namespace threatd::ml
