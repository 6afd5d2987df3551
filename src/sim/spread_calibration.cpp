#include "sim/spread_calibration.h"

#include <memory>

#include <fmt/format.h>

#include "flow/features.h"
#include "flow/labels.h"
#include "ml/chained_scorer.h"
#include "ml/inference.h"
#include "sim/flow_generator.h"

namespace threatd::sim {
namespace {

Result<std::vector<size_t>> CanonicalIndexes(const ml::ModelBundle& bundle, const TrafficProfile& profile) {
  std::vector<size_t> out;
  for (const auto& f : bundle.features) {
    const auto index = flow::FindFeature(f.name);
    bool profiled = false;
    for (const auto& p : profile.features) profiled |= p == f.name;
    if (!index || !profiled) {
      return Status::InvalidArgument(fmt::format("model feature '{}' is not in the traffic profile", f.name),
                                     "profile the same features the models use (--features common)");
    }
    out.push_back(*index);
  }
  return out;
}

}  // namespace

Result<std::vector<ClassCalibration>> CalibrateSpread(TrafficProfile& profile, const ml::ModelBundle& detector,
                                                      const ml::ModelBundle& classifier,
                                                      const CalibrationOptions& options) {
  auto det_engine = ml::InferenceEngine::Create(detector);
  if (!det_engine.ok()) return det_engine.status();
  auto cls_engine = ml::InferenceEngine::Create(classifier);
  if (!cls_engine.ok()) return cls_engine.status();
  auto scorer = ml::ChainedScorer::Create(std::make_shared<const ml::InferenceEngine>(std::move(*det_engine)),
                                          std::make_shared<const ml::InferenceEngine>(std::move(*cls_engine)));
  if (!scorer.ok()) return scorer.status();
  auto det_index = CanonicalIndexes(detector, profile);
  if (!det_index.ok()) return det_index.status();
  auto cls_index = CanonicalIndexes(classifier, profile);
  if (!cls_index.ok()) return cls_index.status();
  if (options.ladder.empty() || options.flows_per_class <= 0) {
    return Status::InvalidArgument("calibration needs a spread ladder and flows_per_class > 0");
  }

  std::vector<ClassCalibration> result;
  std::vector<float> det_row(det_index->size());
  std::vector<float> cls_row(cls_index->size());
  for (auto& c : profile.classes) {
    ClassCalibration best{c.label, options.ladder.front(), -1};
    for (double spread : options.ladder) {
      TrafficProfile single;  // this class alone, at this spread
      single.features = profile.features;
      single.classes = {c};
      single.classes[0].spread = spread;
      GeneratorOptions go;
      go.seed = options.seed;
      auto generator = FlowGenerator::Create(std::make_shared<const TrafficProfile>(std::move(single)), go);
      if (!generator.ok()) return generator.status();
      int correct = 0;
      for (int i = 0; i < options.flows_per_class; ++i) {
        const flow::FlowRecord r = generator->Next();
        for (size_t j = 0; j < det_row.size(); ++j) det_row[j] = r.features[(*det_index)[j]];
        for (size_t j = 0; j < cls_row.size(); ++j) cls_row[j] = r.features[(*cls_index)[j]];
        const ml::ChainedScore s = scorer->Score(det_row.data(), cls_row.data());
        correct += c.label == flow::kBenignLabel ? !s.is_attack : (s.is_attack && s.label == c.label);
      }
      const double accuracy = static_cast<double>(correct) / options.flows_per_class;
      if (accuracy > best.accuracy) best = {c.label, spread, accuracy};
      if (accuracy >= options.target) break;
    }
    c.spread = best.spread;
    result.push_back(best);
  }
  return result;
}

}  // namespace threatd::sim
