// ModelRegistry: the catalogue of model bundles (ml_models + files on disk)
// and the ModelSet the pipeline scores with, swapped atomically (hot swap).
//
// Every change is "database, then memory": Activate() first loads and fully
// builds the new model (file read, SHA-256 re-verified, ml::LoadModel) - a
// failure leaves both the catalogue and the scoring models unchanged - then
// switches the active row in one transaction, then publishes a new immutable
// ModelSet. When the call returns, Current() already hands out the new set,
// so the next batch the pipeline starts is scored by it; a batch in flight
// keeps the snapshot it started with (no flow sees a half-loaded model).
//
// Start() loads the active model of each type; a type with no model at all
// gets the shipped default bundle (options.defaults_dir/<type>.json.gz)
// registered and activated, so the catalogue always says what scores. A type
// whose bundle cannot be loaded is reported by HealthCheck() (status
// "error") and the service still starts; with no detector the pipeline
// refuses flows with a clear error.
//
// Uploads (model_upload.h) accept threatd bundles, raw XGBoost JSON and ONNX
// tree ensembles; pickle-based formats are refused. Uploaded models are
// stored inactive.
//
// Ownership: borrows the repository, clock and metrics registry (they must
// outlive it). Thread-safety: Current()/HealthCheck()/Profile() from any
// thread (a mutex held only to copy a shared_ptr); the mutating calls are
// serialised by a second mutex. Blocking: everything but Current() does
// database and file I/O - never call it from an I/O loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "ml/bundle.h"
#include "ml/loaded_model.h"
#include "pipeline/pipeline.h"
#include "registry/bundle_store.h"
#include "registry/model_upload.h"
#include "storage/model_repository.h"

namespace threatd::registry {

struct RegistryOptions {
  std::string models_dir;    // where bundles are stored (config: EffectiveModelsDir())
  std::string defaults_dir;  // shipped defaults: <type>.json.gz; "" = no defaults
};

// What GET /models/profile/{type} shows: the active model's inputs/outputs,
// or the shipped default's when no model of the type is active.
struct ModelProfile {
  std::string model_type;
  std::vector<std::string> expected_features;
  std::vector<std::string> class_labels;
  std::string preprocessing_notes;
  std::optional<int64_t> model_id;  // the active model, if any
  std::string source;               // "active_model" | "default_bundle"
};

struct RegistryStats {
  explicit RegistryStats(metrics::Registry& registry);
  metrics::Counter& swaps;           // ModelSets published
  metrics::Counter& load_failures;   // bundles that could not be loaded
  metrics::Counter& uploads;         // models registered by upload
  metrics::Counter& uploads_refused; // uploads rejected (format, validation)
};

class ModelRegistry final : public pipeline::ModelProvider {
 public:
  ModelRegistry(RegistryOptions options, storage::ModelRepository& repo, Clock& clock, metrics::Registry& registry);
  ~ModelRegistry() override;
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // Loads the active models (registering the defaults where a type has no
  // model). Fails only when the database cannot be read; per-type load
  // problems are kept for HealthCheck().
  Status Start();

  // pipeline::ModelProvider: never null after construction (may be empty).
  std::shared_ptr<const ml::ModelSet> Current() const override;

  // Validates and stores an upload (inactive). See model_upload.h for the
  // formats and the errors (400 for pickle/unknown formats, 422 for models
  // that do not fit).
  Result<storage::ModelRecord> Upload(const UploadRequest& request);
  // Makes `id` the active model of its type and swaps it in.
  Result<storage::ModelRecord> Activate(int64_t id);
  // Leaves the type without an active model (and the pipeline without it).
  Result<storage::ModelRecord> Deactivate(int64_t id);
  // Re-activates the type's previously active model. NotFound when there is none.
  Result<storage::ModelRecord> Rollback(ml::ModelType type);
  // Deletes an inactive model's row (and its file when delete_file).
  // Conflict for the active model.
  Status Delete(int64_t id, bool delete_file);
  // Re-reads the active rows and swaps when they differ from what is loaded
  // (another instance changed them).
  Status Reload();

  // {status: ok|degraded|error, threat_detector: {loaded, version, is_real,
  //  sha256, id[, error]}, attack_classifier: {...}}. degraded: no classifier.
  nlohmann::json HealthCheck() const;
  Result<ModelProfile> Profile(ml::ModelType type);
  // The canonical features each shipped default expects (for
  // /models/info/supported-formats); empty when a default is missing.
  std::vector<std::string> DefaultFeatures(ml::ModelType type) const;

  const RegistryStats& stats() const { return stats_; }

 private:
  struct TypeState {
    std::shared_ptr<const ml::LoadedModel> model;  // null: nothing scores for this type
    std::optional<storage::ModelRecord> record;    // the row `model` came from
    std::optional<std::string> error;              // why it is not loaded
  };
  struct Defaults {
    std::optional<ml::ModelBundle> bundle;
    std::string path;
  };

  Result<std::shared_ptr<const ml::LoadedModel>> LoadRecord(const storage::ModelRecord& record);
  Status StartType(ml::ModelType type);
  Result<storage::ModelRecord> RegisterDefault(ml::ModelType type);
  Result<storage::ModelRecord> ActivateLocked(int64_t id);
  // Sets the type's state and publishes a new ModelSet. Requires mutate_mu_.
  void Publish(ml::ModelType type, TypeState state);
  Result<std::string> UniqueVersion(ml::ModelType type, const std::string& wanted);
  // Unique version, bundle file, inactive row (file removed if the insert fails).
  Result<storage::ModelRecord> StoreAndInsert(PreparedUpload& prepared, const UploadRequest& request);
  static size_t Index(ml::ModelType type) { return type == ml::ModelType::kThreatDetector ? 0 : 1; }

  const RegistryOptions options_;
  storage::ModelRepository& repo_;
  Clock& clock_;
  RegistryStats stats_;
  BundleStore store_;
  Defaults defaults_[2];  // loaded in Start(); read-only afterwards

  std::mutex mutate_mu_;  // serialises Start/Upload/Activate/Deactivate/Rollback/Delete/Reload

  mutable std::mutex current_mu_;
  std::shared_ptr<const ml::ModelSet> current_;  // guarded by current_mu_
  TypeState state_[2];                           // guarded by current_mu_ (written under both mutexes)
};

}  // namespace threatd::registry
