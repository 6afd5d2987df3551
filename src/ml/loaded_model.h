// LoadedModel: a validated bundle ready to score canonical flow records - the
// inference engine plus the projection from canonical feature order
// (flow::FlowRecord::features) to the model's own feature order. ModelSet is
// the pair the pipeline scores with; the model registry publishes a new
// ModelSet on every activation (an immutable snapshot, swapped atomically).
//
// Ownership: shared, immutable. Thread-safety: const methods from any thread;
// no allocation, no blocking.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "ml/bundle.h"
#include "ml/inference.h"

namespace threatd::ml {

struct LoadedModel {
  int64_t id = 0;  // ml_models.id; 0 for a bundle not (yet) in the registry
  ModelType type = ModelType::kThreatDetector;
  std::string version;
  std::string sha256;
  bool is_real = false;  // true: a trained bundle (it has trees and a model card)
  std::vector<std::string> classes;
  std::vector<std::string> feature_names;  // the model's own feature names, in its order
  std::vector<uint16_t> feature_index;     // model feature i = canonical feature feature_index[i]
  std::shared_ptr<const InferenceEngine> engine;

  size_t NumFeatures() const { return feature_index.size(); }
  // canonical: n rows of flow::kFeatureCount floats; out: n * NumFeatures().
  void Project(const float* canonical, size_t n, float* out) const;
};

// Builds the engine and resolves every bundle feature onto the canonical
// flow features (by name or alias). Fails naming the features no canonical
// feature matches.
Result<std::shared_ptr<const LoadedModel>> LoadModel(const ModelBundle& bundle, int64_t id = 0);

// What the pipeline scores with. detector is required for scoring; the
// classifier is optional (detection only without it).
struct ModelSet {
  std::shared_ptr<const LoadedModel> detector;
  std::shared_ptr<const LoadedModel> classifier;
};

}  // namespace threatd::ml
