// Test helpers: synthetic datasets and a reference XGBoost model trained
// directly through the C API, so the engine can be compared against
// XGBoosterPredictFromDense on the same rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flow/dataset.h"

namespace threatd::ml::testing {

// n rows, `features` columns, labels "BENIGN", "A1", "A2", ... (num_classes
// in total, skewed so BENIGN dominates); ~5% NaN cells; timestamps increase.
flow::Dataset SyntheticDataset(size_t n, size_t features, size_t num_classes, uint64_t seed);

struct ReferenceModel {
  std::string json;  // XGBoost's own JSON model
  std::vector<float> predictions;  // XGBoosterPredictFromDense on `rows`
};

// Trains with the C API (binary if num_class == 2) on `values` and predicts
// `rows` (n_rows x cols) with XGBoost itself.
ReferenceModel TrainReference(const std::vector<float>& values, const std::vector<float>& labels, size_t cols,
                              int num_class, int rounds, const std::vector<float>& rows,
                              int max_depth = 5);

// Loads an XGBoost JSON model and predicts `rows` with XGBoost itself.
std::vector<float> PredictWithXgboost(const std::string& model_json, const std::vector<float>& rows, size_t cols);

}  // namespace threatd::ml::testing
