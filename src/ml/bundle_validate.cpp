// ValidateBundle: every structural check a loaded bundle must pass before the
// inference engine may touch it (the engine relies on these invariants).
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "flow/utf8.h"
#include "ml/bundle.h"

namespace threatd::ml {
namespace {

Status TreeError(size_t t, std::string what) {
  return Status::Validation(fmt::format("tree {}: {}", t, what),
                            "the bundle is corrupt; re-export it from the training run");
}

Status ValidateTree(const ModelBundle& b, size_t t, size_t* total_nodes) {
  const Tree& tree = b.trees[t];
  const size_t n = tree.size();
  if (n == 0) return TreeError(t, "has no nodes");
  if (n > kMaxNodesPerTree) return TreeError(t, fmt::format("has {} nodes, limit {}", n, kMaxNodesPerTree));
  if (tree.right.size() != n || tree.split_feature.size() != n || tree.threshold.size() != n ||
      tree.default_left.size() != n || tree.leaf_value.size() != n) {
    return TreeError(t, "node arrays (split_feature, threshold, left, right, default_left, leaf_value) differ in length");
  }
  *total_nodes += n;
  if (*total_nodes > kMaxTotalNodes) {
    return Status::Validation(fmt::format("model has more than {} nodes in total", kMaxTotalNodes));
  }
  const size_t outputs = b.objective == Objective::kBinaryLogistic ? 1 : static_cast<size_t>(b.num_class);
  if (tree.class_index < 0 || static_cast<size_t>(tree.class_index) >= outputs) {
    return TreeError(t, fmt::format("class {} out of range [0, {})", tree.class_index, outputs));
  }
  for (size_t i = 0; i < n; ++i) {
    const int32_t l = tree.left[i], r = tree.right[i];
    if ((l < 0) != (r < 0)) {
      return TreeError(t, fmt::format("node {}: exactly one child is -1 (left {}, right {})", i, l, r));
    }
    if (l < 0) {
      if (l != -1 || r != -1) return TreeError(t, fmt::format("node {}: leaf children must be -1", i));
      if (!std::isfinite(tree.leaf_value[i])) return TreeError(t, fmt::format("node {}: leaf value is NaN or infinite", i));
      continue;
    }
    for (int32_t child : {l, r}) {
      if (child == 0 || static_cast<size_t>(child) >= n) {
        return TreeError(t, fmt::format("node {}: child index {} out of range [1, {})", i, child, n));
      }
      if (static_cast<size_t>(child) == i) return TreeError(t, fmt::format("node {}: cycle (child is itself)", i));
    }
    if (tree.split_feature[i] < 0 || static_cast<size_t>(tree.split_feature[i]) >= b.features.size()) {
      return TreeError(t, fmt::format("node {}: feature index {} out of range [0, {})", i,
                                      tree.split_feature[i], b.features.size()));
    }
    if (!std::isfinite(tree.threshold[i])) {
      return TreeError(t, fmt::format("node {}: threshold is NaN or infinite", i));
    }
    if (tree.default_left[i] > 1) return TreeError(t, fmt::format("node {}: default_left must be 0 or 1", i));
  }
  // Walk from the root: every node reached exactly once (no cycles, no
  // sharing, nothing unreachable) and no path deeper than kMaxTreeDepth.
  std::vector<uint8_t> seen(n, 0);
  std::vector<std::pair<int32_t, int>> stack{{0, 0}};
  size_t reached = 0;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (seen[static_cast<size_t>(node)]) {
      return TreeError(t, fmt::format("node {} is reached twice (cycle or shared subtree)", node));
    }
    seen[static_cast<size_t>(node)] = 1;
    ++reached;
    if (depth > kMaxTreeDepth) return TreeError(t, fmt::format("depth exceeds {} at node {}", kMaxTreeDepth, node));
    if (!tree.IsLeaf(static_cast<size_t>(node))) {
      stack.emplace_back(tree.left[static_cast<size_t>(node)], depth + 1);
      stack.emplace_back(tree.right[static_cast<size_t>(node)], depth + 1);
    }
  }
  if (reached != n) return TreeError(t, fmt::format("{} of {} nodes are unreachable from the root", n - reached, n));
  return Status::Ok();
}

}  // namespace

