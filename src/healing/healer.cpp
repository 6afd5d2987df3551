#include "healing/healer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <set>
#include <tuple>

#include "common/thread_name.h"
#include "flow/labels.h"
#include "healing/decision_json.h"

namespace threatd::healing {
namespace {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr size_t kMaxDetectionsPerRound = 4096;

bool IsFirewall(ActionType a) {
  return a == ActionType::kBlockIp || a == ActionType::kRateLimit || a == ActionType::kIsolateHost;
}

std::optional<IpNetwork> ParseTarget(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto n = IpNetwork::Parse(text);
  return n.ok() ? std::optional<IpNetwork>(*n) : std::nullopt;
}

}  // namespace

std::string_view ToString(Mode m) { return m == Mode::kDryRun ? "dry_run" : "enforce"; }

std::optional<Mode> ParseMode(std::string_view text) {
  if (text == "enforce") return Mode::kEnforce;
  if (text == "dry_run" || text == "dry-run") return Mode::kDryRun;
  return std::nullopt;
}

struct Healer::Impl {
  // A decision in force, as the enforcer tracks it.
  struct Active {
    storage::Decision decision;
    std::optional<IpNetwork> target;
    ActionType action = ActionType::kLogOnly;
    bool enforced = false;  // handed to the backend
  };
  using Key = std::tuple<ActionType, std::string, std::string>;  // action, mode, canonical target

  Impl(HealerOptions o, storage::DecisionRepository& d, ingest::WhitelistMatcher& w,
       std::unique_ptr<EnforcementBackend> b, Clock& c, metrics::Registry& r, Publisher p)
      : options(std::move(o)),
        decisions(d),
        whitelist(w),
        backend(std::move(b)),
        clock(c),
        registry(r),
        publish(std::move(p)),
        engine(options.initial_policy ? *options.initial_policy : DefaultPolicy()),
        protected_nets(engine.config().protected_networks, options.protect_host_addresses),
        breaker(engine.config().max_blocks_per_minute),
        mode(options.initial_mode),
        suppressed_whitelisted(r.GetCounter("threatd_healing_suppressed_total",
                                            "Proposed decisions not made, by reason.", {{"reason", "whitelisted"}})),
        suppressed_in_force(r.GetCounter("threatd_healing_suppressed_total", "Proposed decisions not made, by reason.",
                                         {{"reason", "in_force"}})),
        protected_alerts(r.GetCounter("threatd_healing_protected_total",
                                      "Decisions turned into alerts because the target is protected.")),
        breaker_trips(r.GetCounter("threatd_healing_circuit_breaker_trips_total",
                                   "Blocks turned into alerts by the circuit breaker.")),
        breaker_open_gauge(r.GetGauge("threatd_healing_circuit_breaker_open", "1 while the circuit breaker is open.")),
        active_gauge(r.GetGauge("threatd_healing_active_decisions", "Decisions in force.")),
        failures(r.GetCounter("threatd_healing_enforcement_failures_total", "Decisions the backend failed to apply.")),
        dropped(r.GetCounter("threatd_healing_detections_dropped_total",
                             "Detections dropped because the healing queue was full.")),
        drift_repairs(r.GetCounter("threatd_healing_drift_repairs_total",
                                   "Reconciles run because the backend drifted from the decisions.")),
        apply_seconds(r.GetHistogram("threatd_healing_apply_seconds", "From decision to applied by the backend.", {},
                                     {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5})) {}

  // --- worker ---
  void Loop();
  void Tick(Clock::WallTime now);
  void CheckDrift(Clock::WallTime now);
  void ProcessDetections(std::vector<Detection>& batch);

  // --- decisions (mu held) ---
  std::optional<storage::NewDecision> Decide(const Proposal& p, Clock::WallTime now);
  void Enforce(std::vector<storage::Decision> made, Clock::WallTime now);
  bool InForce(ActionType action, const std::string& mode, const std::optional<IpNetwork>& target) const;
  Result<int> EscalationLevel(const std::string& target, ActionType action, const std::string& mode,
                              Clock::WallTime now) const;
  std::optional<std::string> Unsafe(const std::optional<IpNetwork>& target, ActionType action) const;
  Enforcement ToEnforcement(const Active& a, Clock::WallTime now) const;
  bool Enforceable(const storage::Decision& d) const;
  void Track(const storage::Decision& d, bool enforced);
  void Untrack(int64_t id);
  Status Lift(const std::vector<int64_t>& ids, const std::string& status, const std::string& message,
              const std::optional<std::string>& actor);
  Result<size_t> LiftWhitelisted();
  Status ReconcileAll(Clock::WallTime now);
  Status LoadSettings();
  void SetPolicyLocked(PolicyConfig policy);
  void Emit(const storage::Decision& d, std::string_view event);
  void Fail(const std::string& what, const Status& s);
  std::string ModeText(const Rule* rule) const {
    return mode == Mode::kDryRun || (rule && rule->simulate) ? "simulate" : "enforce";
  }

