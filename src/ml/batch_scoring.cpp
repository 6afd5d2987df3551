#include "ml/batch_scoring.h"

#include <algorithm>

namespace threatd::ml {

Result<BatchPrediction> PredictDataset(const ModelBundle& bundle, const InferenceEngine& engine,
                                       const flow::Dataset& data) {
  auto mapping = ResolveFeatures(bundle, data.feature_names);
  if (!mapping.ok()) return mapping.status();
  const size_t n = data.rows(), f = mapping->size(), k = engine.NumOutputs();
  std::vector<float> rows(n * f);
  for (size_t r = 0; r < n; ++r) {
    const float* src = data.row(r);
    for (size_t c = 0; c < f; ++c) rows[r * f + c] = src[(*mapping)[c]];
  }
  BatchPrediction out;
  out.proba.resize(n * k);
  engine.PredictProba(rows.data(), n, out.proba.data());
  out.predicted.resize(n);
  for (size_t r = 0; r < n; ++r) out.predicted[r] = engine.Decide(std::span<const float>(out.proba.data() + r * k, k));
  return out;
}

Result<EvaluationReport> EvaluateDataset(const ModelBundle& bundle, const InferenceEngine& engine,
                                         const flow::Dataset& data) {
  if (data.labels.size() != data.rows() || data.rows() == 0) {
    return Status::InvalidArgument("the data has no labels to evaluate against", "pass --label-column");
  }
  auto pred = PredictDataset(bundle, engine, data);
  if (!pred.ok()) return pred.status();
  std::vector<std::string> classes = bundle.classes;
  const bool binary = bundle.objective == Objective::kBinaryLogistic;
  std::vector<int> truth(data.rows());
  for (size_t r = 0; r < data.rows(); ++r) {
    if (binary) {
      truth[r] = data.labels[r] == classes[0] ? 0 : 1;
      continue;
    }
    auto it = std::find(classes.begin(), classes.end(), data.labels[r]);
    if (it == classes.end()) {
      classes.push_back(data.labels[r]);
      it = classes.end() - 1;
    }
    truth[r] = static_cast<int>(it - classes.begin());
  }
  return Evaluate(classes, truth, pred->predicted, binary ? bundle.classes[0] : std::string("BENIGN"));
}

}  // namespace threatd::ml
