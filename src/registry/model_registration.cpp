// ModelRegistry: registering new models - uploads and the shipped defaults
// take the same path: unique version -> bundle file -> ml_models row
// (inactive). See model_registry.h.
#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "registry/model_registry.h"

namespace threatd::registry {

Result<std::string> ModelRegistry::UniqueVersion(ml::ModelType type, const std::string& wanted) {
  auto rows = repo_.List(std::string(ml::ModelTypeName(type)), /*include_inactive=*/true);
  if (!rows.ok()) return rows.status();
  std::set<std::string> taken;
  for (const auto& r : *rows) taken.insert(r.version);
  const std::string base = wanted.substr(0, 90);
  if (!taken.count(base)) return base;
  for (int i = 2;; ++i) {
    std::string v = fmt::format("{}-{}", base, i);
    if (!taken.count(v)) return v;
  }
}

Result<storage::ModelRecord> ModelRegistry::StoreAndInsert(PreparedUpload& p, const UploadRequest& request) {
  auto version = UniqueVersion(p.bundle.model_type, p.bundle.version);
  if (!version.ok()) return version.status();
  p.bundle.version = *version;  // the stored bundle says the catalogue's version
  auto stored = store_.Write(p.bundle);
  if (!stored.ok()) return stored.status();
  std::vector<std::string> features;
  for (const auto& f : p.bundle.features) features.push_back(f.name);
  storage::NewModelRecord rec;
  rec.model_type = std::string(ml::ModelTypeName(p.bundle.model_type));
  rec.version = p.bundle.version;
  rec.file_path = stored->path;
  rec.file_format = p.file_format;
  rec.original_filename = request.filename.substr(0, 255);
  rec.model_metadata = p.model_metadata.dump();
  rec.validation_results = p.validation_results.dump();
  rec.file_size_bytes = stored->size_bytes;
  rec.expected_features = nlohmann::json(features).dump();
  rec.class_labels = nlohmann::json(p.bundle.classes).dump();
  rec.preprocessing_notes = p.preprocessing_notes;
  rec.uploaded_by = request.uploaded_by;
  rec.description = request.description;
  rec.sha256 = stored->sha256;
  rec.created_at = clock_.Now();
  auto inserted = repo_.Insert(rec);
  if (!inserted.ok()) (void)store_.Remove(stored->path);  // no orphan file
  return inserted;
}

Result<storage::ModelRecord> ModelRegistry::RegisterDefault(ml::ModelType type) {
  const auto& d = defaults_[Index(type)];
  if (!d.bundle)
    return Status::NotFound(
        fmt::format("no default bundle at '{}'", d.path.empty() ? "(models.defaults_dir unset)" : d.path),
        "set models.defaults_dir, or upload a model and activate it");
  UploadRequest req;
  req.filename = std::filesystem::path(d.path).filename().string();
  req.model_type = std::string(ml::ModelTypeName(type));
  req.description = "Shipped default model";
  req.uploaded_by = "system";
  PreparedUpload p;
  p.bundle = *d.bundle;
  p.file_format = "bundle";
  THREATD_RETURN_IF_ERROR(CheckModelShape(p.bundle));
  p.model_metadata = ModelMetadata(p.bundle, p.file_format);
  p.validation_results = {{"is_valid", true}, {"error_message", nullptr}, {"model_metadata", p.model_metadata},
                          {"test_prediction", nullptr}, {"profile_config", nullptr}};
  p.preprocessing_notes = fmt::format("Default {}-feature {} shipped with threatd ({})", p.bundle.features.size(),
                                      req.model_type, req.filename);
  return StoreAndInsert(p, req);
}

Result<storage::ModelRecord> ModelRegistry::Upload(const UploadRequest& request) {
  auto prepared = PrepareUpload(request, clock_.Now());  // CPU only: outside the lock
  if (!prepared.ok()) {
    stats_.uploads_refused.Inc();
    return prepared.status();
  }
  std::lock_guard lock(mutate_mu_);
  auto rec = StoreAndInsert(*prepared, request);
  if (rec.ok()) stats_.uploads.Inc();
  return rec;
}

}  // namespace threatd::registry
