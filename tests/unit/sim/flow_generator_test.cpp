#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "flow/features.h"
#include "flow/table_loader.h"
#include "sim/flow_generator.h"
#include "sim/flow_writer.h"
#include "sim_test_support.h"

namespace threatd::sim {
namespace {

FlowGenerator MakeGenerator(uint64_t seed, std::map<std::string, double> mix = {}) {
  GeneratorOptions o;
  o.seed = seed;
  o.mix = std::move(mix);
  auto g = FlowGenerator::Create(testing::TinyProfile(), o);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return std::move(*g);
}

float Feature(const flow::FlowRecord& r, const char* name) { return r.features[*flow::FindFeature(name)]; }

TEST(FlowGeneratorTest, SameSeedSameFlows) {
  FlowGenerator a = MakeGenerator(7);
  FlowGenerator b = MakeGenerator(7);
  FlowGenerator c = MakeGenerator(8);
  int differs = 0;
  for (int i = 0; i < 200; ++i) {
    const auto ra = a.Next();
    const auto rb = b.Next();
    const auto rc = c.Next();
    ASSERT_EQ(ra.label, rb.label);
    ASSERT_EQ(ra.ids.flow_id, rb.ids.flow_id);
    ASSERT_EQ(ra.ids.timestamp_us, rb.ids.timestamp_us);
    for (size_t f = 0; f < flow::kFeatureCount; ++f) {
      ASSERT_TRUE(ra.features[f] == rb.features[f] || (std::isnan(ra.features[f]) && std::isnan(rb.features[f])));
    }
    differs += ra.ids.flow_id != rc.ids.flow_id;
  }
  EXPECT_GT(differs, 150);  // another seed, another stream
}

TEST(FlowGeneratorTest, FollowsTheMix) {
  FlowGenerator g = MakeGenerator(1, {{"BENIGN", 1}, {"DDoS", 3}});
  constexpr int kFlows = 20000;
  int ddos = 0;
  for (int i = 0; i < kFlows; ++i) ddos += g.Next().label == "DDoS";
  EXPECT_NEAR(static_cast<double>(ddos) / kFlows, 0.75, 0.02);
}

TEST(FlowGeneratorTest, DrawsComponentsByWeight) {
  FlowGenerator g = MakeGenerator(9, {{"BENIGN", 1}});
  constexpr int kFlows = 10000;
  int dns = 0;
  int dns_udp = 0;
  for (int i = 0; i < kFlows; ++i) {
    const auto r = g.Next();
    dns += Feature(r, "dst_port") == 53;
    dns_udp += Feature(r, "dst_port") == 53 && r.ids.protocol == 17;
  }
  EXPECT_NEAR(static_cast<double>(dns) / kFlows, 0.3, 0.02);
  EXPECT_NEAR(static_cast<double>(dns_udp) / dns, 0.9, 0.03);  // protocols are per component
}

TEST(FlowGeneratorTest, DefaultMixIsMostlyBenign) {
  FlowGenerator g = MakeGenerator(1);
  ASSERT_EQ(g.mix().size(), 2u);
  EXPECT_EQ(g.mix()[0].first, "BENIGN");
  EXPECT_DOUBLE_EQ(g.mix()[0].second, 0.8);
}

TEST(FlowGeneratorTest, RejectsUnknownClassesAndBadWeights) {
  GeneratorOptions o;
  o.mix = {{"Heartbleed", 1}};
  auto g = FlowGenerator::Create(testing::TinyProfile(), o);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("Heartbleed"), std::string::npos);
  EXPECT_NE(g.status().hint().find("BENIGN, DDoS"), std::string::npos);
  o.mix = {{"DDoS", 0}};
  EXPECT_FALSE(FlowGenerator::Create(testing::TinyProfile(), o).ok());

