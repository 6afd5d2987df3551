// OnnxEnsemble: an ai.onnx.ml TreeEnsembleClassifier/Regressor's attributes
// as plain arrays (ONNX's parallel-array form, lengths already checked by the
// reader in onnx_import.cpp), and their conversion into bundle trees. Split
// from onnx_import.cpp so that only that file sees protobuf types.
// Internal to ml/onnx_import (the public API is ImportOnnx).
//
// Thread-safety: pure functions. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "ml/bundle.h"

namespace threatd::ml {

inline constexpr const char* kOnnxImportHint =
    "expected an ONNX model with one ai.onnx.ml TreeEnsembleClassifier or TreeEnsembleRegressor "
    "(docs/formats/model-bundle.md, \"Importing ONNX\")";

struct OnnxEnsemble {
  bool classifier = true;
  std::vector<int64_t> tree_ids, node_ids, feature_ids, true_ids, false_ids, tracks_true;
  std::vector<float> values;
  std::vector<std::string> modes;
  std::vector<int64_t> w_tree, w_node, w_id;  // class_* or target_*
  std::vector<float> w_value;
  std::vector<float> base_values;
  std::string post_transform;
  std::vector<std::string> labels;  // classifier: model class labels
  size_t outputs = 0;               // classes or targets
};

// Sets b's objective, num_class, base_margin and trees from the ensemble
// (docs/formats/model-bundle.md "Importing ONNX" has the mapping); every
// split feature must be < num_features. Does not call ValidateBundle.
Status ConvertOnnxEnsemble(const OnnxEnsemble& e, size_t num_features, ModelBundle* b);

}  // namespace threatd::ml
