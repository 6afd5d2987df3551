#include "unit/registry/test_bundles.h"

#include "ml/gzip.h"

namespace threatd::registry::testing {
namespace {

ml::Tree ConstantTree(float value, int32_t class_index) {
  ml::Tree t;
  t.split_feature = {0, 0, 0};
  t.threshold = {1e9f, 0, 0};
  t.left = {1, -1, -1};
  t.right = {2, -1, -1};
  t.default_left = {1, 0, 0};
  t.leaf_value = {0, value, value};
  t.class_index = class_index;
  return t;
}

}  // namespace

ml::ModelBundle TestDetector(const std::string& version, float bias) {
  ml::ModelBundle b;
  b.model_type = ml::ModelType::kThreatDetector;
  b.version = version;
  b.created_at = "2026-01-01T00:00:00.000Z";
  b.features = {{"flow_duration", {}}, {"dst_port", {}}};
  b.classes = {"BENIGN", "ATTACK"};
  b.objective = ml::Objective::kBinaryLogistic;
  b.num_class = 2;
  b.trees = {ConstantTree(bias, 0)};
  b.card.task = "binary";
  b.sha256 = ml::ComputeBundleSha256(b);
  return b;
}

ml::ModelBundle TestClassifier(const std::string& version, float bias) {
  ml::ModelBundle b;
  b.model_type = ml::ModelType::kAttackClassifier;
  b.version = version;
  b.created_at = "2026-01-01T00:00:00.000Z";
  b.features = {{"flow_duration", {}}, {"total_fwd_packets", {}}};
  b.classes = {"BENIGN", "DoS", "PortScan"};
  b.objective = ml::Objective::kMultiSoftprob;
  b.num_class = 3;
  b.trees = {ConstantTree(bias, 0), ConstantTree(0, 1), ConstantTree(0, 2)};
  b.card.task = "multiclass";
  b.sha256 = ml::ComputeBundleSha256(b);
  return b;
}

std::string BundleBytes(const ml::ModelBundle& bundle, bool gz) {
  std::string text = ml::SerializeBundle(bundle);
  return gz ? ml::GzipCompress(text) : text;
}

}  // namespace threatd::registry::testing