  auto mix = ParseMix("benign=0.7, DDoS=0.3");
  ASSERT_TRUE(mix.ok());
  EXPECT_DOUBLE_EQ(mix->at("BENIGN"), 0.7);  // labels are normalised
  EXPECT_FALSE(ParseMix("BENIGN").ok());
  EXPECT_FALSE(ParseMix("BENIGN=-1").ok());
  EXPECT_FALSE(ParseMix("BENIGN=abc").ok());
}

TEST(FlowGeneratorTest, KeepsCorrelationAndMissingness) {
  FlowGenerator ddos = MakeGenerator(3, {{"DDoS", 1}});
  std::vector<double> x, y;
  for (int i = 0; i < 4000; ++i) {
    const auto r = ddos.Next();
    x.push_back(Feature(r, "flow_duration"));
    y.push_back(Feature(r, "total_fwd_packets"));
    ASSERT_EQ(Feature(r, "dst_port"), 80);
  }
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / x.size(), my += y[i] / y.size();
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  EXPECT_GT(sxy / std::sqrt(sxx * syy), 0.8);

  FlowGenerator benign = MakeGenerator(3, {{"BENIGN", 1}});
  int missing = 0;
  for (int i = 0; i < 4000; ++i) missing += std::isnan(Feature(benign.Next(), "flow_duration"));
  EXPECT_NEAR(missing / 4000.0, 0.25, 0.03);
}

TEST(FlowGeneratorTest, PlausibleIdentifiers) {
  FlowGenerator g = MakeGenerator(5);
  int64_t last = 0;
  for (int i = 0; i < 500; ++i) {
    const auto r = g.Next();
    EXPECT_GT(r.ids.timestamp_us, last);
    last = r.ids.timestamp_us;
    EXPECT_EQ(r.ids.dst_port, static_cast<int>(Feature(r, "dst_port")));
    EXPECT_GE(r.ids.src_port, 32768);
    EXPECT_EQ(r.ids.flow_id, r.ids.src_ip + "-" + r.ids.dst_ip + "-" + std::to_string(r.ids.src_port) + "-" +
                                 std::to_string(r.ids.dst_port) + "-" + std::to_string(r.ids.protocol));
    if (r.label == "DDoS") {
      EXPECT_EQ(r.ids.src_ip.rfind("192.168.", 0), std::string::npos) << "attackers are external";
      EXPECT_EQ(r.ids.dst_ip.rfind("192.168.10.", 0), 0u) << "victims are in 192.168.10.0/24";
      EXPECT_EQ(r.ids.protocol, 6);
    } else {
      EXPECT_EQ(r.ids.src_ip.rfind("192.168.10.", 0), 0u);
    }
  }
}

TEST(FlowWriterTest, CsvRoundTripsThroughTheLoader) {
  const auto path = (std::filesystem::temp_directory_path() / "threatd_sim_roundtrip.csv").string();
  FlowGenerator g = MakeGenerator(11);
  std::vector<flow::FlowRecord> written;
  {
    std::ofstream out(path);
    FlowWriter writer(out, OutputFormat::kCsv, g.profile().features);
    for (int i = 0; i < 300; ++i) {
      written.push_back(g.Next());
      writer.Write(written.back());
    }
  }
  flow::LoadOptions lo;
  lo.required_features = g.profile().features;
  auto data = flow::LoadDataset({path}, lo);
  std::filesystem::remove(path);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_TRUE(data->cic_flow_meter);
  ASSERT_EQ(data->rows(), written.size());
  ASSERT_EQ(data->identifiers.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(data->labels[i], written[i].label);
    EXPECT_EQ(data->identifiers[i].src_ip, written[i].ids.src_ip);
    EXPECT_EQ(data->identifiers[i].timestamp_us, written[i].ids.timestamp_us);
    EXPECT_EQ(data->identifiers[i].flow_id, written[i].ids.flow_id);
    for (size_t j = 0; j < data->cols(); ++j) {
      const float expected = written[i].features[*flow::FindFeature(data->feature_names[j])];
      const float got = data->row(i)[j];
      ASSERT_TRUE(got == expected || (std::isnan(got) && std::isnan(expected)))
          << "row " << i << " " << data->feature_names[j] << ": " << got << " vs " << expected;
    }
  }
}

TEST(FlowWriterTest, JsonLinesCarryIdentifiersFeaturesAndLabel) {
  FlowGenerator g = MakeGenerator(2, {{"BENIGN", 1}});
  std::ostringstream out;
  FlowWriter writer(out, OutputFormat::kJsonLines, g.profile().features);
  int nulls = 0;
  for (int i = 0; i < 50; ++i) writer.Write(g.Next());
  std::istringstream in(out.str());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("label"), "BENIGN");
    EXPECT_TRUE(j.contains("src_ip") && j.contains("timestamp") && j.contains("total_fwd_packets"));
    nulls += j.at("flow_duration").is_null();
    ++lines;
  }
  EXPECT_EQ(lines, 50);
  EXPECT_GT(nulls, 0);  // missing values are null
}

TEST(FlowWriterTest, FormatsTimestampsAsTheLoaderReadsThem) {
  EXPECT_EQ(FormatFlowTimestamp(kDefaultStartTimeUs + 3723000042), "2026-01-01 01:02:03.000042");
}

}  // namespace
}  // namespace threatd::sim
