#include "ml/loaded_model.h"

#include <fmt/format.h>

#include "flow/features.h"

namespace threatd::ml {

void LoadedModel::Project(const float* canonical, size_t n, float* out) const {
  const size_t k = feature_index.size();
  for (size_t r = 0; r < n; ++r) {
    const float* row = canonical + r * flow::kFeatureCount;
    float* dst = out + r * k;
    for (size_t i = 0; i < k; ++i) dst[i] = row[feature_index[i]];
  }
}

Result<std::shared_ptr<const LoadedModel>> LoadModel(const ModelBundle& bundle, int64_t id) {
  std::vector<std::string> canonical;
  canonical.reserve(flow::kFeatureCount);
  for (const auto& f : flow::CanonicalFeatures()) canonical.emplace_back(f.name);
  auto mapping = ResolveFeatures(bundle, canonical);
  if (!mapping.ok())
    return Status::Validation(
        fmt::format("model '{}' cannot read threatd flow records: {}", bundle.version, mapping.status().message()),
        "every model feature must be a CICFlowMeter flow feature (canonical name or alias); see "
        "docs/formats/flows.md");
  auto engine = InferenceEngine::Create(bundle);
  if (!engine.ok()) return engine.status();

  auto m = std::make_shared<LoadedModel>();
  m->id = id;
  m->type = bundle.model_type;
  m->version = bundle.version;
  m->sha256 = bundle.sha256;
  m->is_real = !bundle.trees.empty() && bundle.card.train_rows > 0;
  m->classes = bundle.classes;
  for (const auto& f : bundle.features) m->feature_names.push_back(f.name);
  for (size_t i : *mapping) m->feature_index.push_back(static_cast<uint16_t>(i));
  m->engine = std::make_shared<const InferenceEngine>(std::move(engine).value());
  return std::shared_ptr<const LoadedModel>(std::move(m));
}

}  // namespace threatd::ml
