// ModelRepository: the ml_models rows - the model registry's catalogue of
// uploaded and shipped model bundles, which of them is active per type, and
// when each was last activated (what rollback returns to).
//
// Invariant (enforced by the unique partial index ux_ml_models_one_active):
// at most one active row per model_type. Activate() switches the active row
// of a type in ONE transaction, so readers never see two active rows or a
// moment with none because of an activation.
//
// Errors: NotFound for an unknown id ("model 7 does not exist"), Conflict for
// a duplicate (model_type, version) and for deleting the active model,
// Unavailable when the database is down (retryable), Internal otherwise.
// Thread-safety: implementations are safe for concurrent use; calls block on
// database I/O and must not be made from an I/O loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/records.h"

namespace threatd::storage {

// A row to insert. JSON columns are JSON text (validated by the database).
struct NewModelRecord {
  std::string model_type;         // "threat_detector" | "attack_classifier"
  std::string version;            // unique per type, <= 100 chars
  std::string file_path;          // absolute path of the stored bundle
  std::string file_format;        // how it arrived: "bundle", "xgboost_json", "onnx"
  std::string original_filename;  // as uploaded (<= 255 chars)
  std::optional<std::string> model_metadata;      // JSON object
  std::optional<std::string> validation_results;  // JSON object
  std::optional<int64_t> file_size_bytes;
  std::optional<std::string> expected_features;   // JSON array of strings
  std::optional<std::string> class_labels;        // JSON array of strings
  std::optional<std::string> preprocessing_notes;
  std::optional<std::string> uploaded_by;
  std::optional<std::string> description;
  std::optional<std::string> sha256;  // lower-case hex of the stored file
  WallTime created_at;
};

struct ModelRecord : NewModelRecord {
  int64_t id = 0;
  bool is_active = false;
  std::optional<WallTime> activated_at;  // last activation (kept when deactivated)
};

struct ModelTypeStats {
  int64_t count = 0;
  int64_t size_bytes = 0;
  int64_t active_count = 0;
};

struct ActiveModelRef {
  std::string model_type;
  std::string version;
  int64_t id = 0;
};

struct ModelStorageStats {
  int64_t total_models = 0;
  int64_t total_size_bytes = 0;
  std::map<std::string, ModelTypeStats> by_type;  // only types that have rows
  std::vector<ActiveModelRef> active_models;      // ordered by model_type
};

class ModelRepository {
 public:
  virtual ~ModelRepository() = default;

  // Inserts an inactive row. Conflict when (model_type, version) exists.
  virtual Result<ModelRecord> Insert(const NewModelRecord& model) = 0;
  // Newest first (created_at, then id, descending). model_type filters when
  // set; include_inactive=false returns only active rows.
  virtual Result<std::vector<ModelRecord>> List(const std::optional<std::string>& model_type,
                                                bool include_inactive) = 0;
  virtual Result<ModelRecord> Get(int64_t id) = 0;
  // One transaction: deactivates the type's active row (if another), marks
  // this one active and sets activated_at = now. Idempotent for the active row
  // (activated_at is refreshed). Returns the updated row.
  virtual Result<ModelRecord> Activate(int64_t id) = 0;
  // Marks the row inactive (a no-op for an inactive row); the type may then
  // have no active model. Returns the updated row.
  virtual Result<ModelRecord> Deactivate(int64_t id) = 0;
  // The inactive row of this type with the latest activated_at: what a
  // rollback returns to. nullopt when no other row of the type was ever active.
  virtual Result<std::optional<ModelRecord>> PreviouslyActive(const std::string& model_type) = 0;
  // Conflict for the active row ("deactivate it first or activate another
  // version"), NotFound for an unknown id.
  virtual Status Delete(int64_t id) = 0;
  virtual Result<ModelStorageStats> StorageStats() = 0;
};

}  // namespace threatd::storage
