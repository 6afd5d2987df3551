// ChangeFeed: tells this instance that another instance (or this one) changed
// shared state in the database - the whitelist, data source flags, the
// self-healing settings and decisions, the model catalogue - so caches can be
// reloaded within a second instead of waiting for a poll.
//
// PostgreSQL implements it with LISTEN/NOTIFY (statement-level triggers of
// migration 0005 notify channel `threatd_changes` with the table's name and
// the writer's application_name; an instance skips its own changes, which
// it has applied to its caches already).
// SQLite has none: one process owns the file.
//
// Delivery: notifications are coalesced; the callback gets the set of tables
// that changed since its previous call. After a (re)connect it gets
// kAllTables, because notifications sent while disconnected are lost.
//
// Ownership: the feed owns its connection and thread; the callback runs on
// that thread and may block (it reloads caches from the database).
// Thread-safety: Start/Stop/HealthCheck from any thread; Stop joins.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/status.h"

namespace threatd::storage {

inline constexpr const char* kChangeChannel = "threatd_changes";
inline constexpr const char* kAllTables = "*";

class ChangeFeed {
 public:
  using Callback = std::function<void(const std::set<std::string>& tables)>;
  virtual ~ChangeFeed() = default;
  // Starts listening in the background; never blocks on the server.
  virtual void Start(Callback on_change) = 0;
  virtual void Stop() = 0;
  // {"status": ok|degraded, "listening": bool, "notifications": n,
  //  "reconnects": n, "last_error": str|null}
  virtual nlohmann::json HealthCheck() const = 0;
};

}  // namespace threatd::storage
