// InferenceEngine: threatd's own evaluator for a validated ModelBundle.
//
// Layout: every tree of the forest is re-laid breadth-first into one
// contiguous array of 12-byte nodes {value, feature|default_left bit, left};
// a node's right child sits at left + 1, so a step is one compare and an add
// with no data-dependent branch on the split direction (NaN takes the
// default branch). Rows are scored in blocks of kBlockRows: each tree is
// walked by all rows of a block while it is hot in cache. Sums are done in
// float in tree order, exactly as XGBoost's CPU predictor does, so results
// match XGBoosterPredictFromDense to ~1e-7.
//
// Ownership: the engine copies what it needs from the bundle.
// Thread-safety: immutable after Create(); call Predict* from any number of
// threads concurrently. Predict* never allocate and never block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "ml/bundle.h"

namespace threatd::ml {

class InferenceEngine {
 public:
  static constexpr size_t kBlockRows = 16;

  // Validates the bundle again (cheap) and flattens it.
  static Result<InferenceEngine> Create(const ModelBundle& bundle);

  size_t NumFeatures() const { return num_features_; }
  // Probability columns per row: == classes().size() (binary: 2).
  size_t NumOutputs() const { return classes_.size(); }
  const std::vector<std::string>& classes() const { return classes_; }
  float threshold() const { return threshold_; }
  bool binary() const { return binary_; }
  size_t NumTrees() const { return roots_.size(); }

  // rows: n * NumFeatures() floats, row-major, in the bundle's feature order,
  // NaN = missing. out: n * NumOutputs() probabilities (binary: {1-p, p}).
  void PredictProba(const float* rows, size_t n, float* out) const;

  // Binary models: P(positive class) for one row.
  float PredictPositive(const float* row) const;

  // Predicted class index for one row: binary uses the threshold, multiclass
  // argmax. proba (NumOutputs() floats) receives the probabilities.
  int PredictClass(const float* row, std::span<float> proba) const;
  // Same rule applied to probabilities already computed.
  int Decide(std::span<const float> proba) const;

 private:
  struct Node {
    float value;       // threshold, or the leaf value
    uint32_t feature;  // bit 31: default_left; low bits: feature index
    uint32_t left;     // index of the left child; 0 marks a leaf
  };
  static constexpr uint32_t kDefaultLeftBit = 0x80000000u;

  InferenceEngine() = default;
  void AccumulateBlock(const float* rows, size_t n, float* out) const;
  void ApplyLink(float* out, size_t n) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;
  std::vector<uint32_t> tree_class_;
  std::vector<std::string> classes_;
  size_t num_features_ = 0;
  float base_margin_ = 0;
  float threshold_ = 0.5f;
  bool binary_ = true;
};

}  // namespace threatd::ml
