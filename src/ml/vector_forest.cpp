#include "ml/vector_forest.h"

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define THREATD_VECTOR_FOREST 1
// Without optimisation GCC defines some intrinsics as macros with C casts.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#endif

namespace threatd::ml {

namespace {

// Assigns columns and lays out one tree. Leaves are numbered left to right.
struct TreeBuilder {
  const Tree& tree;
  std::map<std::pair<int32_t, bool>, uint32_t>& columns;
  std::vector<uint32_t>& column_source;
  std::vector<float>& column_fill;
  float* leaves;
  uint32_t next_leaf = 0;

  uint32_t ColumnOffset(size_t node) {
    const std::pair<int32_t, bool> key{tree.split_feature[node], tree.default_left[node] != 0};
    auto [it, inserted] = columns.emplace(key, static_cast<uint32_t>(column_source.size()));
    if (inserted) {
      column_source.push_back(static_cast<uint32_t>(key.first));
      column_fill.push_back(key.second ? -std::numeric_limits<float>::infinity()
                                       : std::numeric_limits<float>::infinity());
    }
    return it->second * static_cast<uint32_t>(VectorForest::kRows);
  }
};

}  // namespace

struct VectorKernel {
  // Visits a QuickScorer tree: returns its leaf range [lo, hi).
  static std::pair<uint32_t, uint32_t> Small(TreeBuilder& b, int32_t node, std::vector<VectorForest::Split>& out) {
    const auto o = static_cast<size_t>(node);
    if (b.tree.IsLeaf(o)) {
      b.leaves[b.next_leaf] = b.tree.leaf_value[o];
      ++b.next_leaf;
      return {b.next_leaf - 1, b.next_leaf};
    }
    const auto left = Small(b, b.tree.left[o], out);
    const auto right = Small(b, b.tree.right[o], out);
    const uint32_t clear = static_cast<uint32_t>(((uint64_t{1} << left.second) - 1) & ~((uint64_t{1} << left.first) - 1));
    out.push_back({b.tree.threshold[o], b.ColumnOffset(o), clear});
    return {left.first, right.second};
  }

  // Lays out a big tree's node: returns its reference (index, or ~leaf).
  static int32_t Big(TreeBuilder& b, int32_t node, uint32_t first, std::vector<VectorForest::BigNode>& out) {
    const auto o = static_cast<size_t>(node);
    if (b.tree.IsLeaf(o)) {
      b.leaves[b.next_leaf] = b.tree.leaf_value[o];
      return ~static_cast<int32_t>(b.next_leaf++);
    }
    const auto self = out.size();
    out.push_back({b.tree.threshold[o], b.ColumnOffset(o), 0, 0});
    const int32_t left = Big(b, b.tree.left[o], first, out);
    const int32_t right = Big(b, b.tree.right[o], first, out);
    out[self].left = left;
    out[self].right = right;
    return static_cast<int32_t>(self - first);
  }

#ifdef THREATD_VECTOR_FOREST
  __attribute__((target("avx2"))) static void Run(const VectorForest& vf, const float* rows, size_t n, size_t f,
                                                  float* out) {
    constexpr size_t kR = VectorForest::kRows;
    alignas(32) float xs[VectorForest::kMaxColumns * kR];
    alignas(32) float acc[VectorForest::kMaxOutputs * kR];
    const size_t k = vf.num_outputs_;
    const size_t groups = (n + 7) / 8;
    const size_t padded = groups * 8;
    // Each row's features converted once, feature-major, NaN resolved.
    for (size_t j = 0; j < vf.column_source_.size(); ++j) {
      float* col = xs + j * kR;
      const uint32_t src = vf.column_source_[j];
      const float fill = vf.column_fill_[j];
      for (size_t r = 0; r < n; ++r) {
        const float x = rows[r * f + src];
        col[r] = std::isnan(x) ? fill : x;
      }
      for (size_t r = n; r < padded; ++r) col[r] = 0.0f;
    }
    for (size_t c = 0; c < k; ++c) {
      for (size_t r = 0; r < padded; ++r) acc[c * kR + r] = r < n ? out[r * k + c] : 0.0f;
    }
    const __m256i exponent_mask = _mm256_set1_epi32(0xFF);
    const __m256i bias = _mm256_set1_epi32(127);
    for (const auto& t : vf.trees_) {
      float* a = acc + t.output * kR;
      const float* leaves = vf.leaves_.data() + t.leaf_begin;
      if (t.big) {
        const VectorForest::BigNode* nodes = vf.big_nodes_.data() + t.first;
        for (size_t r = 0; r < n; ++r) {
          int32_t i = 0;
          while (i >= 0) {
            const auto& nd = nodes[i];
            i = xs[nd.column_offset + r] >= nd.threshold ? nd.right : nd.left;
          }
          a[r] += leaves[~i];
        }
        continue;
      }
      __m256i v[kR / 8];
      for (size_t g = 0; g < groups; ++g) v[g] = _mm256_set1_epi32(-1);
      const VectorForest::Split* s = vf.splits_.data() + t.first;
      const VectorForest::Split* end = s + t.count;
      for (; s != end; ++s) {
        const __m256 threshold = _mm256_set1_ps(s->threshold);
        const __m256i clear = _mm256_set1_epi32(static_cast<int>(s->clear));
        const float* col = xs + s->column_offset;
        for (size_t g = 0; g < groups; ++g) {
          const __m256i right = _mm256_castps_si256(_mm256_cmp_ps(_mm256_load_ps(col + 8 * g), threshold, _CMP_GE_OQ));
          v[g] = _mm256_andnot_si256(_mm256_and_si256(right, clear), v[g]);
        }
      }
      // Exit leaf = lowest set bit: isolate it, its float exponent is its index.
      for (size_t g = 0; g < groups; ++g) {
        const __m256i low = _mm256_and_si256(v[g], _mm256_sub_epi32(_mm256_setzero_si256(), v[g]));
        const __m256i e = _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(low)), 23);
        v[g] = _mm256_sub_epi32(_mm256_and_si256(e, exponent_mask), bias);
      }
      if (t.num_leaves <= 8) {
        const __m256 lv = _mm256_loadu_ps(leaves);
        for (size_t g = 0; g < groups; ++g) {
          const __m256 leaf = _mm256_permutevar8x32_ps(lv, v[g]);
          _mm256_store_ps(a + 8 * g, _mm256_add_ps(_mm256_load_ps(a + 8 * g), leaf));
        }
      } else {
        for (size_t g = 0; g < groups; ++g) {
          const __m256 leaf = _mm256_i32gather_ps(leaves, v[g], 4);
          _mm256_store_ps(a + 8 * g, _mm256_add_ps(_mm256_load_ps(a + 8 * g), leaf));
        }
      }
    }
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < k; ++c) out[r * k + c] = acc[c * kR + r];
    }
  }
