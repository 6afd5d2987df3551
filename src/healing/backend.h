// EnforcementBackend: what turns a self-healing decision into an effect on
// the world - a log line, a set element in the kernel (nftables), a script,
// a webhook. The Enforcer (enforcer.h) owns one backend and calls it from
// its own thread, so backends may block (bounded by their own timeouts) but
// are never called from the pipeline or an I/O loop.
//
// Decisions reach a backend as Enforcement items. The whitelist and the
// protected networks are checked BEFORE a backend is called (twice: when a
// decision is made and again right before enforcement); backends enforce
// what they are given.
//
// Thread-safety: calls come from one thread at a time (the Enforcer
// serialises them), except Health(), which may be called concurrently from
// the health endpoint and must be thread-safe, and Measure(), which the
// Healer runs outside its lock and so may overlap any other call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/ip_network.h"
#include "common/status.h"

namespace threatd::healing {

enum class ActionType { kBlockIp, kRateLimit, kIsolateHost, kAlertAdmin, kRestartService, kLogOnly };

std::string_view ToString(ActionType a);
// "block_ip", "rate_limit", "isolate_host", "alert_admin", "restart_service", "log_only".
std::optional<ActionType> ParseActionType(std::string_view text);

// One decision as a backend sees it.
struct Enforcement {
  int64_t decision_id = 0;
  IpNetwork target;
  ActionType action = ActionType::kLogOnly;
  // nullopt: until revoked. nftables gives the set element this timeout, so
  // the kernel drops it at the decision's expiry even if threatd is down.
  std::optional<Clock::WallTime> expires_at;
  // For rate_limit: packets per second allowed from the target.
  int64_t rate_per_second = 0;
  // The whole decision as the API shows it (script/webhook send this).
  nlohmann::json decision;
};

// Difference between what should be enforced and what is.
struct Drift {
  std::vector<std::string> missing;     // "block_ip 203.0.113.7" expected, not enforced
  std::vector<std::string> unexpected;  // enforced, no active decision
  bool empty() const { return missing.empty() && unexpected.empty(); }
};

class EnforcementBackend {
 public:
  virtual ~EnforcementBackend() = default;

  // "log", "nftables", "script", "webhook".
  virtual std::string_view Name() const = 0;
  // Whether this backend enforces `action` itself. Decisions with actions it
  // does not support are still recorded and published (status applied, with
  // a history message saying the backend only logged them).
  virtual bool Supports(ActionType action) const = 0;
  // Prepares the backend (e.g. creates the nftables table, sets and rules).
  // Fails with a message that says what to do (e.g. "nftables is not
  // available in this kernel: ...").
  virtual Status Start() = 0;
  // Enforces every item, as one batch where the backend can (one nft
  // transaction). Per-item failures are reported through `failed`
  // (decision_id -> message); the returned Status is an error only when
  // nothing could be applied.
  virtual Status Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* failed) = 0;
  // Lifts the items (revoked, expired, whitelisted). Removing what is not
  // enforced is not an error.
  virtual Status Remove(const std::vector<Enforcement>& items) = 0;
  // Makes the enforced state equal to `active` in one transaction where the
  // backend can (at start-up, and after a failure).
  virtual Status Reconcile(const std::vector<Enforcement>& active) = 0;
  // What differs between `active` and the enforced state. Backends that
  // cannot read their state back (log, script, webhook) return an empty Drift.
  virtual Result<Drift> Measure(const std::vector<Enforcement>& active) = 0;
  // On shutdown: remove everything threatd installed when `cleanup` is true
  // (configurable), else leave the kernel state (elements keep their timeouts).
  virtual Status Shutdown(bool cleanup) = 0;
  // {"backend": name, "status": "ok|degraded|error", ...}
  virtual nlohmann::json Health() const = 0;
};

}  // namespace threatd::healing
