// Train: fits a gradient-boosted tree ensemble with the XGBoost C API and
// returns a validated ModelBundle with its model card.
//
// Protocol: hist trees; per-class sample weights inversely proportional to
// class frequency (capped); early stopping on the held-out validation split
// (see training_split.h); the booster is truncated to its best iteration,
// saved as XGBoost JSON and converted by ImportXgboostJson (the one path from
// XGBoost to a bundle). Binary task: classes {benign_label, "ATTACK"}; the
// decision threshold is the lowest that keeps the validation benign FPR at or
// below max_benign_fpr (maximising attack recall under that constraint),
// placed halfway between the highest allowed benign score and the next score
// above it. Multiclass: classes = sorted distinct labels, argmax decision.
//
// Deterministic for a given seed and data (fixed nthread, seed, created_at).
// Thread-safety: Train() may run concurrently with itself (own handles).
// Blocks: CPU for up to seconds-minutes; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "flow/dataset.h"
#include "ml/bundle.h"
#include "ml/training_split.h"

namespace threatd::ml {

enum class Task { kBinary, kMulticlass };

struct TrainOptions {
  Task task = Task::kBinary;
  ValidationMode validation = ValidationMode::kTime;
  double validation_fraction = 0.25;      // per class
  uint64_t seed = 42;
  int nthread = 2;
  // -1 picks the task's default. Chosen on the time-split validation of the
  // improved CIC-IDS2017 set, within the latency budget (bench/inference):
  // <= ~300 trees for a detector, rounds * classes <= ~800 for a classifier.
  int max_rounds = -1;                    // 300 binary, 50 multiclass
  int early_stopping_rounds = -1;         // 40 binary, 20 multiclass
  int max_depth = -1;                     // 7 binary, 6 multiclass
  double eta = -1;                        // 0.15 binary, 0.3 multiclass
  double subsample = 0.9;
  double colsample_bytree = 0.9;
  float max_class_weight = 50.0f;
  double max_benign_fpr = 0.002;          // binary threshold rule
  std::string benign_label = "BENIGN";
  std::vector<std::string> exclude_columns;  // feature names to drop
  std::string version = "dev";
  std::string created_at;                 // ISO-8601; empty: now
};

Result<ModelBundle> Train(const flow::Dataset& data, const TrainOptions& options);

// Class index per row for `classes` (exact label match; -1 if absent).
std::vector<int> EncodeLabels(const std::vector<std::string>& labels, const std::vector<std::string>& classes,
                              bool binary, const std::string& benign_label);

}  // namespace threatd::ml
