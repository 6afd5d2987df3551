// FitStump: the one-feature decision-stump baseline shown beside every model
// card - the best single (feature, threshold) on the training rows by
// training accuracy, each side predicting its majority class (NaN goes left).
//
// Thread-safety: pure function. Cost: O(features * rows * (log rows + classes)).
#pragma once

#include <string>
#include <vector>

#include "ml/model_card.h"

namespace threatd::ml {

struct StumpFit {
  size_t feature = 0;
  float threshold = 0;
  int left_class = 0;
  int right_class = 0;

  int Predict(const float* row) const { return row[feature] < threshold || row[feature] != row[feature] ? left_class : right_class; }
};

// values: row-major with `cols` columns; y: class per row; rows: the subset
// to fit on (at most max_rows of them are used, evenly spaced).
StumpFit FitStump(const std::vector<float>& values, size_t cols, const std::vector<int>& y,
                  const std::vector<size_t>& rows, size_t num_classes, size_t max_rows = 20000);

}  // namespace threatd::ml
