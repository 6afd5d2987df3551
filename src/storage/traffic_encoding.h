// Write-side helpers shared by the SQLite and PostgreSQL TrafficRepository:
// the features encoding of a batch (docs/formats/database.md "The features
// encoding"), the feature-schema checksum, and the small rules both backends
// apply (upload outcome validation, stats arithmetic). PRIVATE to
// src/storage.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/traffic_records.h"

namespace threatd::storage {

struct EncodedBatch {
  std::vector<std::string> names;  // stored feature names, in order
  std::string names_json;          // canonical JSON array of names
  std::string checksum;            // SHA-256 hex of names_json
  std::vector<std::string> features;  // per flow: kFeaturesFloat32, then little-endian float32s
};

// First byte of a features value in the float32 format. The older format
// (float64s, no header) always has a length divisible by 8; this one is
// 1 + 4n bytes, odd, so the two never collide.
inline constexpr char kFeaturesFloat32 = 'f';

// Validation when a stored_features index is out of range or repeated.
Result<EncodedBatch> EncodeBatch(const ScoredFlowBatch& batch);

// Validation unless status is completed|failed and the counts are sane.
Status CheckOutcome(const UploadBatchOutcome& outcome);

// total_normal and attack_rate (percent, 2 dp) from the totals.
void FinishStats(PredictionStats* stats);

inline constexpr const char* kAbandonedUploadError =
    "the service stopped before this upload finished; its rows were removed - upload the file again";

}  // namespace threatd::storage
