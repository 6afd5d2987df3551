// The model registry API: {prefix}/models (upload, list, get, activate,
// deactivate, rollback, delete, storage stats, supported formats, profiles).
// Reads need a viewer key, changes an operator key; every change is audited.
#include <fmt/format.h>

#include <charconv>

#include "api/audit.h"
#include "api/params.h"
#include "api/routes.h"
#include "http/error_mapping.h"
#include "http/multipart.h"
#include "registry/model_registry.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;

constexpr size_t kFieldBytes = 1 << 20;  // model_type, description, profile_config

nlohmann::json ParsedOrNull(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// MLModel as in the original, plus sha256, activated_at and is_real.
nlohmann::json ModelJson(const storage::ModelRecord& m) {
  nlohmann::json metadata = ParsedOrNull(m.model_metadata);
  bool is_real = false;
  if (metadata.is_object() && metadata.contains("card") && metadata["card"].is_object()) {
    is_real = metadata["card"].value("train_rows", 0) > 0 && metadata.value("trees", 0) > 0;
  }
  return {{"id", m.id},
          {"model_type", m.model_type},
          {"version", m.version},
          {"file_path", m.file_path},
          {"file_format", m.file_format},
          {"original_filename", m.original_filename},
          {"is_active", m.is_active},
          {"model_metadata", metadata},
          {"validation_results", ParsedOrNull(m.validation_results)},
          {"file_size_bytes", OrNull(m.file_size_bytes)},
          {"expected_features", ParsedOrNull(m.expected_features)},
          {"class_labels", ParsedOrNull(m.class_labels)},
          {"preprocessing_notes", OrNull(m.preprocessing_notes)},
          {"created_at", FormatIso8601(m.created_at)},
          {"uploaded_by", OrNull(m.uploaded_by)},
          {"description", OrNull(m.description)},
          {"sha256", OrNull(m.sha256)},
          {"activated_at", m.activated_at ? nlohmann::json(FormatIso8601(*m.activated_at)) : nlohmann::json(nullptr)},
          {"is_real", is_real}};
}

Result<int64_t> ModelId(const Request& req) {
  const std::string_view text = req.PathParam("id");
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1)
    return Status::Validation(fmt::format("model id must be a positive integer, got '{}'", text));
  return v;
}

Result<bool> OptionalBool(const Request& req, std::string_view name, bool fallback) {
  auto v = req.Query(name);
  if (!v) return fallback;
  return BoolParam(name, *v);
}

// Reads the multipart form of POST /models/upload.
Result<registry::UploadRequest> ReadUploadForm(Request& req) {
  auto boundary = http::MultipartBoundary(req.Header("content-type"));
  if (!boundary.ok()) return boundary.status();
  http::MultipartReader parts(*req.body_reader, *boundary);
  registry::UploadRequest out;
  bool have_file = false;
  bool have_type = false;
  while (true) {
    auto part = parts.NextPart();
    if (!part.ok()) return part.status();
    if (!*part) break;
    const std::string name = (*part)->name;
    const bool is_file = name == "file";
    auto data = parts.ReadAll(is_file ? registry::kMaxUploadBytes : kFieldBytes);
    if (!data.ok()) return data.status();
    if (is_file) {
      out.bytes = std::move(data).value();
      out.filename = (*part)->filename.value_or("");
      have_file = true;
    } else if (name == "model_type") {
      out.model_type = std::move(data).value();
      have_type = true;
    } else if (name == "description") {
      if (!data->empty()) out.description = std::move(data).value();
    } else if (name == "profile_config") {
      if (!data->empty()) out.profile_config = std::move(data).value();
    }
  }
  if (!have_file)
    return Status::Validation("form field 'file' is required",
                              "send multipart/form-data with file, model_type, description?, profile_config?");
  if (!have_type)
    return Status::Validation("form field 'model_type' is required", "use threat_detector or attack_classifier");
  return out;
}

std::string DeactivatedMessage(const storage::ModelRecord& m) {
  if (m.model_type == "threat_detector")
    return fmt::format(
        "Model {} deactivated. No threat_detector is active now: the pipeline refuses flows until one is activated "
        "(POST /models/{{id}}/activate or /models/rollback/threat_detector)",
        m.id);
  return fmt::format(
      "Model {} deactivated. No attack_classifier is active now: flows are detected but not classified until one is "
      "activated",
      m.id);
}

}  // namespace

