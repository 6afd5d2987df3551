#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "flow/dataset.h"
#include "sim/flow_generator.h"
#include "sim/profile_builder.h"
#include "sim/traffic_profile.h"
#include "sim_test_support.h"

namespace threatd::sim {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// 200 rows: class "DDoS" (flow_duration = 2 * total_fwd_packets, dst_port 80,
// a quarter of durations missing) and class "BENIGN" (3 rows, below the minimum).
flow::Dataset SmallDataset() {
  flow::Dataset d;
  d.cic_flow_meter = true;
  d.feature_names = {"dst_port", "flow_duration", "total_fwd_packets"};
  for (int i = 0; i < 200; ++i) {
    d.values.push_back(80);
    d.values.push_back(i % 4 == 0 ? kNaN : static_cast<float>(2 * i));
    d.values.push_back(static_cast<float>(i));
    d.labels.push_back("DDoS");
    flow::RowIdentifiers ids;
    ids.protocol = i < 150 ? 6 : 17;
    d.identifiers.push_back(ids);
  }
  for (int i = 0; i < 3; ++i) {
    d.values.insert(d.values.end(), {443, 5, 1});
    d.labels.push_back("BENIGN");
    d.identifiers.emplace_back();
  }
  return d;
}

TEST(TrafficProfileTest, BuildsPerClassStatistics) {
  ProfileOptions o;
  o.quantiles = 16;
  o.max_components = 1;
  ProfileReport report;
  auto p = BuildTrafficProfile(SmallDataset(), o, &report);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->classes.size(), 1u);
  ASSERT_EQ(report.skipped_classes.size(), 1u);
  EXPECT_EQ(report.skipped_classes[0], "BENIGN (3 rows)");
  const ClassProfile& cls = p->classes[0];
  EXPECT_EQ(cls.label, "DDoS");
  EXPECT_EQ(cls.rows, 200u);
  ASSERT_EQ(cls.components.size(), 1u);
  const Component& c = cls.components[0];
  EXPECT_DOUBLE_EQ(c.protocols.at(6), 0.75);
  EXPECT_DOUBLE_EQ(c.protocols.at(17), 0.25);
  EXPECT_EQ(c.marginals[0].kind, Marginal::Kind::kDiscrete);
  EXPECT_EQ(c.marginals[0].values, std::vector<double>{80});
  EXPECT_EQ(c.marginals[1].kind, Marginal::Kind::kContinuous);
  EXPECT_DOUBLE_EQ(c.marginals[1].missing, 0.25);
  ASSERT_EQ(c.marginals[2].values.size(), 17u);
  EXPECT_DOUBLE_EQ(c.marginals[2].values.front(), 0);
  EXPECT_DOUBLE_EQ(c.marginals[2].values.back(), 199);
  EXPECT_TRUE(c.marginals[2].integral);
  EXPECT_GT(c.correlation[1 * 3 + 2], 0.5);  // duration follows packets (missing ranked lowest)
  EXPECT_DOUBLE_EQ(c.correlation[0 * 3 + 1], 0);  // a constant feature is uncorrelated
}

TEST(TrafficProfileTest, SplitsAClassIntoComponentsAlongItsModes) {
  flow::Dataset d;
  d.cic_flow_meter = true;
  d.feature_names = {"dst_port", "flow_duration", "total_fwd_packets"};
  for (int i = 0; i < 400; ++i) {
    const bool web = i % 2 == 0;
    d.values.insert(d.values.end(), {web ? 80.0f : 443.0f, static_cast<float>(web ? i : 1000000 + i * 7),
                                     static_cast<float>(web ? 2 + i % 5 : 100 + i % 13)});
    d.labels.push_back("DDoS");
  }
  auto p = BuildTrafficProfile(d, ProfileOptions{});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const auto& components = p->classes[0].components;
  ASSERT_GE(components.size(), 2u);
  double weights = 0;
  for (const auto& k : components) {
    EXPECT_GE(k.rows, ProfileOptions{}.min_component_rows);
    EXPECT_EQ(k.marginals[0].values.size(), 1u) << "a component mixes the two modes";
    weights += k.weight;
  }
  EXPECT_NEAR(weights, 1.0, 1e-12);
}

