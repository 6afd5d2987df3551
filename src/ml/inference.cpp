#include "ml/inference.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <utility>

namespace threatd::ml {

Result<InferenceEngine> InferenceEngine::Create(const ModelBundle& bundle) {
  THREATD_RETURN_IF_ERROR(ValidateBundle(bundle));
  InferenceEngine e;
  e.num_features_ = bundle.features.size();
  e.classes_ = bundle.classes;
  e.base_margin_ = bundle.base_margin;
  e.threshold_ = bundle.threshold;
  e.binary_ = bundle.objective == Objective::kBinaryLogistic;
  for (const Tree& t : bundle.trees) {
    // Breadth-first re-layout with siblings adjacent: (old node, new slot).
    const auto root = static_cast<uint32_t>(e.nodes_.size());
    e.roots_.push_back(root);
    e.tree_class_.push_back(e.binary_ ? 1u : static_cast<uint32_t>(t.class_index));
    e.nodes_.push_back({});
    std::deque<std::pair<int32_t, uint32_t>> queue{{0, root}};
    while (!queue.empty()) {
      auto [old, slot] = queue.front();
      queue.pop_front();
      const auto o = static_cast<size_t>(old);
      Node& node = e.nodes_[slot];
      if (t.IsLeaf(o)) {
        node = Node{t.leaf_value[o], 0, 0};
        continue;
      }
      const auto left = static_cast<uint32_t>(e.nodes_.size());
      node = Node{t.threshold[o],
                  static_cast<uint32_t>(t.split_feature[o]) | (t.default_left[o] ? kDefaultLeftBit : 0u), left};
      e.nodes_.push_back({});
      e.nodes_.push_back({});
      queue.emplace_back(t.left[o], left);
      queue.emplace_back(t.right[o], left + 1);
    }
  }
  return e;
}

void InferenceEngine::AccumulateBlock(const float* rows, size_t n, float* out) const {
  const size_t k = NumOutputs();
  const size_t f = num_features_;
  const Node* nodes = nodes_.data();
  for (size_t i = 0; i < n * k; ++i) out[i] = base_margin_;
  for (size_t t = 0; t < roots_.size(); ++t) {
    const uint32_t root = roots_[t];
    float* col = out + tree_class_[t];
    for (size_t r = 0; r < n; ++r) {
      const float* row = rows + r * f;
      uint32_t idx = root;
      while (nodes[idx].left != 0) {
        const Node& nd = nodes[idx];
        const float x = row[nd.feature & ~kDefaultLeftBit];
        // Right when !(x < v), except NaN with default_left (NaN compares false).
        const uint32_t go_right = static_cast<uint32_t>(!(x < nd.value)) &
                                  ~static_cast<uint32_t>(std::isnan(x) && (nd.feature & kDefaultLeftBit));
        idx = nd.left + go_right;
      }
      col[r * k] += nodes[idx].value;
    }
  }
}

void InferenceEngine::ApplyLink(float* out, size_t n) const {
  const size_t k = NumOutputs();
  if (binary_) {
    for (size_t r = 0; r < n; ++r) {
      const float p = 1.0f / (1.0f + std::exp(-out[r * 2 + 1]));  // XGBoost's Sigmoid
      out[r * 2] = 1.0f - p;
      out[r * 2 + 1] = p;
    }
    return;
  }
  for (size_t r = 0; r < n; ++r) {  // XGBoost's Softmax, in float
    float* v = out + r * k;
    float wmax = v[0];
    for (size_t c = 1; c < k; ++c) wmax = std::max(v[c], wmax);
    float sum = 0;
    for (size_t c = 0; c < k; ++c) {
      v[c] = std::exp(v[c] - wmax);
      sum += v[c];
    }
    for (size_t c = 0; c < k; ++c) v[c] /= sum;
  }
}

void InferenceEngine::PredictProba(const float* rows, size_t n, float* out) const {
  const size_t k = NumOutputs();
  for (size_t start = 0; start < n; start += kBlockRows) {
    const size_t m = std::min(kBlockRows, n - start);
    AccumulateBlock(rows + start * num_features_, m, out + start * k);
    ApplyLink(out + start * k, m);
  }
}

float InferenceEngine::PredictPositive(const float* row) const {
  float out[2];
  if (!binary_) return 0.0f;
  PredictProba(row, 1, out);
  return out[1];
}

int InferenceEngine::Decide(std::span<const float> proba) const {
  if (binary_) return proba[1] >= threshold_ ? 1 : 0;
  return static_cast<int>(std::max_element(proba.begin(), proba.end()) - proba.begin());
}

int InferenceEngine::PredictClass(const float* row, std::span<float> proba) const {
  PredictProba(row, 1, proba.data());
  return Decide(proba);
}

}  // namespace threatd::ml
