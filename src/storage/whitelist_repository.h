// WhitelistRepository: the ip_whitelist rows - addresses and CIDR ranges
// that must never be blocked (self-healing) and that may send external flows.
//
// The repository stores what it is given: callers (the config API) parse
// and canonicalise ip_address with common/ip_network.h first, so the UNIQUE
// column holds one spelling per address/range. Expiry is data, not
// deletion: an entry past expires_at stays listed; ListWhitelist's
// active_only and consumers (ingest::WhitelistMatcher) skip it.
//
// Errors: Unavailable/Timeout when the database cannot answer (the API maps
// it to 503, never to [] or 404); Conflict "IP address already exists in
// whitelist: X"; NotFound "IP whitelist entry not found: {id}".
// Thread-safety: implementations are safe for concurrent use; calls block on
// database I/O and must not be made from an I/O loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace threatd::storage {

struct WhitelistEntry {
  int64_t id = 0;
  std::string ip_address;  // canonical address or CIDR range
  std::optional<std::string> description;
  Clock::WallTime created_at;
  Clock::WallTime updated_at;
  bool is_active = true;
  std::optional<std::string> created_by;
  std::optional<Clock::WallTime> expires_at;

  // Active and not expired at `now`.
  bool InEffect(Clock::WallTime now) const { return is_active && (!expires_at || *expires_at > now); }
};

struct NewWhitelistEntry {
  std::string ip_address;  // canonical (IpNetwork::ToString)
  std::optional<std::string> description;
  bool is_active = true;
  std::optional<Clock::WallTime> expires_at;
  std::optional<std::string> created_by;
};

// PATCH semantics: nullopt keeps the stored value. clear_* sets it to NULL.
struct WhitelistUpdate {
  std::optional<std::string> description;
  bool clear_description = false;
  std::optional<bool> is_active;
  std::optional<Clock::WallTime> expires_at;
  bool clear_expires_at = false;
};

struct WhitelistQuery {
  bool active_only = false;  // is_active and not expired at the repository clock's now
  int64_t limit = 100;       // 1..1000
  int64_t offset = 0;        // >= 0
};

class WhitelistRepository {
 public:
  virtual ~WhitelistRepository() = default;

  // Newest first (created_at, then id, descending); filters before LIMIT.
  virtual Result<std::vector<WhitelistEntry>> ListWhitelist(const WhitelistQuery& query) = 0;
  // Every row in effect (active, unexpired) now, for the in-memory matcher.
  virtual Result<std::vector<WhitelistEntry>> ListWhitelistInEffect() = 0;
  virtual Result<std::optional<WhitelistEntry>> GetWhitelistEntry(int64_t id) = 0;
  // created_at = updated_at = the clock's now.
  virtual Result<WhitelistEntry> CreateWhitelistEntry(const NewWhitelistEntry& entry) = 0;
  // updated_at = now. NotFound for an unknown id.
  virtual Result<WhitelistEntry> UpdateWhitelistEntry(int64_t id, const WhitelistUpdate& update) = 0;
  // NotFound for an unknown id.
  virtual Status DeleteWhitelistEntry(int64_t id) = 0;
};

}  // namespace threatd::storage
