// ModelBundle: threatd's one on-disk format for a trained tree ensemble
// (docs/formats/model-bundle.md). A bundle is plain data: features in model
// order, class labels, the decision threshold, the trees in our own flat
// representation, the model card and a SHA-256 of the canonical content.
//
// Nothing here executes code from the file: loading is JSON parsing followed
// by ValidateBundle(), which rejects out-of-range indices, cycles, unreachable
// or shared nodes, non-finite thresholds, too-deep or too-large trees and
// inconsistent class counts with a precise message.
//
// Ownership: values. Thread-safety: plain data; share const freely.
// Blocking: ReadBundleFile/WriteBundleFile do file I/O; the rest is CPU only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ml/model_card.h"

namespace threatd::ml {

inline constexpr int kBundleFormatVersion = 1;
inline constexpr int kMaxTreeDepth = 64;          // root at depth 0
inline constexpr size_t kMaxNodesPerTree = 1 << 20;
inline constexpr size_t kMaxTrees = 100000;
inline constexpr size_t kMaxTotalNodes = 1 << 24;
inline constexpr size_t kMaxFeatures = 100000;
inline constexpr size_t kMaxClasses = 1000;
inline constexpr size_t kMaxBundleBytes = 512u << 20;  // after gunzip

enum class ModelType { kThreatDetector, kAttackClassifier };
enum class Objective { kBinaryLogistic, kMultiSoftprob };

std::string_view ModelTypeName(ModelType t);    // "threat_detector"
std::string_view ObjectiveName(Objective o);    // "binary:logistic"

struct FeatureSpec {
  std::string name;                  // canonical flow feature name
  std::vector<std::string> aliases;  // other spellings accepted on input
};

// One regression tree, arrays indexed by node id; node 0 is the root. A leaf
// has left == right == -1; its value is in leaf_value (threshold unused, 0).
// Internal nodes: go left when x < threshold, take default_left when x is NaN.
struct Tree {
  std::vector<int32_t> split_feature;
  std::vector<float> threshold;
  std::vector<int32_t> left;
  std::vector<int32_t> right;
  std::vector<uint8_t> default_left;
  std::vector<float> leaf_value;
  int32_t class_index = 0;  // output column this tree adds to (0 for binary)

  size_t size() const { return left.size(); }
  bool IsLeaf(size_t node) const { return left[node] < 0; }
};

struct ModelBundle {
  int format_version = kBundleFormatVersion;
  ModelType model_type = ModelType::kThreatDetector;
  std::string version;     // free text, e.g. "2026.11.1"
  std::string created_at;  // ISO-8601 UTC
  std::vector<FeatureSpec> features;
  // The only policy today: "default_branch" (NaN takes the tree's default).
  std::string missing_value_policy = "default_branch";
  std::vector<std::string> classes;  // binary: {negative, positive}
  float threshold = 0.5f;            // binary: P(positive) >= threshold
  Objective objective = Objective::kBinaryLogistic;
  int num_class = 2;       // binary: 2; multiclass: classes.size()
  float base_margin = 0;   // added to every output column before the link
  std::vector<Tree> trees;
  ModelCard card;
  std::string sha256;      // of the canonical JSON without this field

  // Number of probability columns PredictProba writes per row (== classes).
  size_t NumOutputs() const { return classes.size(); }
};

// Full structural validation; the message names the tree, node and field.
Status ValidateBundle(const ModelBundle& bundle);

// Canonical JSON (sorted keys, compact) with sha256 filled in; deterministic.
std::string SerializeBundle(const ModelBundle& bundle);
// The SHA-256 (lower-case hex) SerializeBundle would write for `bundle`.
std::string ComputeBundleSha256(const ModelBundle& bundle);

// Parses JSON or gzip'ed JSON (detected by magic bytes), checks the sha256
// and validates. Never throws.
Result<ModelBundle> ParseBundle(std::string_view bytes);

Result<ModelBundle> ReadBundleFile(const std::string& path);
// Writes gzip when the path ends in ".gz", plain JSON otherwise.
Status WriteBundleFile(const ModelBundle& bundle, const std::string& path);

// Maps input columns onto the bundle's features (by name or alias, after
// normalisation: trim, case, separators). mapping[i] = input column of
// feature i. Fails naming every missing feature and how many matched.
Result<std::vector<size_t>> ResolveFeatures(const ModelBundle& bundle,
                                            const std::vector<std::string>& columns);

// Lower-case, alphanumerics only: " Fwd Header Length" -> "fwdheaderlength".
std::string NormalizeFeatureName(std::string_view name);

}  // namespace threatd::ml
