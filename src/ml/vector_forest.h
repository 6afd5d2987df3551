// VectorForest: InferenceEngine's batch kernel for AVX2 machines, a
// vectorised QuickScorer (Lucchese et al., SIGIR 2015) over blocks of
// kRows rows.
//
// Scheme (chosen by measurement, bench/inference):
//  - A block of rows is converted once into a feature-major table of the
//    columns the trees use, each column kRows floats. A feature split with
//    both default directions gets two columns: NaN -> -inf where the default
//    is left, NaN -> +inf where it is right, so every split is one compare
//    `x >= threshold` (go right) with no NaN test.
//  - Trees with <= 32 leaves: every split node is evaluated for 8 rows at a
//    time (one load, one compare, one and-not); a node that goes right
//    clears its left subtree's leaves from a 32-bit per-row bitvector; the
//    exit leaf is the lowest set bit (QuickScorer's theorem), found with an
//    int->float conversion, its value with one permute (<= 8 leaves) or a
//    gather. No branches, no dependent node loads.
//  - Trees with more leaves walk the converted table row by row.
//  Leaf values are added in tree order, in float, so sums are bit-identical
//  to XGBoost's CPU predictor.
//
// Used only when the CPU has AVX2 (checked once in Create), the forest has
// <= kMaxColumns distinct (feature, default) columns and <= kMaxOutputs
// output columns; otherwise Create returns an empty optional and the engine
// keeps its portable kernels. The binary runs on any x86-64: only the
// kernel function is compiled for AVX2.
//
// Ownership: copies what it needs from the bundle. Thread-safety: immutable
// after Create; Accumulate may run concurrently. Accumulate never allocates
// (about 72 KB of stack) and never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ml/bundle.h"

namespace threatd::ml {

class VectorForest {
 public:
  static constexpr size_t kRows = 64;  // rows per block
  static constexpr size_t kMaxColumns = 256;
  static constexpr size_t kMaxOutputs = 32;

  // tree_output[t]: the output column tree t adds to.
  static std::optional<VectorForest> Create(const ModelBundle& bundle, const std::vector<uint32_t>& tree_output,
                                            size_t num_outputs);

  // Adds every tree's leaf to out (n * num_outputs, row-major, already
  // holding the base margin) for n <= kRows rows of num_features floats.
  void Accumulate(const float* rows, size_t n, size_t num_features, float* out) const;

 private:
  struct Split {
    float threshold;
    uint32_t column_offset;  // column index * kRows
    uint32_t clear;          // leaves of the left subtree (QuickScorer trees)
  };
  struct BigNode {
    float threshold;
    uint32_t column_offset;
    int32_t left;   // >= 0: node index in the tree; < 0: ~leaf index
    int32_t right;
  };
  struct TreeInfo {
    uint32_t first;       // first Split (small) or BigNode (big)
    uint32_t count;       // splits or nodes
    uint32_t leaf_begin;  // into leaves_
    uint32_t num_leaves;
    uint32_t output;
    bool big;
  };

  friend struct VectorKernel;  // the AVX2 kernel (vector_forest.cpp)
  VectorForest() = default;

  std::vector<TreeInfo> trees_;
  std::vector<Split> splits_;
  std::vector<BigNode> big_nodes_;
  std::vector<float> leaves_;          // per tree, padded to a multiple of 8
  std::vector<uint32_t> column_source_;  // feature index per column
  std::vector<float> column_fill_;       // NaN replacement per column (-inf / +inf)
  size_t num_outputs_ = 0;
};

}  // namespace threatd::ml
