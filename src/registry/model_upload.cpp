#include "registry/model_upload.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <vector>

#include "common/ascii.h"
#include "ml/gzip.h"
#include "ml/loaded_model.h"
#include "ml/model_card.h"
#include "ml/onnx_import.h"
#include "ml/xgboost_import.h"

namespace threatd::registry {
namespace {

constexpr const char* kFormatsHint =
    "upload a threatd bundle (.json/.json.gz), a raw XGBoost JSON model (Booster.save_model('m.json')) or an ONNX "
    "tree ensemble (.onnx) with a profile_config; GET /api/v1/models/info/supported-formats lists them";

Status RefusePickle(std::string_view what) {
  return Status::InvalidArgument(
      fmt::format("{} files are not accepted: they are Python pickles (or Keras/HDF5), and loading a pickle "
                  "executes arbitrary code",
                  what),
      "convert the model first: `threatd import` for XGBoost models, or export it as XGBoost JSON "
      "(Booster.save_model('model.json')) or ONNX (skl2onnx/onnxmltools) and upload that with a profile_config");
}

struct Profile {
  std::vector<std::string> features;
  std::vector<std::string> classes;
  std::optional<float> threshold;
  std::string notes;
  std::string version;
  nlohmann::json raw;  // null when none was given
};

Result<std::vector<std::string>> StringList(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const auto& v = j[key];
  if (!v.is_array()) return Status::Validation(fmt::format("Invalid profile configuration: '{}' must be a list of strings", key));
  std::set<std::string> seen;
  for (const auto& e : v) {
    if (!e.is_string() || e.get<std::string>().find_first_not_of(" \t") == std::string::npos)
      return Status::Validation(fmt::format("Invalid profile configuration: '{}' must contain non-blank strings", key));
    if (!seen.insert(e.get<std::string>()).second)
      return Status::Validation(
          fmt::format("Invalid profile configuration: '{}' lists '{}' twice", key, e.get<std::string>()));
    out.push_back(e.get<std::string>());
  }
  if (out.empty()) return Status::Validation(fmt::format("Invalid profile configuration: '{}' is empty", key));
  return out;
}

Result<Profile> ParseProfile(const std::optional<std::string>& text) {
  Profile p;
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) return p;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded())
    return Status::InvalidArgument("Invalid JSON in profile_config",
                                   "send a JSON object such as {\"expected_features\": [...], \"class_labels\": [...]}");
  if (!j.is_object()) return Status::Validation("Invalid profile configuration: profile_config must be a JSON object");
  auto f = StringList(j, "expected_features");
  if (!f.ok()) return f.status();
  auto c = StringList(j, "class_labels");
  if (!c.ok()) return c.status();
  p.features = std::move(f).value();
  p.classes = std::move(c).value();
  if (j.contains("threshold")) {
    if (!j["threshold"].is_number() || j["threshold"].get<double>() <= 0 || j["threshold"].get<double>() >= 1)
      return Status::Validation("Invalid profile configuration: 'threshold' must be a number between 0 and 1");
    p.threshold = j["threshold"].get<float>();
  }
  if (j.contains("preprocessing_notes") && j["preprocessing_notes"].is_string())
    p.notes = j["preprocessing_notes"].get<std::string>();
  if (j.contains("version") && j["version"].is_string()) p.version = j["version"].get<std::string>();
  p.raw = std::move(j);
  return p;
}

Result<ml::ImportProfile> ImportProfileFrom(const Profile& p, ml::ModelType type, const UploadRequest& req,
                                            Clock::WallTime now, bool classes_required) {
  if (p.features.empty())
    return Status::Validation("profile_config.expected_features is required for this format: the model file does "
                              "not name its input columns",
                              "list the model's input columns in order, using CICFlowMeter feature names");
  ml::ImportProfile ip;
  ip.model_type = type;
  for (const auto& name : p.features) ip.features.push_back({name, {}});
  ip.classes = p.classes;
  if (ip.classes.empty() && type == ml::ModelType::kThreatDetector) ip.classes = {"BENIGN", "ATTACK"};
  if (ip.classes.empty() && classes_required)
    return Status::Validation("profile_config.class_labels is required for an attack_classifier",
                              "list the class names in the model's class order");
  ip.threshold = p.threshold.value_or(0.5f);
  ip.version = p.version;
  ip.created_at = FormatIso8601(now);
  ip.card.notes = req.description.value_or("");
  return ip;
}

}  // namespace

