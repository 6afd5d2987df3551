// InferenceEngine: threatd's own evaluator for a validated ModelBundle.
//
// Layouts (chosen by measurement, bench/inference):
//  - batch (>= 2 rows) on AVX2 CPUs: VectorForest (vector_forest.h), a
//    vectorised QuickScorer over blocks of 64 rows, 5-6x the layouts below
//    (EngineOptions::vectorise = false forces those).
//  - batch elsewhere, every tree <= kMaxCompleteDepth deep: each tree padded to a
//    complete tree in heap order (8-byte split nodes, children of i at 2i+1
//    and 2i+2, leaves in their own array), so a step is a load, a compare
//    and `i = 2i + 1 + go_right` with no branch; 16 rows walk a tree in
//    lockstep (independent load chains). ~1.15x the pointer layout; used
//    while the padded forest stays under kMaxCompleteBytes.
//  - batch with deeper trees: breadth-first 12-byte nodes {value,
//    feature|flags, left}, right child at left + 1, leaves absorbing, the
//    same lockstep walk for the tree's full depth.
//  - one row: the pointer layout, kTreeLanes trees in lockstep for their
//    group's deepest path (no data-dependent branch: steadier p99 than
//    stopping at each leaf).
// NaN takes each split's default branch. Rows are scored in blocks of
// kBlockRows while a tree is hot in cache. Sums are done in
// float in tree order, exactly as XGBoost's CPU predictor does, so results
// match XGBoosterPredictFromDense to ~1e-7.
//
// Ownership: the engine copies what it needs from the bundle.
// Thread-safety: immutable after Create(); call Predict* from any number of
// threads concurrently. Predict* never allocate and never block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "ml/bundle.h"
#include "ml/vector_forest.h"

namespace threatd::ml {

struct EngineOptions {
  // Batches use the AVX2 kernel (VectorForest) when the CPU has AVX2 and the
  // forest fits it. false: always the portable kernels (tests, benchmarks).
  bool vectorise = true;
};

class InferenceEngine {
 public:
  static constexpr size_t kBlockRows = 32;

  // Validates the bundle again (cheap) and flattens it.
  static Result<InferenceEngine> Create(const ModelBundle& bundle, const EngineOptions& options = {});

  size_t NumFeatures() const { return num_features_; }
  // Probability columns per row: == classes().size() (binary: 2).
  size_t NumOutputs() const { return classes_.size(); }
  const std::vector<std::string>& classes() const { return classes_; }
  float threshold() const { return threshold_; }
  bool binary() const { return binary_; }
  size_t NumTrees() const { return roots_.size(); }
  // True when batches use the AVX2 kernel (VectorForest) on this machine.
  bool vectorised() const { return vector_.has_value(); }

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
    uint32_t feature;  // bit 31: default_left; bit 30: leaf; low bits: feature index
    uint32_t left;     // index of the left child; a leaf's own index
  };
  static constexpr uint32_t kDefaultLeftBit = 0x80000000u;
  static constexpr uint32_t kLeafBit = 0x40000000u;
  static constexpr uint32_t kFeatureMask = 0x3FFFFFFFu;

  InferenceEngine() = default;
  void AccumulateBlock(const float* rows, size_t n, float* out) const;
  void ApplyLink(float* out, size_t n) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;
  std::vector<uint32_t> tree_class_;
  std::vector<uint32_t> tree_depth_;  // edges on the longest root-leaf path
  static constexpr size_t kTreeLanes = 8;  // trees walked together for one row
  std::vector<uint32_t> group_depth_;      // per kTreeLanes trees: deepest
  // One step of the pointer layout: right when !(x < v) (true for NaN)
  // unless NaN with default_left; a leaf stays put.
  static uint32_t Step(const Node* nodes, uint32_t i, const float* row) {
    const Node& nd = nodes[i];
    const float x = row[nd.feature & kFeatureMask];
    const uint32_t go_right = static_cast<uint32_t>(!(x < nd.value)) &
                              static_cast<uint32_t>(!(x != x && (nd.feature & kDefaultLeftBit))) &
                              static_cast<uint32_t>(!(nd.feature & kLeafBit));
    return nd.left + go_right;
  }

  // Batch layout when every tree is at most kMaxCompleteDepth deep: each tree
  // padded to a complete tree in heap order (children of i at 2i+1, 2i+2;
  // a leaf above the bottom becomes a split whose both subtrees repeat it),
  // 8-byte split nodes and a separate leaf array: no child pointers to load.
  struct Split {
    float threshold;
    uint32_t feature;  // bit 31: default_left
  };
  static constexpr uint32_t kMaxCompleteDepth = 10;
  static constexpr size_t kMaxCompleteBytes = 64u << 20;
  bool complete_ = false;
  std::vector<Split> splits_;
  std::vector<float> leaves_;
  std::vector<uint32_t> split_offset_;  // per tree
  std::vector<uint32_t> leaf_offset_;   // per tree
  void BuildComplete(const ModelBundle& bundle);
  // The AVX2 QuickScorer batch kernel (vector_forest.h), when the CPU and
  // the forest allow it; batches of >= 2 rows then go through it.
  std::optional<VectorForest> vector_;
  std::vector<std::string> classes_;
  size_t num_features_ = 0;
  float base_margin_ = 0;
  float threshold_ = 0.5f;
  bool binary_ = true;
};

}  // namespace threatd::ml