  const HealerOptions options;
  storage::DecisionRepository& decisions;
  ingest::WhitelistMatcher& whitelist;
  std::unique_ptr<EnforcementBackend> backend;
  Clock& clock;
  metrics::Registry& registry;
  Publisher publish;

  // Decision state, guarded by mu. Timed: a round of detections holds it
  // across a store transaction and the backend, and HealthCheck() must not
  // wait that long.
  mutable std::timed_mutex mu;
  PolicyEngine engine;
  ProtectedNetworks protected_nets;
  CircuitBreaker breaker;
  Mode mode;
  std::map<int64_t, Active> active;
  std::map<Key, int64_t> by_key;
  // Decisions in `active` by the target's family and prefix length, so that
  // InForce() looks up only the enclosing networks that can be there (one
  // or two lengths in practice, instead of all 33 or 129).
  std::array<std::array<int, 129>, 2> prefix_uses{};  // [IPv4, IPv6][prefix length]
  static size_t FamilyIndex(const IpNetwork& n) { return n.family() == IpNetwork::Family::kV4 ? 0 : 1; }
  void CountPrefix(const Active& a, int delta) {
    if (a.target) prefix_uses[FamilyIndex(*a.target)][a.target->prefix_length()] += delta;
  }
  std::optional<std::string> last_error;
  std::optional<Clock::WallTime> last_error_at;
  Drift last_drift;
  uint64_t tracking_changes = 0;  // Track/Untrack calls: a drift measurement spanning one is stale
  Clock::WallTime last_prune{}, last_drift_check{}, last_whitelist_check{};

  // The last health computed under mu, for a check that finds it busy.
  std::mutex health_mu;
  json last_health;  // guarded by health_mu

  json BreakerStateLocked() {
    const auto now = clock.Now();
    return {{"state", breaker.open(now) ? "open" : "closed"},
            {"blocks_last_minute", breaker.recent(now)},
            {"max_blocks_per_minute", breaker.limit()},
            {"trips", breaker.trips()}};
  }

  // Detection queue, guarded by q_mu.
  std::mutex q_mu;
  std::condition_variable q_cv, flushed_cv;
  std::deque<Detection> queue;
  uint64_t enqueued = 0, processed = 0;
  bool stopping = false;
  bool started = false;
  std::thread worker;

