#include "flow/value_policy.h"

#include <gtest/gtest.h>

#include <cmath>

namespace threatd::flow {
namespace {

TEST(ValuePolicy, Numbers) {
  EXPECT_EQ(ParseFeatureValue("42").value, 42.0f);
  EXPECT_EQ(ParseFeatureValue(" 1.5 ").value, 1.5f);
  EXPECT_EQ(ParseFeatureValue("+3").value, 3.0f);
  EXPECT_EQ(ParseFeatureValue("-7.25").value, -7.25f);
  EXPECT_EQ(ParseFeatureValue("1e3").value, 1000.0f);
  EXPECT_EQ(ParseFeatureValue("1e-50").value, 0.0f);  // underflow is zero, not missing
  EXPECT_EQ(ParseFeatureValue("1e-50").kind, ValueKind::kNumber);
}

TEST(ValuePolicy, MissingMarkers) {
  for (const char* text : {"", "  ", "NaN", "nan", "NAN"}) {
    auto v = ParseFeatureValue(text);
    EXPECT_EQ(v.kind, ValueKind::kMissing) << text;
    EXPECT_TRUE(std::isnan(v.value)) << text;
  }
  for (const char* text : {"Infinity", "inf", "-inf", "+Infinity", "-Infinity", "1e40"}) {
    auto v = ParseFeatureValue(text);
    EXPECT_EQ(v.kind, ValueKind::kInfinite) << text;
    EXPECT_TRUE(std::isnan(v.value)) << text;
    EXPECT_TRUE(v.missing());
  }
}

TEST(ValuePolicy, NegativeSentinelOnlyWhereDeclared) {
  EXPECT_EQ(ParseFeatureValue("-1", true).kind, ValueKind::kSentinel);
  EXPECT_EQ(ParseFeatureValue("-1", false).kind, ValueKind::kNumber);
  EXPECT_EQ(ParseFeatureValue("0", true).kind, ValueKind::kNumber);
}

TEST(ValuePolicy, NonNumbersAreInvalid) {
  for (const char* text : {"abc", "12abc", "1,5", "--1", "+-1", "0x10", "BENIGN"}) {
    EXPECT_EQ(ParseFeatureValue(text).kind, ValueKind::kInvalid) << text;
  }
}

TEST(ValuePolicy, CountsPerColumn) {
  ColumnStats stats;
  for (const char* text : {"1", "", "NaN", "Infinity", "-inf", "-1", "5"}) {
    CountValue(ParseFeatureValue(text, true), &stats);
  }
  EXPECT_EQ(stats.missing, 5u);
  EXPECT_EQ(stats.infinite, 2u);
  EXPECT_EQ(stats.sentinel, 1u);
}

}  // namespace
}  // namespace threatd::flow
