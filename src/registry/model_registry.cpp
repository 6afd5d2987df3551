#include "registry/model_registry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace threatd::registry {
namespace {

constexpr ml::ModelType kTypes[] = {ml::ModelType::kThreatDetector, ml::ModelType::kAttackClassifier};

std::string TypeName(ml::ModelType t) { return std::string(ml::ModelTypeName(t)); }

std::vector<std::string> FeatureNames(const ml::ModelBundle& b) {
  std::vector<std::string> out;
  for (const auto& f : b.features) out.push_back(f.name);
  return out;
}

std::vector<std::string> JsonStrings(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

RegistryStats::RegistryStats(metrics::Registry& r)
    : swaps(r.GetCounter("threatd_model_swaps_total", "Model sets published to the pipeline.")),
      load_failures(r.GetCounter("threatd_model_load_failures_total", "Model bundles that could not be loaded.")),
      uploads(r.GetCounter("threatd_model_uploads_total", "Models registered by upload.")),
      uploads_refused(r.GetCounter("threatd_model_uploads_refused_total", "Model uploads rejected.")) {}

ModelRegistry::ModelRegistry(RegistryOptions options, storage::ModelRepository& repo, Clock& clock,
                             metrics::Registry& registry)
    : options_(std::move(options)),
      repo_(repo),
      clock_(clock),
      stats_(registry),
      store_(options_.models_dir),
      current_(std::make_shared<const ml::ModelSet>()) {}

ModelRegistry::~ModelRegistry() = default;

std::shared_ptr<const ml::ModelSet> ModelRegistry::Current() const {
  std::lock_guard lock(current_mu_);
  return current_;
}

void ModelRegistry::Publish(ml::ModelType type, TypeState state) {
  std::lock_guard lock(current_mu_);
  state_[Index(type)] = std::move(state);
  auto set = std::make_shared<ml::ModelSet>();
  set->detector = state_[0].model;
  set->classifier = state_[1].model;
  current_ = std::move(set);
  stats_.swaps.Inc();
}

Status ModelRegistry::Start() {
  std::lock_guard lock(mutate_mu_);
  for (ml::ModelType type : kTypes) {
    auto& d = defaults_[Index(type)];
    if (options_.defaults_dir.empty()) continue;
    d.path = (std::filesystem::path(options_.defaults_dir) / (TypeName(type) + ".json.gz")).string();
    auto bundle = ml::ReadBundleFile(d.path);
    if (bundle.ok()) {
      d.bundle = std::move(bundle).value();
    } else {
      spdlog::warn("default {} bundle not usable: {}", TypeName(type), bundle.status().ToString());
    }
  }
  for (ml::ModelType type : kTypes) THREATD_RETURN_IF_ERROR(StartType(type));
  return Status::Ok();
}

Status ModelRegistry::StartType(ml::ModelType type) {
  const std::string name = TypeName(type);
  auto active = repo_.List(name, /*include_inactive=*/false);
  if (!active.ok()) return active.status().WithContext("reading the model catalogue");
  if (!active->empty()) {
    const auto& rec = active->front();
    auto model = LoadRecord(rec);
    if (model.ok()) {
      spdlog::info("model registry: {} {} (id {}) loaded", name, rec.version, rec.id);
      Publish(type, {std::move(model).value(), rec, std::nullopt});
    } else {
      spdlog::error("model registry: active {} {} (id {}) cannot be loaded: {}", name, rec.version, rec.id,
                    model.status().ToString());
      Publish(type, {nullptr, rec, model.status().message()});
    }
    return Status::Ok();
  }
  auto all = repo_.List(name, /*include_inactive=*/true);
  if (!all.ok()) return all.status().WithContext("reading the model catalogue");
  if (!all->empty()) {
    Publish(type, {nullptr, std::nullopt,
                   fmt::format("no active {}: activate one with POST /api/v1/models/{{id}}/activate", name)});
    return Status::Ok();
  }
  auto registered = RegisterDefault(type);
  Status s = registered.ok() ? ActivateLocked(registered->id).status() : registered.status();
  if (!s.ok()) {
    spdlog::error("model registry: no {} registered and the default could not be registered: {}", name,
                  s.ToString());
    Publish(type, {nullptr, std::nullopt, fmt::format("no {} registered; the shipped default failed: {}", name,
                                                      s.message())});
  }
  return Status::Ok();
}

Result<std::shared_ptr<const ml::LoadedModel>> ModelRegistry::LoadRecord(const storage::ModelRecord& rec) {
  auto result = [&]() -> Result<std::shared_ptr<const ml::LoadedModel>> {
    auto type = ParseModelType(rec.model_type);
    if (!type.ok()) return type.status();
    auto bundle = store_.Read(rec.file_path, rec.sha256.value_or(""));
    if (!bundle.ok()) return bundle.status();
    if (bundle->model_type != *type)
      return Status::Validation(fmt::format("model {}: the file holds a {}, the catalogue says {}", rec.id,
                                            ml::ModelTypeName(bundle->model_type), rec.model_type));
    THREATD_RETURN_IF_ERROR(CheckModelShape(*bundle));
    return ml::LoadModel(*bundle, rec.id);
  }();
  if (!result.ok()) stats_.load_failures.Inc();
  return result;
}

Result<storage::ModelRecord> ModelRegistry::ActivateLocked(int64_t id) {
  auto rec = repo_.Get(id);
  if (!rec.ok()) return rec.status();
  auto model = LoadRecord(*rec);  // fully built before anything changes
  if (!model.ok())
    return model.status().WithContext(fmt::format("model {} cannot be activated", id));
  auto updated = repo_.Activate(id);
  if (!updated.ok()) return updated.status();
  const ml::ModelType type = (*model)->type;  // read before the move below
  Publish(type, {std::move(model).value(), *updated, std::nullopt});
  spdlog::info("model registry: {} {} (id {}) is now active", updated->model_type, updated->version, id);
  return updated;
}

Result<storage::ModelRecord> ModelRegistry::Activate(int64_t id) {
  std::lock_guard lock(mutate_mu_);
  return ActivateLocked(id);
}

Result<storage::ModelRecord> ModelRegistry::Deactivate(int64_t id) {
  std::lock_guard lock(mutate_mu_);
  auto rec = repo_.Deactivate(id);
  if (!rec.ok()) return rec.status();
  auto type = ParseModelType(rec->model_type);
  if (!type.ok()) return type.status();
  bool loaded = false;
  {
    std::lock_guard state_lock(current_mu_);
    const auto& s = state_[Index(*type)];
    loaded = s.record && s.record->id == id;
  }
  if (loaded) {
    Publish(*type, {nullptr, std::nullopt,
                    fmt::format("no active {}: model {} was deactivated", rec->model_type, id)});
  }
  return rec;
}

Result<storage::ModelRecord> ModelRegistry::Rollback(ml::ModelType type) {
  std::lock_guard lock(mutate_mu_);
  auto prev = repo_.PreviouslyActive(TypeName(type));
  if (!prev.ok()) return prev.status();
  if (!*prev)
    return Status::NotFound(fmt::format("no previously active {} to roll back to", TypeName(type)),
                            "activate a specific version with POST /api/v1/models/{id}/activate");
  return ActivateLocked((*prev)->id);
}

Status ModelRegistry::Delete(int64_t id, bool delete_file) {
  std::lock_guard lock(mutate_mu_);
  auto rec = repo_.Get(id);
  if (!rec.ok()) return rec.status();
  THREATD_RETURN_IF_ERROR(repo_.Delete(id));
  if (delete_file) {
    if (Status s = store_.Remove(rec->file_path); !s.ok())
      spdlog::warn("model {} deleted, but its file was not: {}", id, s.ToString());
  }
  return Status::Ok();
}

Status ModelRegistry::Reload() {
  std::lock_guard lock(mutate_mu_);
  for (ml::ModelType type : kTypes) {
    auto active = repo_.List(TypeName(type), /*include_inactive=*/false);
    if (!active.ok()) return active.status();
    std::optional<storage::ModelRecord> want;
    if (!active->empty()) want = active->front();
    std::optional<storage::ModelRecord> have;
    {
      std::lock_guard state_lock(current_mu_);
      have = state_[Index(type)].record;
    }
    const bool same = want.has_value() == have.has_value() &&
                      (!want || (want->id == have->id && want->sha256 == have->sha256));
    if (same) continue;
    if (!want) {
      Publish(type, {nullptr, std::nullopt, fmt::format("no active {} (changed by another instance)", TypeName(type))});
      continue;
    }
    auto model = LoadRecord(*want);
    if (model.ok()) {
      Publish(type, {std::move(model).value(), want, std::nullopt});
    } else {
      Publish(type, {nullptr, want, model.status().message()});
    }
  }
  return Status::Ok();
}

nlohmann::json ModelRegistry::HealthCheck() const {
  std::lock_guard lock(current_mu_);
  nlohmann::json out = nlohmann::json::object();
  for (ml::ModelType type : kTypes) {
    const TypeState& s = state_[Index(type)];
    nlohmann::json j = {{"loaded", s.model != nullptr}};
    if (s.model) {
      j["version"] = s.model->version;
      j["is_real"] = s.model->is_real;
      j["id"] = s.model->id;
      j["sha256"] = s.record && s.record->sha256 ? nlohmann::json(*s.record->sha256) : nlohmann::json(nullptr);
      j["features"] = s.model->NumFeatures();
    } else {
      j["version"] = nullptr;
      j["is_real"] = false;
      j["id"] = s.record ? nlohmann::json(s.record->id) : nlohmann::json(nullptr);
      j["sha256"] = nullptr;
    }
    if (s.error) j["error"] = *s.error;
    out[TypeName(type)] = std::move(j);
  }
  const bool detector = state_[0].model != nullptr;
  const bool classifier = state_[1].model != nullptr;
  out["status"] = !detector ? "error" : (classifier ? "ok" : "degraded");
  return out;
}

Result<ModelProfile> ModelRegistry::Profile(ml::ModelType type) {
  ModelProfile p;
  p.model_type = TypeName(type);
  {
    std::lock_guard lock(current_mu_);
    const TypeState& s = state_[Index(type)];
    if (s.record && s.record->is_active) {
      p.expected_features = JsonStrings(s.record->expected_features);
      p.class_labels = JsonStrings(s.record->class_labels);
      p.preprocessing_notes = s.record->preprocessing_notes.value_or("");
      p.model_id = s.record->id;
      p.source = "active_model";
      return p;
    }
  }
  const auto& d = defaults_[Index(type)];
  if (!d.bundle)
    return Status::NotFound(fmt::format("no active {} and no default bundle to describe", p.model_type),
                            "upload and activate a model");
  p.expected_features = FeatureNames(*d.bundle);
  p.class_labels = d.bundle->classes;
  p.preprocessing_notes = fmt::format("Default {}-feature {} profile (shipped bundle)", p.expected_features.size(),
                                      p.model_type);
  p.source = "default_bundle";
  return p;
}

std::vector<std::string> ModelRegistry::DefaultFeatures(ml::ModelType type) const {
  const auto& d = defaults_[Index(type)];
  return d.bundle ? FeatureNames(*d.bundle) : std::vector<std::string>{};
}

}  // namespace threatd::registry