  metrics::Counter& suppressed_whitelisted;
  metrics::Counter& suppressed_in_force;
  metrics::Counter& protected_alerts;
  metrics::Counter& breaker_trips;
  metrics::Gauge& breaker_open_gauge;
  metrics::Gauge& active_gauge;
  metrics::Counter& failures;
  metrics::Counter& dropped;
  metrics::Counter& drift_repairs;
  metrics::Histogram& apply_seconds;
};

// --- helpers ---

void Healer::Impl::Fail(const std::string& what, const Status& s) {
  spdlog::error("self-healing: {}: {}", what, s.ToString());
  last_error = fmt::format("{}: {}", what, s.message());
  last_error_at = clock.Now();
}

void Healer::Impl::Emit(const storage::Decision& d, std::string_view event) {
  spdlog::info("self-healing: decision {} {}: {} {} ({}, {}): {}", d.id, event, d.action_type,
               d.target.empty() ? "(no address)" : d.target, d.mode, d.origin, d.action_description);
  if (!publish) return;
  try {
    json data = DecisionToJson(d, clock.Now());
    data["event"] = event;
    publish("action", data);
  } catch (const std::exception& e) {
    spdlog::error("self-healing: publishing decision {} failed: {}", d.id, e.what());
  }
}

bool Healer::Impl::InForce(ActionType action, const std::string& m, const std::optional<IpNetwork>& target) const {
  if (!target) return by_key.count({action, m, std::string()}) > 0;
  // The target itself or any enclosing network already covered by the same action.
  const auto& uses = prefix_uses[FamilyIndex(*target)];
  for (int p = target->prefix_length(); p >= 0; --p) {
    if (uses[p] > 0 && by_key.count({action, m, target->Supernet(p).ToString()})) return true;
  }
  return false;
}

std::optional<std::string> Healer::Impl::Unsafe(const std::optional<IpNetwork>& target, ActionType action) const {
  if (!target || !IsFirewall(action)) return std::nullopt;
  if (auto w = whitelist.Overlapping(*target))
    return fmt::format("{} is whitelisted (entry {})", target->ToString(), *w);
  return protected_nets.Check(*target);
}

Result<int> Healer::Impl::EscalationLevel(const std::string& target, ActionType action, const std::string& m,
                                          Clock::WallTime now) const {
  auto n = decisions.CountDecisions(target, std::string(ToString(action)), m,
                                    now - engine.config().escalation_lookback);
  if (!n.ok()) return n.status();
  return static_cast<int>(std::min<int64_t>(*n, 1000));
}

Enforcement Healer::Impl::ToEnforcement(const Active& a, Clock::WallTime now) const {
  Enforcement e;
  e.decision_id = a.decision.id;
  e.target = *a.target;
  e.action = a.action;
  e.expires_at = a.decision.expires_at;
  if (a.decision.action_params_json) {
    json params = json::parse(*a.decision.action_params_json, nullptr, false);
    if (params.is_object() && params.contains("rate_per_second") && params["rate_per_second"].is_number_integer())
      e.rate_per_second = params["rate_per_second"].get<int64_t>();
  }
  e.decision = DecisionToJson(a.decision, now);
  return e;
}

// A stored decision goes to the backend when it is enforced (not simulated),
// has a target and the backend can carry its action out.
bool Healer::Impl::Enforceable(const storage::Decision& d) const {
  const auto action = ParseActionType(d.action_type).value_or(ActionType::kLogOnly);
  return d.mode == "enforce" && ParseTarget(d.target) && backend->Supports(action);
}

void Healer::Impl::Track(const storage::Decision& d, bool enforced) {
  Active a;
  a.decision = d;
  a.target = ParseTarget(d.target);
  a.action = ParseActionType(d.action_type).value_or(ActionType::kLogOnly);
  a.enforced = enforced;
  by_key[{a.action, d.mode, d.target}] = d.id;
  if (auto old = active.find(d.id); old != active.end()) CountPrefix(old->second, -1);
  CountPrefix(a, +1);
  active[d.id] = std::move(a);
  ++tracking_changes;
  active_gauge.Set(static_cast<double>(active.size()));
}

void Healer::Impl::Untrack(int64_t id) {
  auto it = active.find(id);
  if (it == active.end()) return;
  auto k = by_key.find({it->second.action, it->second.decision.mode, it->second.decision.target});
  if (k != by_key.end() && k->second == id) by_key.erase(k);
  CountPrefix(it->second, -1);
  active.erase(it);
  ++tracking_changes;
  active_gauge.Set(static_cast<double>(active.size()));
}

// --- making decisions ---

std::optional<storage::NewDecision> Healer::Impl::Decide(const Proposal& p, Clock::WallTime now) {
  const Rule& rule = *p.rule;
  const std::string m = ModeText(&rule);
  ActionType action = p.action;
  std::string description = p.description;
  std::optional<seconds> duration;

  if (p.target) {
    if (auto w = whitelist.Overlapping(*p.target)) {
      suppressed_whitelisted.Inc();
      return std::nullopt;  // the whitelist always wins, silently: it was put there on purpose
    }
    if (IsFirewall(action)) {
      if (auto why = protected_nets.Check(*p.target)) {
        protected_alerts.Inc();
        description = fmt::format("{}; alert instead of {}: {}", description, ToString(action), *why);
        action = ActionType::kAlertAdmin;
        duration = options.alert_cooldown;
      }
    }
  }
  if (InForce(action, m, p.target)) {
    suppressed_in_force.Inc();
    return std::nullopt;
  }
  if (IsFirewall(action) && m == "enforce" && !breaker.Allow(now)) {
    breaker_trips.Inc();
    description = fmt::format("{}; alert instead of {}: circuit breaker open ({} blocks in the last minute, limit {})",
                              description, ToString(action), breaker.recent(now), breaker.limit());
    action = ActionType::kAlertAdmin;
    duration = options.alert_cooldown;
    if (InForce(action, m, p.target)) return std::nullopt;
  }
  breaker_open_gauge.Set(breaker.open(now) ? 1 : 0);

  const std::string target = p.target ? p.target->ToString() : std::string();
  int level = 0;
  if (!duration) {
    auto l = EscalationLevel(target, action, m, now);
    if (!l.ok()) {
      Fail("counting earlier decisions for " + target, l.status());
      return std::nullopt;
    }
    level = *l;
    duration = rule.durations[std::min<size_t>(static_cast<size_t>(level), rule.durations.size() - 1)];
  }

  storage::NewDecision d;
  d.attack_prediction_id = p.attack_prediction_id;
  d.target = target;
  d.action_type = std::string(ToString(action));
  d.action_description = description;
  json params = {{"rule", rule.name}, {"target_side", ToString(rule.target)}};
  if (action == ActionType::kRateLimit) params["rate_per_second"] = rule.rate_per_second;
  d.action_params_json = params.dump();
  d.origin = "automatic";
  d.mode = m;
  d.rule = rule.name;
  d.attack_class = p.attack_class;
  d.confidence = p.confidence;
  d.model_version = p.model_version;
  d.trigger_flow_ids = p.flows;
  d.detections = p.detections;
  d.escalation_level = level;
  d.duration_seconds = duration->count();
  d.expires_at = now + *duration;
  d.event_message = description;
  return d;
}

void Healer::Impl::Enforce(std::vector<storage::Decision> made, Clock::WallTime now) {
  std::vector<storage::StatusChange> changes;
  std::vector<Enforcement> items;
  std::vector<size_t> item_of;  // index into made
  for (size_t i = 0; i < made.size(); ++i) {
    const auto& d = made[i];
    const auto action = ParseActionType(d.action_type).value_or(ActionType::kLogOnly);
    const auto target = ParseTarget(d.target);
    if (d.mode == "simulate") {
      changes.push_back({d.id, "applied", fmt::format("simulated: would have applied {} to {}", d.action_type,
                                                      d.target.empty() ? "(no address)" : d.target)});
      continue;
    }
    if (!target || !backend->Supports(action)) {
      changes.push_back({d.id, "applied",
                         fmt::format("{} backend: recorded and published, not enforced", backend->Name()), {}, now});
      continue;
    }
    // Checked again right before enforcement: the whitelist may have changed.
    if (auto why = Unsafe(target, action)) {
      changes.push_back({d.id, "revoked", "not enforced: " + *why});
      continue;
    }
    Active a;
    a.decision = d;
    a.target = target;
    a.action = action;
    items.push_back(ToEnforcement(a, now));
    item_of.push_back(i);
  }
  std::map<int64_t, std::string> failed;
  if (!items.empty()) {
    std::vector<std::pair<int64_t, std::string>> f;
    Status s = backend->Apply(items, &f);
    if (!s.ok()) {
      Fail(fmt::format("{} backend could not apply {} decisions", backend->Name(), items.size()), s);
      for (const auto& it : items) failed[it.decision_id] = s.message();
    }
    for (auto& [id, msg] : f) failed[id] = msg;
    const auto applied_at = clock.Now();
    for (size_t k = 0; k < items.size(); ++k) {
      const auto& d = made[item_of[k]];
      auto fit = failed.find(d.id);
      if (fit != failed.end()) {
        failures.Inc();
        changes.push_back({d.id, "failed", "enforcement failed: " + fit->second, fit->second});
      } else {
        apply_seconds.Observe(std::chrono::duration<double>(applied_at - d.created_at).count());
        changes.push_back({d.id, "applied", fmt::format("enforced by the {} backend", backend->Name()), {}, applied_at});
      }
    }
  }
  if (Status s = decisions.UpdateDecisionStatus(changes); !s.ok()) {
    // The effects are in place; the decisions stay "pending" in the database
    // and the next reconcile (start-up or drift repair) settles them.
    Fail("recording the outcome of new decisions", s);
  }
  std::map<int64_t, const storage::StatusChange*> change_of;
  for (const auto& c : changes) change_of[c.id] = &c;
  for (auto& d : made) {
    const auto* c = change_of.at(d.id);
    d.status = c->status;
    d.updated_at = now;
    if (c->execution_time) d.execution_time = c->execution_time;
    if (c->error_message) d.error_message = c->error_message;
    if (d.status == "applied") Track(d, Enforceable(d));
    Emit(d, d.status);
  }
}

// One store transaction per round: the decisions are decided first (each
// held in the dedupe index under a provisional id, so a later proposal of the
// same round for the same target is suppressed), then written together.
void Healer::Impl::ProcessDetections(std::vector<Detection>& batch) {
  std::lock_guard lock(mu);
  const auto now = clock.Now();
  std::vector<storage::NewDecision> fresh;
  const auto provisional_id = [](size_t k) { return -static_cast<int64_t>(k) - 1; };
  for (const auto& det : batch) {
    for (const auto& p : engine.Observe(det)) {
      auto nd = Decide(p, now);
      if (!nd) continue;
      storage::Decision provisional;
      provisional.id = provisional_id(fresh.size());
      provisional.target = nd->target;
      provisional.action_type = nd->action_type;
      provisional.mode = nd->mode;
      Track(provisional, false);
      fresh.push_back(std::move(*nd));
    }
  }
  for (size_t k = 0; k < fresh.size(); ++k) Untrack(provisional_id(k));
  if (fresh.empty()) return;
  auto made = decisions.InsertDecisions(fresh);
  if (!made.ok()) {
    Fail(fmt::format("recording {} decisions", fresh.size()), made.status());
    return;
  }
  for (const auto& d : *made) {
    registry
        .GetCounter("threatd_healing_decisions_total", "Decisions made, by action and mode.",
                    {{"action", d.action_type}, {"mode", d.mode}})
        .Inc();
  }
  Enforce(std::move(*made), now);
}

// --- lifting ---

Status Healer::Impl::Lift(const std::vector<int64_t>& ids, const std::string& status, const std::string& message,
                          const std::optional<std::string>& actor) {
  std::vector<Enforcement> items;
  std::vector<storage::StatusChange> changes;
  const auto now = clock.Now();
  for (int64_t id : ids) {
    auto it = active.find(id);
    if (it == active.end()) continue;
    if (it->second.enforced) items.push_back(ToEnforcement(it->second, now));
    changes.push_back({id, status, message, {}, {}, actor});
  }
  if (!items.empty()) {
    if (Status s = backend->Remove(items); !s.ok()) {
      Fail("removing lifted decisions from the backend", s);
      return s;  // still in force; the next tick or drift repair retries
    }
  }
  if (Status s = decisions.UpdateDecisionStatus(changes); !s.ok()) return s;
  for (int64_t id : ids) {
    auto it = active.find(id);
    if (it == active.end()) continue;
    storage::Decision d = it->second.decision;
    d.status = status;
    d.updated_at = now;
    Untrack(id);
    Emit(d, status);
  }
  return Status::Ok();
}

Result<size_t> Healer::Impl::LiftWhitelisted() {
  std::map<std::string, std::vector<int64_t>> by_entry;
  for (const auto& [id, a] : active) {
    if (!a.target || !IsFirewall(a.action)) continue;
    if (auto w = whitelist.Overlapping(*a.target)) by_entry[*w].push_back(id);
  }
  size_t n = 0;
  for (const auto& [entry, ids] : by_entry) {
    THREATD_RETURN_IF_ERROR(Lift(ids, "revoked", fmt::format("lifted: whitelisted by entry {}", entry), std::nullopt));
    n += ids.size();
  }
  if (n > 0) spdlog::info("self-healing: lifted {} decision(s) now covered by the whitelist", n);
  return n;
}

// The stored policy and mode, if any (else the options' initial ones stay).
Status Healer::Impl::LoadSettings() {
  auto settings = decisions.GetHealingSettings();
  if (!settings.ok()) return settings.status();
  if (!*settings) return Status::Ok();
  auto policy = ParsePolicy(json::parse((*settings)->policy_json, nullptr, false));
  if (!policy.ok())
    return Status::Internal("the stored self-healing policy is invalid: " + policy.status().message(),
                            "fix it with PUT /api/v1/policy");
  SetPolicyLocked(std::move(*policy));
  mode = ParseMode((*settings)->mode).value_or(Mode::kEnforce);
  return Status::Ok();
}

void Healer::Impl::SetPolicyLocked(PolicyConfig policy) {
  engine = PolicyEngine(std::move(policy));
  protected_nets = ProtectedNetworks(engine.config().protected_networks, options.protect_host_addresses);
  breaker.set_limit(engine.config().max_blocks_per_minute);
}

Status Healer::Impl::ReconcileAll(Clock::WallTime now) {
  std::vector<Enforcement> items;
  for (const auto& [id, a] : active) {
    if (a.enforced) items.push_back(ToEnforcement(a, now));
  }
  return backend->Reconcile(items);
}

// --- worker ---

void Healer::Impl::Tick(Clock::WallTime now) {
  std::lock_guard lock(mu);
  auto expired = decisions.ExpireDecisions(now);
  if (!expired.ok()) {
    Fail("expiring decisions", expired.status());
  } else if (!expired->empty()) {
    std::vector<Enforcement> items;
    for (const auto& d : *expired) {
      auto it = active.find(d.id);
      if (it != active.end() && it->second.enforced) items.push_back(ToEnforcement(it->second, now));
    }
    // nftables elements time out in the kernel by themselves; Remove is idempotent.
    if (Status s = backend->Remove(items); !s.ok()) Fail("removing expired decisions from the backend", s);
    for (const auto& d : *expired) {
      Untrack(d.id);
      Emit(d, "expired");
    }
  }
  if (now - last_whitelist_check >= std::chrono::seconds(1)) {
    last_whitelist_check = now;
    if (auto n = LiftWhitelisted(); !n.ok()) Fail("lifting whitelisted decisions", n.status());
  }
  if (now - last_prune >= std::chrono::seconds(10)) {
    last_prune = now;
    engine.Prune(now);
    breaker_open_gauge.Set(breaker.open(now) ? 1 : 0);
  }
}

// Measuring reads the whole enforced state back (seconds for 100,000 nftables
// elements), so it runs outside the lock: decisions and the API are never
// held up by it. A measurement taken while the decisions in force changed is
// stale and dropped; the next interval measures again.
void Healer::Impl::CheckDrift(Clock::WallTime now) {
  std::vector<Enforcement> items;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu);
    if (now - last_drift_check < options.drift_interval) return;
    last_drift_check = now;
    for (const auto& [id, a] : active)
      if (a.enforced) items.push_back(ToEnforcement(a, now));
    generation = tracking_changes;
  }
  auto drift = backend->Measure(items);
  std::lock_guard lock(mu);
  if (!drift.ok()) {
    Fail("measuring the backend's drift", drift.status());
    return;
  }
  if (generation != tracking_changes) {
    last_drift_check = Clock::WallTime{};  // measure again at the next tick
    return;
  }
  last_drift = *drift;
  if (drift->empty()) return;
  spdlog::warn("self-healing: the {} backend drifted from the decisions ({} missing, {} unexpected); reconciling",
               backend->Name(), drift->missing.size(), drift->unexpected.size());
  drift_repairs.Inc();
  if (Status s = backend->Reconcile(items); !s.ok()) Fail("repairing drift", s);
}

