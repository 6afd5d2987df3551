// ApiKeyService: creates, verifies and revokes API keys.
//
// A key looks like `tdk_<prefix>_<secret>`: the prefix (12 base62 characters)
// is stored in clear for lookup; the secret (32 base62 characters, ~190 bits)
// is stored only as hex(SHA-256(salt || secret)) with a 16-byte random salt,
// and compared in constant time. The plaintext is returned once by Create()
// and never stored or logged.
//
// Verified keys are cached for `cache_ttl` (default 5 s) so that an
// authenticated request does not cost a database round trip; Revoke() clears
// this instance's cache at once, other instances see a revocation within the
// TTL.
//
// Thread-safety: all methods are safe to call concurrently. Create/Revoke/List
// and cache misses in Authenticate block on the repository.
#pragma once

#include <chrono>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/principal.h"
#include "common/status.h"
#include "storage/api_key_repository.h"

namespace threatd::auth {

struct CreatedKey {
  storage::ApiKeyRecord record;
  std::string plaintext;  // show once, never store
};

class ApiKeyService {
 public:
  ApiKeyService(storage::ApiKeyRepository& repo, Clock& clock, metrics::Registry& registry,
                std::chrono::milliseconds cache_ttl = std::chrono::seconds(5));

  // InvalidArgument for an empty/oversized name or Role::kPublic.
  Result<CreatedKey> Create(std::string_view name, Role role, std::optional<std::string> created_by);

  // Unauthenticated for a malformed, unknown or revoked key; Unavailable when
  // the database cannot be reached (so clients may retry).
  Result<Principal> Authenticate(std::string_view token);

  // NotFound for an unknown id.
  Status Revoke(int64_t id);

  Result<std::vector<storage::ApiKeyRecord>> List();

  // When no active key exists, creates an admin key named "bootstrap-admin".
  Result<std::optional<CreatedKey>> BootstrapAdminIfNone();

 private:
  struct CacheEntry {
    Principal principal;
    Clock::MonoTime expires;
  };

  storage::ApiKeyRepository& repo_;
  Clock& clock_;
  std::chrono::milliseconds cache_ttl_;
  metrics::Counter& auth_ok_;
  metrics::Counter& auth_failed_;
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, CacheEntry> cache_;  // guarded by cache_mu_; key: SHA-256 of the token
};

// Splits `tdk_<prefix>_<secret>`; false if the shape is wrong.
bool SplitKey(std::string_view token, std::string_view* prefix, std::string_view* secret);

}  // namespace threatd::auth
