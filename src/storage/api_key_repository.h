// ApiKeyRepository: the storage seam for API keys (table api_keys). The auth
// component depends on this narrow interface rather than on all of Database.
//
// Thread-safety: implementations are safe for concurrent use. Every call may
// block on database I/O (bounded by StorageOptions timeouts) and must not be
// made from an I/O loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/records.h"

namespace threatd::storage {

class ApiKeyRepository {
 public:
  virtual ~ApiKeyRepository() = default;

  // Conflict when the prefix exists; InvalidArgument for Role::kPublic.
  virtual Result<ApiKeyRecord> InsertApiKey(const NewApiKey& key) = 0;
  // Revoked keys are returned too (check active()).
  virtual Result<std::optional<ApiKeyRecord>> FindApiKeyByPrefix(std::string_view prefix) = 0;
  // All keys, oldest first.
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
  // Sets revoked_at (an already revoked key keeps its first time); NotFound if absent.
  virtual Status RevokeApiKey(int64_t id, WallTime at) = 0;
  virtual Result<int64_t> CountActiveApiKeys() = 0;
  // Records last use. May be coalesced and applied asynchronously (visible
  // after Flush()); never moves last_used_at backwards; unknown ids are ignored.
  virtual Status TouchApiKey(int64_t id, WallTime at) = 0;
};

}  // namespace threatd::storage