void Healer::Impl::Loop() {
  auto next_tick = std::chrono::steady_clock::now();
  std::vector<Detection> batch;
  for (;;) {
    {
      std::unique_lock lock(q_mu);
      q_cv.wait_until(lock, next_tick, [&] { return stopping || !queue.empty(); });
      if (stopping && queue.empty()) return;
      const size_t n = std::min(queue.size(), kMaxDetectionsPerRound);
      batch.assign(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.begin() + n));
      queue.erase(queue.begin(), queue.begin() + n);
    }
    if (!batch.empty()) {
      try {
        ProcessDetections(batch);
      } catch (const std::exception& e) {
        Fail("processing detections", Status::Internal(e.what()));
      }
      {
        std::lock_guard lock(q_mu);
        processed += batch.size();
      }
      flushed_cv.notify_all();
      batch.clear();
    }
    if (std::chrono::steady_clock::now() >= next_tick) {
      try {
        const auto now = clock.Now();
        Tick(now);
        CheckDrift(now);
      } catch (const std::exception& e) {
        Fail("periodic checks", Status::Internal(e.what()));
      }
      next_tick = std::chrono::steady_clock::now() + options.tick;
    }
  }
}

// --- Healer ---

Healer::Healer(HealerOptions options, storage::DecisionRepository& decisions, ingest::WhitelistMatcher& whitelist,
               std::unique_ptr<EnforcementBackend> backend, Clock& clock, metrics::Registry& registry,
               Publisher publish)
    : impl_(std::make_unique<Impl>(std::move(options), decisions, whitelist, std::move(backend), clock, registry,
                                   std::move(publish))) {}

