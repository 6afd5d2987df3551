// DecisionFollower: the state machine of `threatd agent` - it follows the
// stream of self-healing decision events (the JSON DecisionPublisher writes
// to kafka.topic_actions) and keeps a local EnforcementBackend equal to the
// decisions in force.
//
//   event applied | pending | created, mode "enforce", not yet expired
//         -> enforce (Apply); the same decision id again is a no-op
//   event revoked | expired | failed | lifted -> lift (Remove) if enforced
//   mode "simulate" -> never enforced (counted)
//   expires_at in the past -> skipped (counted); a decision in force is
//         lifted locally when its expires_at passes (Tick)
//   actions: block_ip, rate_limit, isolate_host, and whatever else the
//         backend Supports(); others (alert_admin, log_only, ...) are skipped
//
// Replay: until CaughtUp() the follower only builds its state (a replay of
// the topic from the earliest offset); CaughtUp() then makes the backend
// equal to it in one Reconcile, so a restarted agent converges without
// applying and lifting the whole history. After that, events are enforced
// one by one.
//
// Ownership: owns the backend (Start()ed by the caller before use).
// Thread-safety: not thread-safe - one thread (the agent's consumer thread)
// calls Handle/CaughtUp/Tick; Stats() and Health() may be called from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "healing/backend.h"

namespace threatd::kafka {

struct FollowerStats {
  uint64_t received = 0;          // events handled
  uint64_t enforced = 0;          // decisions applied to the backend (or taken into the replayed state)
  uint64_t lifted = 0;            // decisions removed (revoked, expired, failed upstream, or expired locally)
  uint64_t skipped_simulate = 0;  // mode simulate: never enforced
  uint64_t skipped_expired = 0;   // expires_at already past when the event arrived
  uint64_t skipped_action = 0;    // not an enforcement action for this backend
  uint64_t invalid = 0;           // not a decision event (bad JSON, no id/target)
  uint64_t ignored = 0;           // changed nothing (a lift of a decision not in force, other event kinds)
  uint64_t failures = 0;          // backend Apply/Remove/Reconcile errors
  uint64_t active = 0;            // decisions in force now
  bool caught_up = false;
};

class DecisionFollower {
 public:
  DecisionFollower(std::unique_ptr<healing::EnforcementBackend> backend, Clock& clock, metrics::Registry& registry);

  // One event (a message value). Never throws; bad input is counted.
  void Handle(std::string_view message);
  void Handle(const nlohmann::json& event);
  // The replay reached the end of the topic: reconcile the backend to the
  // decisions in force (once; later calls do nothing).
  Status CatchUp();
  // A new replay starts (partitions reassigned from the earliest offset):
  // forgets the state without touching the backend, which keeps enforcing
  // until the next CatchUp() reconciles it.
  void Rewind();
  // Lifts decisions whose expires_at has passed.
  void Tick();

  bool caught_up() const { return caught_up_; }
  FollowerStats Stats() const;
  healing::EnforcementBackend& backend() { return *backend_; }
  // {"backend": {...}, "active": n, "caught_up", counters..., "last_error"}
  nlohmann::json Health() const;

 private:
  struct Entry {
    healing::Enforcement item;
    std::string target;
  };
  void Enforce(Entry entry);
  void Lift(int64_t id, const char* why);
  void Fail(const std::string& what, const Status& s);
  void Count(const char* outcome, std::atomic<uint64_t>& counter);

  std::unique_ptr<healing::EnforcementBackend> backend_;
  Clock& clock_;
  std::map<int64_t, Entry> active_;  // decision id -> in force (consumer thread only)
  std::atomic<bool> caught_up_{false};
  std::atomic<uint64_t> received_{0}, enforced_{0}, lifted_{0}, skipped_simulate_{0}, skipped_expired_{0},
      skipped_action_{0}, invalid_{0}, ignored_{0}, failures_{0}, active_count_{0};
  metrics::Registry& registry_;
  metrics::Gauge& active_gauge_;
  mutable std::mutex mu_;
  std::optional<std::string> last_error_;  // guarded by mu_
};

}  // namespace threatd::kafka