#endif
};

std::optional<VectorForest> VectorForest::Create(const ModelBundle& bundle, const std::vector<uint32_t>& tree_output,
                                                 size_t num_outputs) {
#ifdef THREATD_VECTOR_FOREST
  if (!__builtin_cpu_supports("avx2")) return std::nullopt;
#else
  return std::nullopt;
#endif
  if (num_outputs > kMaxOutputs || bundle.trees.empty()) return std::nullopt;
  VectorForest vf;
  vf.num_outputs_ = num_outputs;
  std::map<std::pair<int32_t, bool>, uint32_t> columns;
  for (size_t ti = 0; ti < bundle.trees.size(); ++ti) {
    const Tree& tree = bundle.trees[ti];
    uint32_t num_leaves = 0;
    for (size_t i = 0; i < tree.size(); ++i) num_leaves += tree.IsLeaf(i) ? 1u : 0u;
    TreeInfo info{};
    info.leaf_begin = static_cast<uint32_t>(vf.leaves_.size());
    info.num_leaves = num_leaves;
    info.output = tree_output[ti];
    info.big = num_leaves > 32;
    vf.leaves_.resize(vf.leaves_.size() + (num_leaves + 7) / 8 * 8, 0.0f);
    TreeBuilder b{tree, columns, vf.column_source_, vf.column_fill_, vf.leaves_.data() + info.leaf_begin};
    if (info.big) {
      info.first = static_cast<uint32_t>(vf.big_nodes_.size());
      VectorKernel::Big(b, 0, info.first, vf.big_nodes_);
      info.count = static_cast<uint32_t>(vf.big_nodes_.size()) - info.first;
    } else {
      info.first = static_cast<uint32_t>(vf.splits_.size());
      VectorKernel::Small(b, 0, vf.splits_);
      info.count = static_cast<uint32_t>(vf.splits_.size()) - info.first;
    }
    vf.trees_.push_back(info);
    if (vf.column_source_.size() > kMaxColumns) return std::nullopt;
  }
  return vf;
}

void VectorForest::Accumulate(const float* rows, size_t n, size_t num_features, float* out) const {
#ifdef THREATD_VECTOR_FOREST
  VectorKernel::Run(*this, rows, n, num_features, out);
#else
  (void)rows, (void)n, (void)num_features, (void)out;
#endif
}

}  // namespace threatd::ml