Healer::~Healer() { Stop(); }

Status Healer::Start() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    THREATD_RETURN_IF_ERROR(m.LoadSettings());
    THREATD_RETURN_IF_ERROR(m.backend->Start());
    const auto now = m.clock.Now();
    auto in_force = m.decisions.ListActiveDecisions(now);
    if (!in_force.ok()) return in_force.status();
    std::vector<storage::StatusChange> settle;
    std::vector<int64_t> lift;
    for (const auto& d : *in_force) {
      m.Track(d, m.Enforceable(d));
      const auto& a = m.active.at(d.id);
      if (a.enforced && m.Unsafe(a.target, a.action)) lift.push_back(d.id);
      if (d.status == "pending") settle.push_back({d.id, "applied", "applied by the start-up reconcile", {}, now});
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t id : lift) m.Untrack(id);  // never re-installed; recorded below
    THREATD_RETURN_IF_ERROR(m.ReconcileAll(now));
    spdlog::info("self-healing: {} backend reconciled to {} decision(s) in force in {} ms ({} mode)",
                 m.backend->Name(), m.active.size(),
                 duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count(),
                 ToString(m.mode));
    for (int64_t id : lift)
      settle.push_back({id, "revoked", "lifted at start-up: whitelisted or protected", {}, {}});
    if (Status s = m.decisions.UpdateDecisionStatus(settle); !s.ok()) m.Fail("settling decisions at start-up", s);
    m.last_drift_check = m.last_whitelist_check = m.last_prune = now;
  }
  std::lock_guard lock(m.q_mu);
  if (m.started) return Status::Ok();
  m.started = true;
  m.stopping = false;
  m.worker = std::thread([this] {
    NameThisThread("healer");
    impl_->Loop();
  });
  return Status::Ok();
}