Status ValidateBundle(const ModelBundle& b) {
  const std::string hint = "the bundle is corrupt; re-export it from the training run";
  if (b.format_version != kBundleFormatVersion) {
    return Status::Validation(fmt::format("unsupported format_version {} (this build reads {})",
                                          b.format_version, kBundleFormatVersion),
                              "upgrade threatd or re-export the bundle");
  }
  // Every text field must be UTF-8: the canonical JSON (and its SHA-256)
  // cannot be written otherwise (an ONNX fuzz crasher had a 0x99 label).
  auto not_utf8 = [&](std::string_view what) {
    return Status::Validation(fmt::format("{} is not valid UTF-8", what), "names and labels must be UTF-8 text");
  };
  if (!flow::IsValidUtf8(b.version)) return not_utf8("version");
  if (!flow::IsValidUtf8(b.created_at)) return not_utf8("created_at");
  for (size_t i = 0; i < b.features.size(); ++i) {
    if (!flow::IsValidUtf8(b.features[i].name)) return not_utf8(fmt::format("feature {} name", i));
    for (const auto& alias : b.features[i].aliases)
      if (!flow::IsValidUtf8(alias)) return not_utf8(fmt::format("an alias of feature {}", i));
  }
  for (size_t i = 0; i < b.classes.size(); ++i)
    if (!flow::IsValidUtf8(b.classes[i])) return not_utf8(fmt::format("class label {}", i));
  if (b.features.empty()) return Status::Validation("bundle has no features", hint);
  if (b.features.size() > kMaxFeatures) return Status::Validation(fmt::format("more than {} features", kMaxFeatures), hint);
  std::set<std::string> names;
  for (size_t i = 0; i < b.features.size(); ++i) {
    if (b.features[i].name.empty()) return Status::Validation(fmt::format("feature {} has an empty name", i), hint);
    if (!names.insert(b.features[i].name).second) {
      return Status::Validation(fmt::format("feature '{}' appears twice", b.features[i].name), hint);
    }
  }
  if (b.missing_value_policy != "default_branch") {
    return Status::Validation(fmt::format("unknown missing_value_policy '{}' (expected default_branch)", b.missing_value_policy), hint);
  }
  if (b.classes.size() < 2 || b.classes.size() > kMaxClasses) {
    return Status::Validation(fmt::format("class count {} out of range [2, {}]", b.classes.size(), kMaxClasses), hint);
  }
  std::set<std::string> labels(b.classes.begin(), b.classes.end());
  if (labels.size() != b.classes.size()) return Status::Validation("class labels are not unique", hint);
  if (b.objective == Objective::kBinaryLogistic) {
    if (b.classes.size() != 2 || b.num_class != 2) {
      return Status::Validation(fmt::format("binary:logistic needs 2 classes and num_class 2, got {} classes and num_class {}",
                                            b.classes.size(), b.num_class), hint);
    }
  } else if (b.num_class != static_cast<int>(b.classes.size())) {
    return Status::Validation(fmt::format("num_class {} does not match the {} class labels", b.num_class, b.classes.size()), hint);
  }
  if (!(b.threshold >= 0.0f && b.threshold <= 1.0f)) {
    return Status::Validation(fmt::format("threshold {} outside [0, 1]", b.threshold), hint);
  }
  if (!std::isfinite(b.base_margin)) return Status::Validation("base_margin is NaN or infinite", hint);
  if (b.trees.empty()) return Status::Validation("bundle has no trees", hint);
  if (b.trees.size() > kMaxTrees) return Status::Validation(fmt::format("more than {} trees", kMaxTrees), hint);
  size_t total = 0;
  for (size_t t = 0; t < b.trees.size(); ++t) THREATD_RETURN_IF_ERROR(ValidateTree(b, t, &total));
  return Status::Ok();
}

}  // namespace threatd::ml
