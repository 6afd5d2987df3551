// Model upload: turns the bytes of an uploaded file into a validated threatd
// bundle plus what the catalogue records about it. Pure (no I/O); the
// registry stores the result.
//
// Formats, by extension and content:
//   .json / .json.gz / .gz  a threatd bundle (docs/formats/model-bundle.md),
//                           or a raw XGBoost JSON model (Booster.save_model,
//                           recognised by its "learner" key) + profile_config
//   .onnx                   an ai.onnx.ml tree ensemble + profile_config
//   .pkl .pickle .joblib .h5 .hdf5 .keras .sav (or pickle/HDF5 magic bytes)
//                           refused, 400: loading pickle executes code
// profile_config (a JSON string): {"expected_features": [...],
//   "class_labels": [...], "threshold": 0.5, "preprocessing_notes": "...",
//   "version": "..."}; expected_features is required for XGBoost and ONNX.
//
// Checks: the model type matches `model_type`; a threat_detector is binary
// (binary:logistic, 2 classes), an attack_classifier multiclass (softprob,
// >= 3 classes); every feature resolves onto a canonical flow feature
// (ml::LoadModel); a test prediction on an all-zero row succeeds.
// Errors: InvalidArgument (400) for an unsupported or unsafe format and for
// malformed profile JSON; Validation (422) for a model that does not fit.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "ml/bundle.h"

namespace threatd::registry {

inline constexpr size_t kMaxUploadBytes = size_t{512} << 20;  // 512 MiB

struct UploadRequest {
  std::string bytes;
  std::string filename;
  std::string model_type;  // "threat_detector" | "attack_classifier"
  std::optional<std::string> description;
  std::optional<std::string> profile_config;  // JSON text
  std::optional<std::string> uploaded_by;
};

struct PreparedUpload {
  ml::ModelBundle bundle;       // validated; version not yet made unique
  std::string file_format;      // "bundle" | "xgboost_json" | "onnx"
  nlohmann::json model_metadata;
  nlohmann::json validation_results;
  std::string preprocessing_notes;
};

// "threat_detector" / "attack_classifier" (the original's spelling).
Result<ml::ModelType> ParseModelType(std::string_view name);

Result<PreparedUpload> PrepareUpload(const UploadRequest& request, Clock::WallTime now);

// The card summary stored in ml_models.model_metadata for any bundle.
nlohmann::json ModelMetadata(const ml::ModelBundle& bundle, std::string_view file_format);

// Detector: binary; classifier: multiclass. Validation naming the problem.
Status CheckModelShape(const ml::ModelBundle& bundle);

}  // namespace threatd::registry
