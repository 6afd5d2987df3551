#include "flow/features.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace threatd::flow {
namespace {

std::string Json(double v) { return nlohmann::json(v).dump(); }

TEST(FeatureJsonValueTest, AFloatPrintsAsItsShortestDecimalForm) {
  EXPECT_EQ(Json(0.1f), "0.10000000149011612") << "the noise this function removes";
  EXPECT_EQ(Json(FeatureJsonValue(0.1f)), "0.1");
  EXPECT_EQ(Json(FeatureJsonValue(123456.789f)), "123456.79");
  EXPECT_EQ(Json(FeatureJsonValue(-2.5e-7f)), "-2.5e-07");
  EXPECT_EQ(Json(FeatureJsonValue(1234.0f)), "1234.0");
  EXPECT_EQ(Json(FeatureJsonValue(16777216.0f)), "16777216.0");
  EXPECT_EQ(Json(FeatureJsonValue(std::numeric_limits<float>::max())), "3.4028235e+38");
  EXPECT_EQ(Json(FeatureJsonValue(std::numeric_limits<float>::denorm_min())), "1e-45");
}

TEST(FeatureJsonValueTest, EveryFloatComesBackAsTheSameFloat) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const auto f = std::bit_cast<float>(bits(rng));
    if (!std::isfinite(f)) continue;
    ++checked;
    const double shown = nlohmann::json::parse(Json(FeatureJsonValue(f))).get<double>();
    ASSERT_EQ(std::bit_cast<uint32_t>(static_cast<float>(shown)), std::bit_cast<uint32_t>(f)) << Json(f);
  }
  EXPECT_GT(checked, 190000);
}

TEST(FeatureJsonValueTest, DoublesThatAreNotFloatsAndNonFiniteValuesAreUnchanged) {
  EXPECT_EQ(FeatureJsonValue(0.1), 0.1);  // binary64 rows from before the float32 encoding
  EXPECT_EQ(FeatureJsonValue(1e300), 1e300);
  EXPECT_EQ(FeatureJsonValue(-1e-300), -1e-300);
  EXPECT_TRUE(std::isnan(FeatureJsonValue(std::nan(""))));
  EXPECT_EQ(FeatureJsonValue(-std::numeric_limits<double>::infinity()), -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace threatd::flow
