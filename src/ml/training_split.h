// Train/validation splits and class weights for training.
//
// kTime holds out, per class, the latest `fraction` of rows by
// RowIdentifiers::timestamp_us (ties broken by row order) - the protocol
// threatd's models are judged by. kRandom holds out a seeded random
// `fraction` per class. Either way every class keeps at least one training
// row, and a class with >= 2 rows gets at least one validation row.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "flow/dataset.h"

namespace threatd::ml {

enum class ValidationMode { kTime, kRandom };

struct TrainValidationSplit {
  std::vector<size_t> train;       // row indices, ascending
  std::vector<size_t> validation;  // row indices, ascending
};

// y: class index per row (0..num_classes-1).
Result<TrainValidationSplit> SplitPerClass(const std::vector<int>& y, size_t num_classes,
                                           const std::vector<flow::RowIdentifiers>& ids, ValidationMode mode,
                                           double fraction, uint64_t seed);

// Per-class sample weights inversely proportional to class frequency among
// `rows`: w_c = min(cap, n / (k * n_c)), k = classes present.
std::vector<float> ClassWeights(const std::vector<int>& y, const std::vector<size_t>& rows, size_t num_classes,
                                float cap);

}  // namespace threatd::ml