Result<ml::ModelType> ParseModelType(std::string_view name) {
  if (name == "threat_detector") return ml::ModelType::kThreatDetector;
  if (name == "attack_classifier") return ml::ModelType::kAttackClassifier;
  return Status::Validation(
      fmt::format("Invalid model_type. Must be 'threat_detector' or 'attack_classifier', got: {}", name));
}

Status CheckModelShape(const ml::ModelBundle& b) {
  if (b.model_type == ml::ModelType::kThreatDetector &&
      (b.objective != ml::Objective::kBinaryLogistic || b.classes.size() != 2))
    return Status::Validation(
        fmt::format("Model validation failed: a threat_detector must be binary (binary:logistic, 2 classes); this "
                    "model is {} with {} classes",
                    ml::ObjectiveName(b.objective), b.classes.size()),
        "upload multiclass models as attack_classifier");
  if (b.model_type == ml::ModelType::kAttackClassifier &&
      (b.objective != ml::Objective::kMultiSoftprob || b.classes.size() < 3))
    return Status::Validation(
        fmt::format("Model validation failed: an attack_classifier must be multiclass (multi:softprob, at least 3 "
                    "classes); this model is {} with {} classes",
                    ml::ObjectiveName(b.objective), b.classes.size()),
        "upload binary models as threat_detector");
  return Status::Ok();
}

nlohmann::json ModelMetadata(const ml::ModelBundle& b, std::string_view file_format) {
  nlohmann::json meta = {{"model_type", ml::ModelTypeName(b.model_type)},
          {"source_format", file_format},
          {"expected_input_features", b.features.size()},
          {"actual_input_features", b.features.size()},
          {"expected_output_classes", b.classes.size()},
          {"num_classes", b.classes.size()},
          {"classes", b.classes},
          {"objective", ml::ObjectiveName(b.objective)},
          {"threshold", b.threshold},
          {"trees", b.trees.size()},
          {"bundle_version", b.version},
          {"bundle_created_at", b.created_at},
          {"bundle_sha256", b.sha256},
          {"card",
           {{"task", b.card.task},
            {"train_rows", b.card.train_rows},
            {"validation_rows", b.card.validation_rows},
            {"validation_protocol", b.card.validation_protocol},
            {"data_sources", b.card.data_sources},
            {"notes", b.card.notes}}}};
  // The validation metrics (per-class precision/recall/F1, confusion matrix)
  // for the console's model card; absent when the card has none.
  if (!b.card.validation.classes.empty()) ml::ToJson(meta["card"]["validation"], b.card.validation);
  return meta;
}

