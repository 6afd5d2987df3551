#include "ml/onnx_ensemble.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

namespace threatd::ml {
namespace {

Status Invalid(std::string message) { return Status::Validation(std::move(message), kOnnxImportHint); }

// One ONNX tree renumbered breadth-first from its root (our node 0).
struct Skeleton {
  Tree tree;                   // leaf_value all 0, class_index 0
  std::vector<size_t> source;  // our node -> index into the ONNX arrays
};

// How ONNX leaf weights become bundle tree outputs.
struct Plan {
  bool binary = true;
  std::vector<float> coefficient;  // binary: leaf = sum_c coefficient[c] * w_c
};

Result<Skeleton> BuildSkeleton(const OnnxEnsemble& e, int64_t tree_id, const std::vector<size_t>& members,
                               size_t num_features) {
  const std::string where = fmt::format("tree {}", tree_id);
  if (members.size() > kMaxNodesPerTree) return Invalid(fmt::format("{} has more than {} nodes", where, kMaxNodesPerTree));
  std::unordered_map<int64_t, size_t> local;  // ONNX node id -> position in members
  for (size_t k = 0; k < members.size(); ++k) {
    if (!local.emplace(e.node_ids[members[k]], k).second) {
      return Invalid(fmt::format("{} lists node {} twice", where, e.node_ids[members[k]]));
    }
  }
  std::vector<int64_t> true_child(members.size(), -1), false_child(members.size(), -1);
  std::vector<int> parents(members.size(), 0);
  for (size_t k = 0; k < members.size(); ++k) {
    const size_t i = members[k];
    const std::string& mode = e.modes[i];
    const std::string node = fmt::format("{} node {}", where, e.node_ids[i]);
    if (mode == "LEAF") continue;
    if (mode == "BRANCH_EQ" || mode == "BRANCH_NEQ") {
      return Invalid(fmt::format("{}: mode {} cannot be represented (threatd splits are x < threshold)", node, mode));
    }
    if (mode != "BRANCH_LEQ" && mode != "BRANCH_LT" && mode != "BRANCH_GTE" && mode != "BRANCH_GT") {
      return Invalid(fmt::format("{}: unknown mode '{}'", node, mode));
    }
    if (e.feature_ids[i] < 0 || static_cast<uint64_t>(e.feature_ids[i]) >= num_features) {
      return Invalid(fmt::format("{}: feature id {} outside the profile's {} features", node, e.feature_ids[i], num_features));
    }
    if (!std::isfinite(e.values[i])) return Invalid(fmt::format("{}: threshold is NaN or infinite", node));
    for (auto [child, slot] : {std::pair{e.true_ids[i], &true_child[k]}, std::pair{e.false_ids[i], &false_child[k]}}) {
      auto it = local.find(child);
      if (it == local.end()) return Invalid(fmt::format("{}: child node {} does not exist in the tree", node, child));
      if (++parents[it->second] > 1) return Invalid(fmt::format("{}: node {} has more than one parent", node, child));
      *slot = static_cast<int64_t>(it->second);
    }
  }
  size_t root = members.size();
  for (size_t k = 0; k < members.size(); ++k) {
    if (parents[k] != 0) continue;
    if (root != members.size()) return Invalid(fmt::format("{} has more than one root (nodes without a parent)", where));
    root = k;
  }
  if (root == members.size()) return Invalid(fmt::format("{} has no root (its nodes form a cycle)", where));

  Skeleton s;
  std::vector<int64_t> new_id(members.size(), -1);
  std::deque<size_t> queue{root};
  new_id[root] = 0;
  std::vector<size_t> order;
  while (!queue.empty()) {
    const size_t k = queue.front();
    queue.pop_front();
    order.push_back(k);
    if (e.modes[members[k]] == "LEAF") continue;
    for (int64_t c : {true_child[k], false_child[k]}) {
      new_id[static_cast<size_t>(c)] = static_cast<int64_t>(order.size() + queue.size());
      queue.push_back(static_cast<size_t>(c));
    }
  }
  if (order.size() != members.size()) {
    return Invalid(fmt::format("{}: {} nodes are not reachable from the root", where, members.size() - order.size()));
  }
  Tree& t = s.tree;
  for (size_t k : order) {
    const size_t i = members[k];
    s.source.push_back(i);
    const std::string& mode = e.modes[i];
    if (mode == "LEAF") {
      t.split_feature.push_back(0);
      t.threshold.push_back(0.0f);
      t.left.push_back(-1);
      t.right.push_back(-1);
      t.default_left.push_back(0);
      t.leaf_value.push_back(0.0f);
      continue;
    }
    // x <= t  <=>  x < nextafter(t, +inf) for every float x (NaN aside).
    const bool inclusive = mode == "BRANCH_LEQ" || mode == "BRANCH_GT";
    const float threshold = inclusive ? std::nextafter(e.values[i], std::numeric_limits<float>::infinity()) : e.values[i];
    if (!std::isfinite(threshold)) {
      return Invalid(fmt::format("{} node {}: {} {} cannot be represented as x < threshold", where, e.node_ids[i], mode, e.values[i]));
    }
    const bool true_is_left = mode == "BRANCH_LEQ" || mode == "BRANCH_LT";
    const bool nan_true = !e.tracks_true.empty() && e.tracks_true[i] != 0;
    const int64_t l = true_is_left ? true_child[k] : false_child[k];
    const int64_t r = true_is_left ? false_child[k] : true_child[k];
    t.split_feature.push_back(static_cast<int32_t>(e.feature_ids[i]));
    t.threshold.push_back(threshold);
    t.left.push_back(static_cast<int32_t>(new_id[static_cast<size_t>(l)]));
    t.right.push_back(static_cast<int32_t>(new_id[static_cast<size_t>(r)]));
    t.default_left.push_back(static_cast<uint8_t>(nan_true == true_is_left));
    t.leaf_value.push_back(0.0f);
  }
  return s;
}

// Decides the bundle objective from the ensemble's outputs and post_transform.
Result<Plan> MakePlan(const OnnxEnsemble& e, ModelBundle* b) {
  std::vector<bool> used(e.outputs, false);
  for (size_t j = 0; j < e.w_id.size(); ++j) {
    if (e.w_id[j] < 0 || static_cast<uint64_t>(e.w_id[j]) >= e.outputs) {
      return Invalid(fmt::format("weight {} names output {}, the model has {}", j, e.w_id[j], e.outputs));
    }
    if (!std::isfinite(e.w_value[j])) return Invalid(fmt::format("weight {} is NaN or infinite", j));
    used[static_cast<size_t>(e.w_id[j])] = true;
  }
  for (float v : e.base_values) {
    if (!std::isfinite(v)) return Invalid("base_values holds NaN or infinity");
  }
  const std::string& pt = e.post_transform;
  const std::string none_hint =
      "threatd bundles output probabilities through a logistic or softmax link; a model exported with "
      "post_transform NONE (e.g. a random forest averaging leaf probabilities) cannot be reproduced: "
      "export a gradient-boosted model instead";
  if (pt != "LOGISTIC" && pt != "SOFTMAX") {
    return Status::Validation(fmt::format("post_transform {} is not supported", pt), none_hint);
  }
  Plan plan;
  plan.coefficient.assign(e.outputs, 0.0f);
  const size_t used_count = static_cast<size_t>(std::count(used.begin(), used.end(), true));
  if (!e.classifier || (e.outputs == 2 && used_count == 1)) {
    // One score s: P(positive) = logistic(base + s).
    if (pt != "LOGISTIC") return Invalid(fmt::format("a single scored output needs post_transform LOGISTIC, not {}", pt));
    if (e.base_values.size() > 1) return Invalid(fmt::format("base_values has {} entries, expected at most 1", e.base_values.size()));
    for (size_t c = 0; c < e.outputs; ++c) plan.coefficient[c] = used[c] ? 1.0f : 0.0f;
    b->objective = Objective::kBinaryLogistic;
    b->base_margin = e.base_values.empty() ? 0.0f : e.base_values[0];
  } else if (e.outputs == 2) {
    // softmax(s0, s1)[1] = logistic(s1 - s0).
    if (pt != "SOFTMAX") {
      return Invalid("LOGISTIC over two class scores gives probabilities that do not sum to 1; "
                     "only SOFTMAX is supported when both classes carry weights");
    }
    if (!e.base_values.empty() && e.base_values.size() != 2) return Invalid("base_values must have 0 or 2 entries");
    plan.coefficient = {-1.0f, 1.0f};
    b->objective = Objective::kBinaryLogistic;
    b->base_margin = e.base_values.empty() ? 0.0f : e.base_values[1] - e.base_values[0];
  } else {
    if (pt != "SOFTMAX") return Invalid(fmt::format("{} classes need post_transform SOFTMAX, not {}", e.outputs, pt));
    if (!e.base_values.empty() && e.base_values.size() != e.outputs) {
      return Invalid(fmt::format("base_values has {} entries for {} classes", e.base_values.size(), e.outputs));
    }
    plan.binary = false;
    b->objective = Objective::kMultiSoftprob;
  }
  b->num_class = b->objective == Objective::kBinaryLogistic ? 2 : static_cast<int>(e.outputs);
  return plan;
}

Status AddTree(ModelBundle* b, Tree t, size_t* total_nodes) {
  *total_nodes += t.size();
  if (b->trees.size() >= kMaxTrees) return Invalid(fmt::format("the converted model has more than {} trees", kMaxTrees));
  if (*total_nodes > kMaxTotalNodes) return Invalid(fmt::format("the converted model has more than {} nodes", kMaxTotalNodes));
  b->trees.push_back(std::move(t));
  return Status::Ok();
}

Status ConvertTrees(const OnnxEnsemble& e, const Plan& plan, size_t num_features, ModelBundle* b) {
  // Trees in order of first appearance; weights grouped by (tree, node).
  std::vector<int64_t> tree_order;
  std::unordered_map<int64_t, std::vector<size_t>> members;
  for (size_t i = 0; i < e.tree_ids.size(); ++i) {
    auto [it, added] = members.try_emplace(e.tree_ids[i]);
    if (added) tree_order.push_back(e.tree_ids[i]);
    it->second.push_back(i);
  }
  if (tree_order.size() > kMaxTrees) return Invalid(fmt::format("{} trees, more than the bundle limit {}", tree_order.size(), kMaxTrees));
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<size_t, float>>> weights;  // (tree, node) -> (output, w)
  for (size_t j = 0; j < e.w_tree.size(); ++j) {
    weights[{e.w_tree[j], e.w_node[j]}].emplace_back(static_cast<size_t>(e.w_id[j]), e.w_value[j]);
  }
  size_t matched = 0;
  size_t total_nodes = 0;
  if (!plan.binary && !e.base_values.empty()) {
    // Per-class base scores as one-leaf trees (softmax is shift invariant, so equal ones are free).
    bool equal = true;
    for (float v : e.base_values) equal = equal && v == e.base_values[0];
    for (size_t c = 0; !equal && c < e.outputs; ++c) {
      Tree t{{0}, {0.0f}, {-1}, {-1}, {0}, {e.base_values[c]}, static_cast<int32_t>(c)};
      THREATD_RETURN_IF_ERROR(AddTree(b, std::move(t), &total_nodes));
    }
    b->base_margin = equal ? e.base_values[0] : 0.0f;
  }
  for (int64_t tree_id : tree_order) {
    auto skeleton = BuildSkeleton(e, tree_id, members[tree_id], num_features);
    if (!skeleton.ok()) return skeleton.status();
    std::map<size_t, std::vector<float>> per_output;  // output -> leaf values by our node id
    for (size_t node = 0; node < skeleton->source.size(); ++node) {
      const size_t i = skeleton->source[node];
      auto it = weights.find({tree_id, e.node_ids[i]});
      if (it == weights.end()) continue;
      if (e.modes[i] != "LEAF") return Invalid(fmt::format("tree {} node {} carries weights but is not a LEAF", tree_id, e.node_ids[i]));
      matched += it->second.size();
      for (const auto& [output, w] : it->second) {
        auto& values = per_output[plan.binary ? 0 : output];
        if (values.empty()) {  // one more copy of this tree: bound memory before allocating it
          if (total_nodes + per_output.size() * skeleton->source.size() > kMaxTotalNodes) {
            return Invalid(fmt::format("the converted model has more than {} nodes", kMaxTotalNodes));
          }
          values.resize(skeleton->source.size(), 0.0f);
        }
        values[node] += plan.binary ? plan.coefficient[output] * w : w;
      }
    }
    for (auto& [output, values] : per_output) {
      Tree t = skeleton->tree;
      t.leaf_value = std::move(values);
      t.class_index = static_cast<int32_t>(output);
      THREATD_RETURN_IF_ERROR(AddTree(b, std::move(t), &total_nodes));
    }
  }
  if (matched != e.w_tree.size()) {
    return Invalid(fmt::format("{} leaf weights name a (tree, node) that does not exist", e.w_tree.size() - matched));
  }
  return Status::Ok();
}

}  // namespace

Status ConvertOnnxEnsemble(const OnnxEnsemble& e, size_t num_features, ModelBundle* b) {
  auto plan = MakePlan(e, b);
  if (!plan.ok()) return plan.status();
  return ConvertTrees(e, *plan, num_features, b);
}

}  // namespace threatd::ml