void RegisterModelRoutes(http::Router& router, ApiContext& ctx, registry::ModelRegistry& models) {
  const std::string base = ctx.options.api_prefix + "/models";
  const auto viewer = [](std::string summary) {
    return RouteOptions{.min_role = Role::kViewer, .summary = std::move(summary), .tag = "models"};
  };
  const auto operator_ = [](std::string summary) {
    return RouteOptions{.min_role = Role::kOperator, .summary = std::move(summary), .tag = "models"};
  };
  auto audit = [&ctx](const Request& req, std::string_view action, int64_t id, const nlohmann::json& details) {
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), action, "model", std::to_string(id), details, req.request_id);
  };

  RouteOptions upload = operator_("Upload a model (bundle, XGBoost JSON + profile, or ONNX + profile); stored inactive");
  upload.stream_body = true;
  upload.body_limit = registry::kMaxUploadBytes + kFieldBytes * 4;
  router.Add(Method::kPost, base + "/upload", [&models, audit](Request& req) {
    auto form = ReadUploadForm(req);
    if (!form.ok()) return Response::FromStatus(form.status());
    form->uploaded_by = ActorOf(req);
    auto rec = models.Upload(*form);
    if (!rec.ok()) return Response::FromStatus(rec.status());
    audit(req, "model.upload", rec->id,
          {{"model_type", rec->model_type}, {"version", rec->version}, {"sha256", OrNull(rec->sha256)},
           {"file_format", rec->file_format}, {"original_filename", rec->original_filename}});
    return Response::Json(ModelJson(*rec), 201);
  }, upload);

  router.Add(Method::kGet, base, [&ctx](Request& req) {
    std::optional<std::string> type;
    if (auto t = req.Query("model_type")) {
      if (auto parsed = registry::ParseModelType(*t); !parsed.ok()) return Response::FromStatus(parsed.status());
      type = std::string(*t);
    }
    auto include = OptionalBool(req, "include_inactive", true);
    if (!include.ok()) return Response::FromStatus(include.status());
    auto rows = ctx.db.Models().List(type, *include);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : *rows) items.push_back(ModelJson(m));
    return Response::Json({{"models", items}, {"total_count", items.size()}});
  }, viewer("List models, newest first"));

  router.Add(Method::kGet, base + "/{id}", [&ctx](Request& req) {
    auto id = ModelId(req);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto rec = ctx.db.Models().Get(*id);
    return rec.ok() ? Response::Json(ModelJson(*rec)) : Response::FromStatus(rec.status());
  }, viewer("One model"));

  router.Add(Method::kPost, base + "/{id}/activate", [&models, audit](Request& req) {
    auto id = ModelId(req);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto rec = models.Activate(*id);
    if (!rec.ok()) return Response::FromStatus(rec.status());
    audit(req, "model.activate", *id, {{"model_type", rec->model_type}, {"version", rec->version}});
    return Response::Json({{"message", fmt::format("Model {} ({} {}) is active and scoring", *id, rec->model_type,
                                                   rec->version)},
                           {"model", ModelJson(*rec)}});
  }, operator_("Activate a model: the pipeline scores with it as soon as this returns"));

  router.Add(Method::kPost, base + "/{id}/deactivate", [&ctx, &models, audit](Request& req) {
    auto id = ModelId(req);
    if (!id.ok()) return Response::FromStatus(id.status());
    // Whether it was active decides the message: an inactive model's type keeps its active model.
    auto before = ctx.db.Models().Get(*id);
    const bool was_active = before.ok() && before->is_active;
    auto rec = models.Deactivate(*id);
    if (!rec.ok()) return Response::FromStatus(rec.status());
    audit(req, "model.deactivate", *id, {{"model_type", rec->model_type}, {"version", rec->version}});
    const std::string message = was_active ? DeactivatedMessage(*rec)
                                           : fmt::format("Model {} was not active; nothing changed", *id);
    return Response::Json({{"message", message}, {"model", ModelJson(*rec)}});
  }, operator_("Deactivate a model (its type is then left without an active model)"));

  router.Add(Method::kPost, base + "/rollback/{model_type}", [&models, audit](Request& req) {
    auto type = registry::ParseModelType(req.PathParam("model_type"));
    if (!type.ok()) return Response::FromStatus(type.status());
    auto rec = models.Rollback(*type);
    if (!rec.ok()) return Response::FromStatus(rec.status());
    audit(req, "model.rollback", rec->id, {{"model_type", rec->model_type}, {"version", rec->version}});
    return Response::Json({{"message", fmt::format("Rolled back {} to version {} (model {})", rec->model_type,
                                                   rec->version, rec->id)},
                           {"model", ModelJson(*rec)}});
  }, operator_("Re-activate the previously active model of a type"));

  router.Add(Method::kDelete, base + "/{id}", [&models, audit](Request& req) {
    auto id = ModelId(req);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto delete_file = OptionalBool(req, "delete_file", true);
    if (!delete_file.ok()) return Response::FromStatus(delete_file.status());
    if (Status s = models.Delete(*id, *delete_file); !s.ok()) return Response::FromStatus(s);
    audit(req, "model.delete", *id, {{"delete_file", *delete_file}});
    return Response::Json({{"message", fmt::format("Model {} deleted successfully", *id)}});
  }, operator_("Delete an inactive model (409 for the active one)"));

  router.Add(Method::kGet, base + "/stats/storage", [&ctx](Request&) {
    auto stats = ctx.db.Models().StorageStats();
    if (!stats.ok()) return Response::FromStatus(stats.status());
    nlohmann::json by_type = nlohmann::json::object();
    for (const char* t : {"threat_detector", "attack_classifier"}) {
      const auto it = stats->by_type.find(t);
      const storage::ModelTypeStats s = it == stats->by_type.end() ? storage::ModelTypeStats{} : it->second;
      by_type[t] = {{"count", s.count}, {"size_bytes", s.size_bytes}, {"active_count", s.active_count}};
    }
    nlohmann::json active = nlohmann::json::array();
    for (const auto& a : stats->active_models)
      active.push_back({{"model_type", a.model_type}, {"version", a.version}, {"id", a.id}});
    const double mb = static_cast<double>(stats->total_size_bytes) / (1024.0 * 1024.0);
    return Response::Json({{"total_models", stats->total_models},
                           {"total_size_bytes", stats->total_size_bytes},
                           {"total_size_mb", static_cast<double>(static_cast<int64_t>(mb * 100 + 0.5)) / 100},
                           {"by_type", by_type},
                           {"active_models", active}});
  }, viewer("Model storage statistics"));

  router.Add(Method::kGet, base + "/info/supported-formats", [&models](Request&) {
    nlohmann::json requirements = nlohmann::json::object();
    for (auto type : {ml::ModelType::kThreatDetector, ml::ModelType::kAttackClassifier}) {
      const auto features = models.DefaultFeatures(type);
      requirements[std::string(ml::ModelTypeName(type))] = {
          {"output", type == ml::ModelType::kThreatDetector ? "binary (binary:logistic, 2 classes)"
                                                             : "multiclass (multi:softprob, >= 3 classes)"},
          {"input_features", features.size()},
          {"feature_names", features},
          {"note", "the features the shipped default model reads; a model may use any CICFlowMeter flow features "
                   "(canonical names or aliases, docs/formats/flows.md)"}};
    }
    return Response::Json(
        {{"supported_formats", {".json", ".json.gz", ".onnx"}},
         {"formats",
          {{{"extension", ".json / .json.gz"}, {"kind", "threatd model bundle"}, {"profile_config", "optional"}},
           {{"extension", ".json"}, {"kind", "raw XGBoost JSON model (Booster.save_model)"},
            {"profile_config", "required: expected_features, class_labels (attack_classifier), threshold?"}},
           {{"extension", ".onnx"}, {"kind", "ONNX ai.onnx.ml TreeEnsembleClassifier/Regressor"},
            {"profile_config", "required: expected_features; class_labels optional"}}}},
         {"refused_formats", {".pkl", ".pickle", ".joblib", ".h5", ".hdf5", ".keras", ".sav"}},
         {"refused_reason", "pickle-based files execute code when loaded; convert with `threatd import` or export "
                            "XGBoost JSON / ONNX"},
         {"supported_model_types", {"threat_detector", "attack_classifier"}},
         {"max_file_size_bytes", registry::kMaxUploadBytes},
         {"model_requirements", requirements}});
  }, viewer("What model formats and features are accepted"));

  router.Add(Method::kGet, base + "/profile/{model_type}", [&models](Request& req) {
    auto type = registry::ParseModelType(req.PathParam("model_type"));
    if (!type.ok()) return Response::FromStatus(type.status());
    auto p = models.Profile(*type);
    if (!p.ok()) return Response::FromStatus(p.status());
    return Response::Json({{"model_type", p->model_type},
                           {"profile",
                            {{"expected_features", p->expected_features},
                             {"class_labels", p->class_labels},
                             {"preprocessing_notes", p->preprocessing_notes}}},
                           {"source", p->source},
                           {"model_id", OrNull(p->model_id)}});
  }, viewer("The active model's profile (or the shipped default's)"));
}

}  // namespace threatd::api