void Healer::Stop() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.q_mu);
    if (!m.started) return;
    m.started = false;
    m.stopping = true;
  }
  m.q_cv.notify_all();
  if (m.worker.joinable()) m.worker.join();
  std::lock_guard lock(m.mu);
  if (Status s = m.backend->Shutdown(m.options.cleanup_on_shutdown); !s.ok()) m.Fail("shutting the backend down", s);
}

void Healer::OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) {
  auto& m = *impl_;
  std::vector<Detection> found;
  const size_t n = std::min(batch.flows.size(), ids.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& f = batch.flows[i];
    if (ids[i].duplicate || !f.threat.is_attack) continue;
    Detection d;
    d.attack_class = f.attack ? f.attack->attack_type_name : std::string("ATTACK");
    if (ClassMatches(flow::kBenignLabel, d.attack_class)) continue;  // the classifier overruled the detector
    d.confidence = f.attack && f.attack->confidence ? *f.attack->confidence : f.threat.prediction_score;
    d.model_version = f.attack ? f.attack->model_version : f.threat.model_version;
    d.src_ip = f.ids.src_ip;
    d.dst_ip = f.ids.dst_ip;
    d.traffic_data_id = ids[i].traffic_data_id;
    if (ids[i].attack_prediction_id != 0) d.attack_prediction_id = ids[i].attack_prediction_id;
    d.at = f.created_at;
    found.push_back(std::move(d));
  }
  if (found.empty()) return;
  {
    std::lock_guard lock(m.q_mu);
    if (!m.started) return;
    for (auto& d : found) {
      if (m.queue.size() >= m.options.queue_capacity) {
        m.dropped.Inc();
        continue;
      }
      m.queue.push_back(std::move(d));
      ++m.enqueued;
    }
  }
  m.q_cv.notify_one();
}

