// WhitelistMatcher: an in-memory snapshot of the ip_whitelist entries in
// effect (active, unexpired), for per-flow questions: "may this sender feed
// us?" (external Kafka, issue 6), "must self-healing leave this address
// alone?" (issue 5).
//
// Freshness: Refresh() reloads the snapshot; the background thread (Start)
// calls it every Options::refresh_interval, so changes made by another
// instance show within that interval. The config API calls Refresh() after
// each change, so this instance sees its own changes before the response.
// An entry's expiry is also checked per call against the Clock, so it stops
// matching at expires_at even between refreshes. When a refresh fails the
// previous snapshot stays in force and HealthCheck reports "degraded".
//
// Matching: exact addresses through a hash set, ranges by a scan (whitelists
// are small). Addresses are canonicalised first (common/ip_network.h), so
// "::ffff:192.0.2.7" matches an entry "192.0.2.7". Unparsable input never
// matches.
//
// Ownership: references the repository and clock (they outlive it).
// Thread-safety: every method is thread-safe. IsWhitelisted is lock-free
// (one atomic shared_ptr load) and never blocks; Refresh/Start block on the
// database.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/ip_network.h"
#include "common/status.h"
#include "storage/whitelist_repository.h"

namespace threatd::ingest {

class WhitelistMatcher {
 public:
  struct Options {
    std::chrono::milliseconds refresh_interval{1000};
  };

  WhitelistMatcher(storage::WhitelistRepository& repo, Clock& clock, Options options);
  WhitelistMatcher(storage::WhitelistRepository& repo, Clock& clock) : WhitelistMatcher(repo, clock, Options{}) {}
  ~WhitelistMatcher();  // Stop()
  WhitelistMatcher(const WhitelistMatcher&) = delete;
  WhitelistMatcher& operator=(const WhitelistMatcher&) = delete;

  // Loads once (returning that result) and starts the refresh thread.
  Status Start();
  void Stop();  // idempotent; joins the thread
  // Reloads the snapshot from the repository now.
  Status Refresh();

  bool IsWhitelisted(std::string_view address) const;
  bool IsWhitelisted(const IpNetwork& address) const;
  // For self-healing targets, which may be ranges: the first entry in effect
  // that shares any address with `target` (a whitelisted host inside a
  // blocked /24 counts), as its canonical text; nullopt when none.
  std::optional<std::string> Overlapping(const IpNetwork& target) const;
  // Entries in the current snapshot.
  size_t size() const;

  // {"status": "ok|degraded|error", "entries": n, "last_refresh": iso, "last_error"?}
  nlohmann::json HealthCheck() const;

 private:
  struct Snapshot {
    // canonical host text -> expiry (nullopt: never)
    std::unordered_map<std::string, std::optional<Clock::WallTime>> hosts;
    std::vector<std::pair<IpNetwork, std::optional<Clock::WallTime>>> ranges;
    size_t entries = 0;
  };

  storage::WhitelistRepository& repo_;
  Clock& clock_;
  const Options options_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;

  std::mutex refresh_mu_;  // serialises Refresh()
  mutable std::mutex mu_;
  std::optional<std::string> last_error_;        // guarded by mu_
  std::optional<Clock::WallTime> last_refresh_;  // guarded by mu_
  PeriodicThread refresher_;  // last: stopped first
};

}  // namespace threatd::ingest
