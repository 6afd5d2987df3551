#include "ml/onnx_import.h"

#include "flow/utf8.h"

#include <climits>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <onnx/onnx_pb.h>

#include "ml/onnx_ensemble.h"

namespace threatd::ml {
namespace {

Status Invalid(std::string message) { return Status::Validation(std::move(message), kOnnxImportHint); }

// The ensemble's attributes, by name (absent attributes read as empty).
class Attributes {
 public:
  explicit Attributes(const onnx::NodeProto& node) {
    for (const auto& a : node.attribute()) by_name_[a.name()] = &a;
  }
  bool Has(const std::string& name) const { return by_name_.count(name) != 0; }
  std::vector<int64_t> Ints(const std::string& name) const {
    const auto* a = Find(name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }
  std::vector<float> Floats(const std::string& name) const {
    const auto* a = Find(name);
    return a ? std::vector<float>(a->floats().begin(), a->floats().end()) : std::vector<float>{};
  }
  std::vector<std::string> Strings(const std::string& name) const {
    const auto* a = Find(name);
    return a ? std::vector<std::string>(a->strings().begin(), a->strings().end()) : std::vector<std::string>{};
  }
  std::string String(const std::string& name, const std::string& fallback) const {
    const auto* a = Find(name);
    return a ? a->s() : fallback;
  }
  int64_t Int(const std::string& name, int64_t fallback) const {
    const auto* a = Find(name);
    return a ? a->i() : fallback;
  }

 private:
  const onnx::AttributeProto* Find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  std::unordered_map<std::string, const onnx::AttributeProto*> by_name_;
};


Result<OnnxEnsemble> ReadEnsemble(const onnx::NodeProto& node) {
  const Attributes a(node);
  OnnxEnsemble e;
  e.classifier = node.op_type() == "TreeEnsembleClassifier";
  for (const char* name : {"nodes_values_as_tensor", "nodes_hitrates_as_tensor", "base_values_as_tensor",
                           "class_weights_as_tensor", "target_weights_as_tensor"}) {
    if (a.Has(name)) return Invalid(fmt::format("attribute '{}' (double precision) is not supported", name));
  }
  e.tree_ids = a.Ints("nodes_treeids");
  e.node_ids = a.Ints("nodes_nodeids");
  e.feature_ids = a.Ints("nodes_featureids");
  e.true_ids = a.Ints("nodes_truenodeids");
  e.false_ids = a.Ints("nodes_falsenodeids");
  e.tracks_true = a.Ints("nodes_missing_value_tracks_true");
  e.values = a.Floats("nodes_values");
  e.modes = a.Strings("nodes_modes");
  const std::string w = e.classifier ? "class_" : "target_";
  e.w_tree = a.Ints(w + "treeids");
  e.w_node = a.Ints(w + "nodeids");
  e.w_id = a.Ints(w + "ids");
  e.w_value = a.Floats(w + "weights");
  e.base_values = a.Floats("base_values");
  e.post_transform = a.String("post_transform", "NONE");

  const size_t n = e.tree_ids.size();
  if (n == 0) return Invalid("the tree ensemble has no nodes (nodes_treeids is empty)");
  if (n > kMaxTotalNodes) return Invalid(fmt::format("the ensemble has {} nodes, more than the bundle limit {}", n, kMaxTotalNodes));
  const std::pair<const char*, size_t> lengths[] = {
      {"nodes_nodeids", e.node_ids.size()},         {"nodes_featureids", e.feature_ids.size()},
      {"nodes_truenodeids", e.true_ids.size()},     {"nodes_falsenodeids", e.false_ids.size()},
      {"nodes_values", e.values.size()},            {"nodes_modes", e.modes.size()}};
  for (const auto& [name, size] : lengths) {
    if (size != n) return Invalid(fmt::format("'{}' has {} entries, nodes_treeids has {}", name, size, n));
  }
  if (!e.tracks_true.empty() && e.tracks_true.size() != n) {
    return Invalid(fmt::format("'nodes_missing_value_tracks_true' has {} entries, nodes_treeids has {}", e.tracks_true.size(), n));
  }
  const size_t m = e.w_tree.size();
  if (e.w_node.size() != m || e.w_id.size() != m || e.w_value.size() != m) {
    return Invalid(fmt::format("'{0}treeids', '{0}nodeids', '{0}ids' and '{0}weights' differ in length", w));
  }
  if (e.classifier) {
    const auto strings = a.Strings("classlabels_strings");
    const auto ints = a.Ints("classlabels_int64s");
    if (strings.empty() == ints.empty()) return Invalid("set exactly one of classlabels_strings and classlabels_int64s");
    e.labels = strings;
    for (size_t i = 0; i < strings.size(); ++i) {
      if (!flow::IsValidUtf8(strings[i])) return Invalid(fmt::format("classlabels_strings[{}] is not valid UTF-8", i));
    }
    for (int64_t v : ints) e.labels.push_back(std::to_string(v));
    e.outputs = e.labels.size();
  } else {
    const int64_t targets = a.Int("n_targets", 1);
    if (targets != 1) return Invalid(fmt::format("TreeEnsembleRegressor with n_targets {} (only 1 is supported)", targets));
    const std::string aggregate = a.String("aggregate_function", "SUM");
    if (aggregate != "SUM") return Invalid(fmt::format("aggregate_function {} is not supported (only SUM)", aggregate));
    e.outputs = 1;
  }
  if (e.outputs > kMaxClasses) return Invalid(fmt::format("{} classes, more than the bundle limit {}", e.outputs, kMaxClasses));
  return e;
}


// Finds the one tree ensemble; only output formatting operators may surround it.
Result<const onnx::NodeProto*> FindEnsemble(const onnx::GraphProto& graph) {
  const onnx::NodeProto* found = nullptr;
  for (const auto& node : graph.node()) {
    const bool ensemble = node.op_type() == "TreeEnsembleClassifier" || node.op_type() == "TreeEnsembleRegressor";
    if (ensemble && node.domain() == "ai.onnx.ml") {
      if (found) return Invalid("the graph holds more than one tree ensemble; import exactly one");
      found = &node;
    } else if (node.op_type() != "ZipMap" && node.op_type() != "Cast" && node.op_type() != "Identity") {
      return Invalid(fmt::format("operator '{}' (domain '{}') is not supported next to the tree ensemble",
                                 node.op_type(), node.domain()));
    }
  }
  if (!found) return Invalid("the graph holds no ai.onnx.ml TreeEnsembleClassifier or TreeEnsembleRegressor");
  return found;
}

// The ensemble's input width when the graph declares it ([N, F]).
Status CheckInputWidth(const onnx::GraphProto& graph, const onnx::NodeProto& node, size_t num_features) {
  if (node.input_size() != 1) return Invalid(fmt::format("the tree ensemble has {} inputs, expected 1", node.input_size()));
  for (const auto& in : graph.input()) {
    if (in.name() != node.input(0) || !in.type().has_tensor_type()) continue;
    const auto& shape = in.type().tensor_type().shape();
    if (shape.dim_size() != 2 || !shape.dim(1).has_dim_value()) continue;
    const auto width = shape.dim(1).dim_value();
    if (width < 0 || static_cast<uint64_t>(width) != num_features) {
      return Status::Validation(fmt::format("the ONNX input '{}' has {} features, the profile lists {}", in.name(), width, num_features),
                                "list exactly the model's input columns, in order, in the profile");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ModelBundle> ImportOnnx(std::string_view model_bytes, const ImportProfile& profile) {
  if (model_bytes.size() > kMaxBundleBytes || model_bytes.size() > static_cast<size_t>(INT_MAX)) {
    return Status::PayloadTooLarge(fmt::format("ONNX model of {} bytes exceeds the {} byte limit", model_bytes.size(), kMaxBundleBytes));
  }
  if (profile.features.empty()) return Status::InvalidArgument("the profile lists no features", "list the model's input columns in order");
  onnx::ModelProto model;
  if (!model.ParseFromArray(model_bytes.data(), static_cast<int>(model_bytes.size())) || !model.has_graph()) {
    return Invalid("the file is not an ONNX model (protobuf ModelProto with a graph)");
  }
  auto node = FindEnsemble(model.graph());
  if (!node.ok()) return node.status();
  THREATD_RETURN_IF_ERROR(CheckInputWidth(model.graph(), **node, profile.features.size()));
  auto ensemble = ReadEnsemble(**node);
  if (!ensemble.ok()) return ensemble.status();

  ModelBundle b = BundleFromProfile(profile);
  if (b.classes.empty()) b.classes = ensemble->labels;
  if (!ensemble->classifier && b.classes.size() != 2) {
    return Status::InvalidArgument("a TreeEnsembleRegressor has no class labels",
                                   "list exactly two classes {negative, positive} in the profile");
  }
  if (ensemble->classifier && b.classes.size() != ensemble->outputs) {
    return Status::InvalidArgument(fmt::format("the profile lists {} classes, the ONNX classifier has {}", b.classes.size(), ensemble->outputs),
                                   "leave the profile's classes empty to use the model's labels");
  }
  THREATD_RETURN_IF_ERROR(ConvertOnnxEnsemble(*ensemble, profile.features.size(), &b));
  THREATD_RETURN_IF_ERROR(ValidateBundle(b));
  b.sha256 = ComputeBundleSha256(b);  // ValidateBundle guarantees UTF-8 text
  return b;
}

}  // namespace threatd::ml