void Healer::Flush() {
  auto& m = *impl_;
  std::unique_lock lock(m.q_mu);
  const uint64_t target = m.enqueued;
  m.flushed_cv.wait(lock, [&] { return m.processed >= target || !m.started; });
}

Result<storage::Decision> Healer::Create(const ManualDecision& r) {
  auto& m = *impl_;
  auto target = IpNetwork::Parse(r.target);
  if (!target.ok()) return Status::Validation("target: " + target.status().message());
  IpNetwork t = *target;
  if (t.family() == IpNetwork::Family::kV6 && t.prefix_length() > m.engine.config().ipv6_prefix && IsFirewall(r.action))
    t = t.Supernet(m.engine.config().ipv6_prefix);
  if (r.duration && r.duration->count() <= 0)
    return Status::Validation("duration_seconds: must be positive; revoke a decision to end it early");
  if (r.origin != "manual" && r.origin != "api") return Status::Validation("origin: \"manual\" or \"api\"");
  if (r.action == ActionType::kRateLimit && r.rate_per_second < 0)
    return Status::Validation("rate_per_second: a positive number of packets per second");

  std::lock_guard lock(m.mu);
  const auto now = m.clock.Now();
  const std::string mode = m.ModeText(nullptr);
  if (auto why = m.Unsafe(t, r.action)) {
    return Status::Conflict(fmt::format("refusing to {} {}: {}", ToString(r.action), t.ToString(), *why),
                            "the whitelist and protected networks always win; remove the entry first if this is "
                            "really intended");
  }
  if (m.InForce(r.action, mode, t)) {
    return Status::Conflict(fmt::format("{} is already in force for {}", ToString(r.action), t.ToString()),
                            "revoke it first (DELETE /api/v1/actions/{id}) to change it");
  }
  storage::NewDecision d;
  d.target = t.ToString();
  d.action_type = std::string(ToString(r.action));
  d.action_description = r.reason.empty() ? fmt::format("{} {} by {}", ToString(r.action), d.target, r.actor)
                                          : r.reason;
  json params = json::object();
  if (r.action == ActionType::kRateLimit) params["rate_per_second"] = r.rate_per_second > 0 ? r.rate_per_second : 100;
  d.action_params_json = params.dump();
  d.origin = r.origin;
  d.mode = mode;
  const seconds duration = r.duration.value_or(m.options.default_manual_duration);
  d.duration_seconds = duration.count();
  d.expires_at = now + duration;
  d.created_by = r.actor;
  d.event_message = fmt::format("created by {}", r.actor);
  auto made = m.decisions.InsertDecision(d);
  if (!made.ok()) return made.status();
  const int64_t id = made->id;
  m.Enforce({std::move(*made)}, now);
  auto out = m.decisions.GetDecision(id);
  if (!out.ok()) return out.status();
  if (!*out) return Status::Internal(fmt::format("decision {} vanished after it was made", id));
  return std::move(**out);
}

Result<storage::Decision> Healer::Revoke(int64_t id, const std::string& actor, const std::string& reason) {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  auto d = m.decisions.GetDecision(id);
  if (!d.ok()) return d.status();
  if (!*d) return Status::NotFound(fmt::format("self-healing action not found: {}", id));
  if ((*d)->status != "pending" && (*d)->status != "applied")
    return Status::Conflict(fmt::format("action {} is no longer in force (status {})", id, (*d)->status));
  const std::string message = reason.empty() ? "revoked by " + actor : fmt::format("revoked by {}: {}", actor, reason);
  if (m.active.count(id)) {
    THREATD_RETURN_IF_ERROR(m.Lift({id}, "revoked", message, actor));
  } else {
    THREATD_RETURN_IF_ERROR(m.decisions.UpdateDecisionStatus({{id, "revoked", message, {}, {}, actor}}));
  }
  auto out = m.decisions.GetDecision(id);
  if (!out.ok()) return out.status();
  if (!*out) return Status::NotFound(fmt::format("self-healing action not found: {}", id));
  return std::move(**out);
}

Status Healer::ReloadSettings() {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  const Mode before = m.mode;
  THREATD_RETURN_IF_ERROR(m.LoadSettings());
  if (m.mode != before) spdlog::warn("self-healing: mode changed to {} by another instance", ToString(m.mode));
  return Status::Ok();
}

