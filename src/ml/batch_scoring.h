// Batch scoring of a flow::Dataset with a bundle: maps the dataset's columns
// onto the bundle's features (ResolveFeatures), predicts in blocks, and
// evaluates against the dataset's labels. What `threatd evaluate/predict`
// and the upload path use.
//
// Thread-safety: pure functions over const inputs. Memory: one projected
// copy of the feature matrix plus rows * classes probabilities.
#pragma once

#include <vector>

#include "common/status.h"
#include "flow/dataset.h"
#include "ml/bundle.h"
#include "ml/inference.h"
#include "ml/metrics.h"

namespace threatd::ml {

struct BatchPrediction {
  std::vector<float> proba;   // rows * engine.NumOutputs()
  std::vector<int> predicted; // class index per row
};

Result<BatchPrediction> PredictDataset(const ModelBundle& bundle, const InferenceEngine& engine,
                                       const flow::Dataset& data);

// Truth for a binary model: label == classes[0] (benign) -> 0, else 1.
// Multiclass: labels the model does not know are appended to the report's
// classes (they can only be mispredicted). Fails on an unlabelled dataset.
Result<EvaluationReport> EvaluateDataset(const ModelBundle& bundle, const InferenceEngine& engine,
                                         const flow::Dataset& data);

}  // namespace threatd::ml
