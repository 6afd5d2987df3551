// ImportOnnx: converts an ONNX model (serialized onnx::ModelProto) holding one
// `ai.onnx.ml` TreeEnsembleClassifier or TreeEnsembleRegressor into a
// validated ModelBundle, so gradient-boosted models exported to ONNX by
// skl2onnx, onnxmltools (LightGBM, XGBoost) can be scored by threatd.
// docs/formats/model-bundle.md "Importing ONNX" lists what is supported:
//  - every split mode except BRANCH_EQ / BRANCH_NEQ. Our splits are
//    `x < threshold -> left`; BRANCH_LEQ / BRANCH_GT use the threshold
//    nextafter(t, +inf), which is exact for float inputs;
//  - nodes_missing_value_tracks_true (NaN takes the true branch, else false);
//  - classifier, 2 classes: one scored class with LOGISTIC (XGBoost/LightGBM
//    style) or both classes with SOFTMAX; >= 3 classes: SOFTMAX;
//  - regressor, 1 target, aggregate SUM, LOGISTIC: a binary detector.
// Everything else (post_transform NONE/PROBIT/SOFTMAX_ZERO, double
// "_as_tensor" attributes, other operators than ZipMap/Cast/Identity, broken
// trees, sizes over the bundle limits) is rejected with a precise Status.
// Only protobuf parsing of plain data: pickle/joblib files are never read.
//
// Thread-safety: pure function. No I/O. libonnx/protobuf types stay in the .cpp.
#pragma once

#include <string_view>

#include "common/status.h"
#include "ml/bundle.h"
#include "ml/xgboost_import.h"  // ImportProfile

namespace threatd::ml {

// profile.features: the model's input columns in order (== the input width).
// profile.classes: empty -> the model's classlabels_strings/int64s; otherwise
// one name per model class, in the model's class order (a regressor needs
// exactly two: {negative, positive}).
Result<ModelBundle> ImportOnnx(std::string_view model_bytes, const ImportProfile& profile);

}  // namespace threatd::ml