Result<size_t> Healer::SyncDecisions() {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  const auto now = m.clock.Now();
  auto in_force = m.decisions.ListActiveDecisions(now);
  if (!in_force.ok()) return in_force.status();
  std::set<int64_t> current;
  std::vector<Enforcement> add;
  size_t changed = 0;
  for (const auto& d : *in_force) {
    current.insert(d.id);
    if (m.active.count(d.id)) continue;
    m.Track(d, m.Enforceable(d));
    auto& a = m.active.at(d.id);
    // A target this host protects (its own address) is never enforced here,
    // whoever decided it.
    if (a.enforced && m.Unsafe(a.target, a.action)) a.enforced = false;
    if (a.enforced) add.push_back(m.ToEnforcement(a, now));
    ++changed;
  }
  std::vector<Enforcement> remove;
  std::vector<int64_t> gone;
  for (const auto& [id, a] : m.active) {
    if (current.count(id)) continue;
    gone.push_back(id);
    if (a.enforced) remove.push_back(m.ToEnforcement(a, now));
  }
  if (!remove.empty()) THREATD_RETURN_IF_ERROR(m.backend->Remove(remove));
  for (int64_t id : gone) m.Untrack(id);
  changed += gone.size();
  if (!add.empty()) {
    std::vector<std::pair<int64_t, std::string>> failed;
    if (Status s = m.backend->Apply(add, &failed); !s.ok()) m.Fail("enforcing decisions of another instance", s);
    for (const auto& [id, why] : failed) m.Fail(fmt::format("enforcing decision {} of another instance", id),
                                                Status::Internal(why));
  }
  return changed;
}

Result<size_t> Healer::ApplyWhitelist() {
  std::lock_guard lock(impl_->mu);
  return impl_->LiftWhitelisted();
}

PolicyConfig Healer::policy() const {
  std::lock_guard lock(impl_->mu);
  return impl_->engine.config();
}

Mode Healer::mode() const {
  std::lock_guard lock(impl_->mu);
  return impl_->mode;
}

Status Healer::SetPolicy(PolicyConfig policy, const std::string& actor) {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  auto saved = m.decisions.PutHealingSettings(PolicyToJson(policy).dump(), std::string(ToString(m.mode)), actor);
  if (!saved.ok()) return saved.status();
  m.SetPolicyLocked(std::move(policy));
  // Decisions in force that the new protected networks cover are lifted.
  std::vector<int64_t> lift;
  for (const auto& [id, a] : m.active)
    if (a.target && IsFirewall(a.action) && m.protected_nets.Check(*a.target)) lift.push_back(id);
  if (!lift.empty()) return m.Lift(lift, "revoked", "lifted: the target is now a protected network", actor);
  return Status::Ok();
}

Status Healer::SetMode(Mode mode, const std::string& actor) {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  auto saved = m.decisions.PutHealingSettings(PolicyToJson(m.engine.config()).dump(), std::string(ToString(mode)), actor);
  if (!saved.ok()) return saved.status();
  if (m.mode != mode) spdlog::warn("self-healing: mode changed to {} by {}", ToString(mode), actor);
  m.mode = mode;
  return Status::Ok();
}

json Healer::CircuitBreakerState() const {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  return m.BreakerStateLocked();
}

json Healer::HealthCheck() const {
  constexpr auto kWait = std::chrono::milliseconds(100);
  auto& m = *impl_;
  json j;
  std::unique_lock lock(m.mu, std::defer_lock);
  if (lock.try_lock_for(kWait)) {
    json breaker = m.BreakerStateLocked();
    json backend = m.backend->Health();
    size_t enforced = 0;
    for (const auto& [id, a] : m.active) enforced += a.enforced ? 1 : 0;
    j = {{"mode", ToString(m.mode)},
         {"backend", backend},
         {"active", m.active.size()},
         {"enforced", enforced},
         {"rules", m.engine.config().rules.size()},
         {"circuit_breaker", breaker},
         {"drift", {{"missing", m.last_drift.missing.size()}, {"unexpected", m.last_drift.unexpected.size()}}}};
    std::string status = "ok";
    if (backend.value("status", "ok") != "ok") status = backend.value("status", "degraded");
    if (breaker["state"] == "open" || !m.last_drift.empty()) status = status == "error" ? status : "degraded";
    if (m.last_error_at && m.clock.Now() - *m.last_error_at < std::chrono::minutes(5)) {
      j["last_error"] = *m.last_error;
      j["last_error_at"] = FormatIso8601(*m.last_error_at);
      if (status == "ok") status = "degraded";
    }
    j["status"] = status;
    lock.unlock();
    std::lock_guard cache(m.health_mu);
    m.last_health = j;
  } else {
    // Busy recording a round of decisions: the figures of the last check,
    // marked as such, rather than a health endpoint that hangs under load.
    std::lock_guard cache(m.health_mu);
    j = m.last_health.is_object() ? m.last_health : json{{"status", "ok"}};
    j["busy"] = true;
    j["detail"] = "recording a round of decisions; figures from the last check";
  }
  std::lock_guard queue_lock(m.q_mu);
  j["queue"] = m.queue.size();
  j["dropped"] = m.dropped.Value();
  return j;
}

}  // namespace threatd::healing
