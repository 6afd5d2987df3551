// Plain records stored by the Database: API keys, audit entries and data
// source configuration. Later record groups (traffic, predictions, models,
// whitelist, actions) get a header of their own.
//
// Timestamps are threatd::Clock::WallTime, stored with microsecond precision
// (finer digits are truncated). JSON columns travel as JSON text; PostgreSQL
// normalises it (jsonb), so compare parsed values, not strings.
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/principal.h"

namespace threatd::storage {

using WallTime = Clock::WallTime;

// An API key as the auth component creates it. The plaintext key is never
// stored: only its public prefix, a salt and the salted hash.
struct NewApiKey {
  std::string name;
  std::string prefix;      // unique public part used for lookup
  std::string salt;        // text (hex/base64, the auth component decides)
  std::string key_hash;    // text (hex/base64)
  Role role = Role::kViewer;  // viewer|operator|admin; kPublic is rejected
  std::optional<std::string> created_by;
  WallTime created_at;     // the application passes distinct timestamps
};

struct ApiKeyRecord {
  int64_t id = 0;
  std::string name;
  std::string prefix;
  std::string salt;
  std::string key_hash;
  Role role = Role::kViewer;
  WallTime created_at;
  std::optional<std::string> created_by;
  std::optional<WallTime> last_used_at;
  std::optional<WallTime> revoked_at;

  bool active() const { return !revoked_at.has_value(); }
};

struct AuditEntry {
  int64_t id = 0;                          // assigned on append; ignored on input
  WallTime created_at;
  std::string actor;                       // key name, "system", "cli", ...
  std::string action;                      // "api_key.create", "model.activate", ...
  std::string target_type;                 // "api_key", "model", ... (may be empty)
  std::string target_id;                   // may be empty
  std::optional<std::string> details_json; // a JSON document, or none
  std::string request_id;                  // X-Request-Id, or empty
};

// Newest first (created_at, then id, descending).
struct AuditQuery {
  int64_t limit = 100;   // 1..1000
  int64_t offset = 0;    // >= 0
};

// One row of data_source_config (packet_capture, external_kafka, internal_kafka).
struct DataSource {
  int64_t id = 0;
  std::string name;
  bool enabled = false;
  std::string description;
  std::optional<std::string> config_json;
  WallTime updated_at;
};

}  // namespace threatd::storage
