// The committed traffic profile against the committed default models: flows
// generated for each class must be classified as that class (detector ->
// classifier chain) at least 95% of the time, and BENIGN flows must be called
// benign by the detector. Uses only files in the repository.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include "flow/features.h"
#include "flow/labels.h"
#include "ml/bundle.h"
#include "ml/chained_scorer.h"
#include "ml/inference.h"
#include "sim/flow_generator.h"
#include "sim/spread_calibration.h"
#include "sim_test_support.h"

namespace threatd::sim {
namespace {

constexpr int kFlowsPerClass = 400;
constexpr double kMinAccuracy = 0.95;

struct Model {
  std::shared_ptr<const ml::InferenceEngine> engine;
  std::vector<size_t> canonical;  // bundle feature -> canonical index
};

Model LoadModel(const std::string& relative) {
  auto bundle = ml::ReadBundleFile(testing::SourcePath(relative));
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  if (!bundle.ok()) return {};
  auto engine = ml::InferenceEngine::Create(*bundle);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  Model m;
  m.engine = std::make_shared<const ml::InferenceEngine>(std::move(*engine));
  for (const auto& f : bundle->features) {
    const auto index = flow::FindFeature(f.name);
    EXPECT_TRUE(index.has_value()) << f.name;
    m.canonical.push_back(index.value_or(0));
  }
  return m;
}

std::vector<float> Row(const Model& m, const flow::FlowRecord& r) {
  std::vector<float> row;
  for (size_t i : m.canonical) row.push_back(r.features[i]);
  return row;
}

TEST(DefaultModelsTest, GeneratedFlowsAreClassifiedAsTheirClass) {
  auto profile = ReadTrafficProfile(testing::SourcePath("models/traffic_profile.json.gz"));
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  const auto shared = std::make_shared<const TrafficProfile>(std::move(*profile));
  const Model detector = LoadModel("models/threat_detector.json.gz");
  const Model classifier = LoadModel("models/attack_classifier.json.gz");
  ASSERT_TRUE(detector.engine && classifier.engine);
  auto scorer = ml::ChainedScorer::Create(detector.engine, classifier.engine);
  ASSERT_TRUE(scorer.ok()) << scorer.status().ToString();

  std::string summary;
  for (const auto& c : shared->classes) {
    GeneratorOptions o;
    o.seed = 2026;
    o.mix = {{c.label, 1.0}};
    auto generator = FlowGenerator::Create(shared, o);
    ASSERT_TRUE(generator.ok()) << generator.status().ToString();
    int correct = 0;
    std::map<std::string, int> outcomes;  // what the chain said, for the failure message
    for (int i = 0; i < kFlowsPerClass; ++i) {
      const flow::FlowRecord r = generator->Next();
      const auto score = scorer->Score(Row(detector, r).data(), Row(classifier, r).data());
      correct += c.label == flow::kBenignLabel ? !score.is_attack : (score.is_attack && score.label == c.label);
      ++outcomes[score.is_attack ? std::string(score.label) : std::string("(benign)")];
    }
    const double accuracy = static_cast<double>(correct) / kFlowsPerClass;
    summary += fmt::format("{}: {:.3f}", c.label, accuracy);
    for (const auto& [said, n] : outcomes) summary += fmt::format(" [{} {}]", said, n);
    summary += "\n";
    EXPECT_GE(accuracy, kMinAccuracy) << c.label;
  }
  std::cout << summary;
  EXPECT_EQ(shared->classes.size(), flow::kCanonicalLabels.size()) << "every default class is profiled";
}

TEST(DefaultModelsTest, CalibrationRefusesAProfileWithoutTheModelsFeatures) {
  auto detector = ml::ReadBundleFile(testing::SourcePath("models/threat_detector.json.gz"));
  auto classifier = ml::ReadBundleFile(testing::SourcePath("models/attack_classifier.json.gz"));
  ASSERT_TRUE(detector.ok() && classifier.ok());
  TrafficProfile tiny = *testing::TinyProfile();
  auto calibration = CalibrateSpread(tiny, *detector, *classifier);
  ASSERT_FALSE(calibration.ok());
  EXPECT_NE(calibration.status().message().find("is not in the traffic profile"), std::string::npos);
}

TEST(DefaultModelsTest, CommittedProfileIsCalibratedAndSmall) {
  auto profile = ReadTrafficProfile(testing::SourcePath("models/traffic_profile.json.gz"));
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->features, flow::CommonFeatureNames());
  EXPECT_LT(std::filesystem::file_size(testing::SourcePath("models/traffic_profile.json.gz")), 2u << 20);
  for (const auto& c : profile->classes) {
    EXPECT_GE(c.spread, 0.1) << c.label;
    EXPECT_FALSE(c.components.empty()) << c.label;
  }
}

}  // namespace
}  // namespace threatd::sim