TEST(TrafficProfileTest, RefusesUnlabelledData) {
  flow::Dataset d = SmallDataset();
  d.labels.clear();
  auto p = BuildTrafficProfile(d, ProfileOptions{});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("labelled"), std::string::npos);
}

TEST(TrafficProfileTest, JsonRoundTrip) {
  const auto tiny = testing::TinyProfile();
  auto parsed = ParseTrafficProfile(SerializeTrafficProfile(*tiny));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->features, tiny->features);
  ASSERT_EQ(parsed->classes.size(), 2u);
  EXPECT_EQ(parsed->classes[1].components[0].correlation, tiny->classes[1].components[0].correlation);
  ASSERT_EQ(parsed->classes[0].components.size(), 2u);
  EXPECT_DOUBLE_EQ(parsed->classes[0].components[1].weight, 0.3);
  EXPECT_EQ(parsed->classes[0].components[0].marginals[0].cdf, tiny->classes[0].components[0].marginals[0].cdf);
  EXPECT_EQ(parsed->classes[0].components[1].protocols, tiny->classes[0].components[1].protocols);
}

TEST(TrafficProfileTest, GzipFileRoundTrip) {
  const auto path = (std::filesystem::temp_directory_path() / "threatd_sim_profile_test.json.gz").string();
  ASSERT_TRUE(WriteTrafficProfile(*testing::TinyProfile(), path).ok());
  auto read = ReadTrafficProfile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->classes[1].label, "DDoS");
  std::filesystem::remove(path);
}

TEST(TrafficProfileTest, RejectsUnknownFeatureAndBadCdf) {
  TrafficProfile p = *testing::TinyProfile();
  p.features[1] = "not_a_feature";
  Status s = ValidateTrafficProfile(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not_a_feature"), std::string::npos);

  p = *testing::TinyProfile();
  p.classes[0].components[0].marginals[0].cdf = {0.5, 0.3};
  s = ValidateTrafficProfile(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("class 'BENIGN', feature 'dst_port'"), std::string::npos) << s.message();
}

TEST(TrafficProfileTest, RejectsMalformedJson) {
  EXPECT_FALSE(ParseTrafficProfile("{").ok());
  EXPECT_FALSE(ParseTrafficProfile(R"({"format":"something-else"})").ok());
}

TEST(SampleMarginalTest, InvertsDiscreteAndContinuousMarginals) {
  const auto tiny = testing::TinyProfile();
  const Marginal& port = tiny->classes[0].components[0].marginals[0];  // 80: 0.3, 443: 0.7
  EXPECT_EQ(SampleMarginal(port, 0.1), 80);
  EXPECT_EQ(SampleMarginal(port, 0.3), 80);
  EXPECT_EQ(SampleMarginal(port, 0.31), 443);
  const Marginal& duration = tiny->classes[0].components[0].marginals[1];  // 25% missing, {0, 10, 1000, 100000}
  EXPECT_TRUE(std::isnan(SampleMarginal(duration, 0.2)));
  EXPECT_DOUBLE_EQ(SampleMarginal(duration, 0.25 + 0.75 / 6), 5);  // halfway between 0 and 10
}

TEST(CholeskyTest, FactorisesIdentityAndSingularMatrices) {
  auto id = CholeskyOfCorrelation({1, 0, 0, 1}, 2);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, (std::vector<double>{1, 0, 0, 1}));
  auto singular = CholeskyOfCorrelation({1, 1, 1, 1}, 2);  // rank 1: z2 == z1
  ASSERT_TRUE(singular.ok());
  EXPECT_EQ(*singular, (std::vector<double>{1, 0, 1, 0}));
  auto rounded = CholeskyOfCorrelation({1, 0.9999, 0.9999, 0.9999, 1, 0.9999, 0.9999, 0.9999, 1}, 3);
  ASSERT_TRUE(rounded.ok());
  for (size_t i = 0; i < 3; ++i) {
    double norm = 0;
    for (size_t k = 0; k < 3; ++k) norm += (*rounded)[i * 3 + k] * (*rounded)[i * 3 + k];
    EXPECT_LE(norm, 1.0 + 1e-12);
  }
  EXPECT_FALSE(CholeskyOfCorrelation({1, NAN, NAN, 1}, 2).ok());
}

}  // namespace
}  // namespace threatd::sim