Result<PreparedUpload> PrepareUpload(const UploadRequest& req, Clock::WallTime now) {
  auto type = ParseModelType(req.model_type);
  if (!type.ok()) return type.status();
  const std::string name = AsciiLower(req.filename);
  for (const char* ext : {".pkl", ".pickle", ".joblib", ".h5", ".hdf5", ".keras", ".sav"}) {
    if (name.ends_with(ext)) return RefusePickle(ext);
  }
  const std::string_view bytes = req.bytes;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5)
    return RefusePickle("pickle");
  if (bytes.substr(0, 8) == std::string_view("\x89HDF\r\n\x1a\n", 8)) return RefusePickle("HDF5");
  if (bytes.empty()) return Status::InvalidArgument("the uploaded model file is empty", kFormatsHint);

  auto profile = ParseProfile(req.profile_config);
  if (!profile.ok()) return profile.status();

  PreparedUpload out;
  Result<ml::ModelBundle> bundle = Status::Internal("unreachable");
  if (name.ends_with(".onnx")) {
    out.file_format = "onnx";
    auto ip = ImportProfileFrom(*profile, *type, req, now, /*classes_required=*/false);
    if (!ip.ok()) return ip.status();
    bundle = ml::ImportOnnx(bytes, *ip);
  } else if (name.ends_with(".json") || name.ends_with(".json.gz") || name.ends_with(".gz")) {
    std::string_view text = bytes;
    std::string inflated;
    if (ml::LooksGzipped(bytes)) {
      auto raw = ml::GzipDecompress(bytes, ml::kMaxBundleBytes);
      if (!raw.ok()) return Status::InvalidArgument("Model validation failed: " + raw.status().message(), kFormatsHint);
      inflated = std::move(raw).value();
      text = inflated;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status::InvalidArgument(fmt::format("'{}' is not a JSON object", req.filename), kFormatsHint);
    if (j.contains("learner")) {
      out.file_format = "xgboost_json";
      auto ip = ImportProfileFrom(*profile, *type, req, now, /*classes_required=*/true);
      if (!ip.ok()) return ip.status();
      bundle = ml::ImportXgboostJson(text, *ip);
    } else if (j.contains("format_version")) {
      out.file_format = "bundle";
      bundle = ml::ParseBundle(text);
    } else {
      return Status::InvalidArgument(
          fmt::format("'{}' is neither a threatd bundle (no 'format_version') nor an XGBoost JSON model (no "
                      "'learner')",
                      req.filename),
          kFormatsHint);
    }
  } else {
    const auto dot = name.rfind('.');
    return Status::InvalidArgument(
        fmt::format("Unsupported file format: '{}'", dot == std::string::npos ? name : name.substr(dot)),
        kFormatsHint);
  }
  if (!bundle.ok()) {
    const Status& s = bundle.status();
    return Status(s.code() == ErrorCode::kInvalidArgument ? ErrorCode::kValidation : s.code(),
                  "Model validation failed: " + s.message(), s.hint());
  }
  out.bundle = std::move(bundle).value();
  ml::ModelBundle& b = out.bundle;
  if (b.model_type != *type)
    return Status::Validation(fmt::format("Model validation failed: the file is a {} but model_type is {}",
                                          ml::ModelTypeName(b.model_type), req.model_type),
                              "upload it with the model_type it was trained for");
  THREATD_RETURN_IF_ERROR(CheckModelShape(b));
  if (b.version.empty()) b.version = profile->version;
  if (b.version.empty()) {
    std::string stamp = FormatIso8601(now);  // -> upload-20261122T232644Z
    stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }),
                stamp.end());
    b.version = "upload-" + stamp.substr(0, stamp.find_first_of(".Z")) + "Z";
  }
  auto loaded = ml::LoadModel(b);
  if (!loaded.ok())
    return Status::Validation("Model validation failed: " + loaded.status().message(), loaded.status().hint());

  // A test prediction on an all-zero row: the engine runs end to end.
  const auto& engine = *(*loaded)->engine;
  std::vector<float> row(engine.NumFeatures(), 0.0f);
  std::vector<float> proba(engine.NumOutputs(), 0.0f);
  const int cls = engine.PredictClass(row.data(), proba);
  nlohmann::json probs = nlohmann::json::object();
  for (size_t i = 0; i < proba.size(); ++i) probs[engine.classes()[i]] = proba[i];

  out.preprocessing_notes = profile->notes.empty()
                                ? fmt::format("Canonical CICFlowMeter flow features ({}); NaN/missing values take "
                                              "each tree's default branch",
                                              b.features.size())
                                : profile->notes;
  out.model_metadata = ModelMetadata(b, out.file_format);
  out.validation_results = {{"is_valid", true},
                            {"error_message", nullptr},
                            {"model_metadata", out.model_metadata},
                            {"test_prediction",
                             {{"input", "all-zero row"},
                              {"predicted_class", engine.classes()[static_cast<size_t>(cls)]},
                              {"probabilities", probs}}},
                            {"profile_config", profile->raw}};
  return out;
}

}  // namespace threatd::registry
