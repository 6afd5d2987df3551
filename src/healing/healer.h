// Healer: self-healing end to end - detections in, enforced decisions out.
//
//   pipeline (stored batch) -> OnStored: attack detections into a bounded
//   queue (never blocks the pipeline; a full queue drops and counts)
//   -> worker thread: PolicyEngine (thresholds per target and window)
//   -> safety: whitelist (wins), protected networks (the decision becomes an
//      alert that says why), dedupe against decisions in force, circuit
//      breaker (beyond max_blocks_per_minute: alerts), escalation ladder
//   -> DecisionRepository (status pending, audited history)
//   -> whitelist and protection checked AGAIN, then EnforcementBackend::Apply
//      (one batch), status applied / failed; `action` events to the hub.
//
// Every 250 ms: decisions past expires_at are expired (and removed from the
// backend; nftables elements also expire in the kernel on their own), and
// decisions in force whose target has become whitelisted are lifted
// (revoked). Periodically the backend's state is measured against the
// decisions in force; any drift is reported and repaired by a reconcile.
// At Start the backend is reconciled to the decisions in force, so blocks
// survive restarts (one transaction for the nftables backend).
//
// Modes: "enforce", or "dry_run" where every new decision is recorded with
// mode "simulate" ("would have") and nothing reaches the backend. Rules can
// simulate on their own. The mode and policy are persisted in the database
// (healing_settings); the config file only seeds them.
//
// Ownership: references the repository, whitelist matcher, clock and registry
// (they outlive it); owns the backend.
// Thread-safety: every public method is thread-safe. Decision state changes
// (worker, ticks, API calls) are serialised by one mutex; backend calls are
// made under it. OnStored only takes the queue's lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "healing/backend.h"
#include "healing/policy.h"
#include "healing/safety.h"
#include "ingest/whitelist_matcher.h"
#include "pipeline/pipeline.h"
#include "storage/decision_repository.h"

namespace threatd::healing {

enum class Mode { kEnforce, kDryRun };
std::string_view ToString(Mode m);  // "enforce", "dry_run"
std::optional<Mode> ParseMode(std::string_view text);

struct HealerOptions {
  Mode initial_mode = Mode::kEnforce;        // until the database has settings
  std::optional<PolicyConfig> initial_policy;  // nullopt: DefaultPolicy()
  size_t queue_capacity = 100000;            // detections waiting for the policy
  std::chrono::milliseconds tick{250};       // expiry and whitelist checks
  std::chrono::seconds drift_interval{60};
  bool protect_host_addresses = true;        // tests in one netns turn it off
  bool cleanup_on_shutdown = false;          // remove enforced state at Stop
  std::chrono::seconds default_manual_duration{3600};
  std::chrono::seconds alert_cooldown{600};  // alerts for one target: at most one per cooldown
};

// POST /api/v1/actions.
struct ManualDecision {
  std::string target;  // address or CIDR
  ActionType action = ActionType::kBlockIp;
  std::optional<std::chrono::seconds> duration;  // nullopt: default_manual_duration; 0 is refused
  std::string reason;
  std::string origin = "api";  // "manual" (console) or "api"
  std::string actor;           // principal name
  int64_t rate_per_second = 0;
};

class Healer final : public pipeline::PipelineObserver {
 public:
  using Publisher = std::function<void(std::string_view type, const nlohmann::json& data)>;

  Healer(HealerOptions options, storage::DecisionRepository& decisions, ingest::WhitelistMatcher& whitelist,
         std::unique_ptr<EnforcementBackend> backend, Clock& clock, metrics::Registry& registry,
         Publisher publish = nullptr);
  ~Healer() override;  // Stop()
  Healer(const Healer&) = delete;
  Healer& operator=(const Healer&) = delete;

  // Loads the settings, starts the backend, reconciles it to the decisions in
  // force, starts the worker. A backend that cannot start fails Start with
  // its message (the service refuses to run with a broken enforcer).
  Status Start();
  // Processes the queued detections, stops the worker, then shuts the
  // backend down (cleanup_on_shutdown). Idempotent.
  void Stop();

  void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) override;

  // Validation (bad target/duration); Conflict when the target is
  // whitelisted or protected (the message says which entry and what to do)
  // or the same action is already in force for it.
  Result<storage::Decision> Create(const ManualDecision& request);
  // Lifts a pending/applied decision. NotFound, or Conflict when it is no
  // longer in force.
  Result<storage::Decision> Revoke(int64_t id, const std::string& actor, const std::string& reason);
  // Lifts every decision in force whose target the whitelist now covers.
  // Returns how many were lifted. The config API calls it after each change.
  Result<size_t> ApplyWhitelist();

  // Another instance sharing the database changed something (the change
  // feed, storage/change_feed.h). ReloadSettings re-reads the policy and
  // mode. SyncDecisions makes the decisions in force here match the
  // database's: decisions made by other instances are tracked (and
  // enforced, unless this host protects the target), those they revoked or
  // expired are lifted from the backend. Returns how many changed.
  Status ReloadSettings();
  Result<size_t> SyncDecisions();

  PolicyConfig policy() const;
  Status SetPolicy(PolicyConfig policy, const std::string& actor);
  Mode mode() const;
  Status SetMode(Mode mode, const std::string& actor);

  // Waits until every detection queued before the call is processed.
  void Flush();
  // {"status": ok|degraded|error, "mode", "backend": {...}, "active",
  //  "circuit_breaker": {...}, "queue", "dropped", "drift", "last_error"}
  nlohmann::json HealthCheck() const;
  // Circuit breaker state for the API and console.
  nlohmann::json CircuitBreakerState() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::healing
