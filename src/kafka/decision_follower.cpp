#include "kafka/decision_follower.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace threatd::kafka {
namespace {

using nlohmann::json;

bool IsFirewall(healing::ActionType a) {
  using healing::ActionType;
  return a == ActionType::kBlockIp || a == ActionType::kRateLimit || a == ActionType::kIsolateHost;
}

bool IsEnforceEvent(std::string_view e) { return e == "applied" || e == "pending" || e == "created"; }
bool IsLiftEvent(std::string_view e) {
  return e == "revoked" || e == "expired" || e == "failed" || e == "lifted";
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

DecisionFollower::DecisionFollower(std::unique_ptr<healing::EnforcementBackend> backend, Clock& clock,
                                   metrics::Registry& registry)
    : backend_(std::move(backend)),
      clock_(clock),
      registry_(registry),
      active_gauge_(registry.GetGauge("threatd_agent_active_decisions", "Decisions the agent enforces now")) {}

void DecisionFollower::Count(const char* outcome, std::atomic<uint64_t>& counter) {
  ++counter;
  registry_.GetCounter("threatd_agent_events_total", "Decision events handled by the agent, by outcome",
                       {{"outcome", outcome}})
      .Inc();
}

void DecisionFollower::Fail(const std::string& what, const Status& s) {
  ++failures_;
  registry_.GetCounter("threatd_agent_backend_failures_total", "Enforcement backend errors in the agent").Inc();
  spdlog::error("agent: {}: {}", what, s.ToString());
  std::lock_guard lock(mu_);
  last_error_ = fmt::format("{}: {}", what, s.message());
}

void DecisionFollower::Handle(std::string_view message) {
  json j = json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    ++received_;
    Count("invalid", invalid_);
    spdlog::warn("agent: ignoring a message that is not a decision JSON object ({} bytes)", message.size());
    return;
  }
  Handle(j);
}

void DecisionFollower::Handle(const json& event) {
  ++received_;
  try {
    const auto id_it = event.find("id");
    std::string kind = Str(event, "event");
    if (kind.empty()) kind = Str(event, "status");
    const std::string target_text = Str(event, "target");
    if (id_it == event.end() || !id_it->is_number_integer() || kind.empty()) {
      Count("invalid", invalid_);
      spdlog::warn("agent: ignoring an event without id or event/status: {}", event.dump().substr(0, 200));
      return;
    }
    const int64_t id = id_it->get<int64_t>();
    if (IsLiftEvent(kind)) {
      if (active_.count(id)) Lift(id, kind.c_str());
      else Count("ignored", ignored_);  // never enforced here (simulate, skipped, or before this agent)
      return;
    }
    if (!IsEnforceEvent(kind)) {
      Count("ignored", ignored_);
      return;
    }
    if (Str(event, "mode") != "enforce") {
      Count("skipped_simulate", skipped_simulate_);
      return;
    }
    const auto action = healing::ParseActionType(Str(event, "action_type"));
    auto target = IpNetwork::Parse(target_text);
    if (!action || target_text.empty() || !target.ok()) {
      Count("invalid", invalid_);
      spdlog::warn("agent: decision {} has no usable target/action ('{}', '{}'); not enforced", id, target_text,
                   Str(event, "action_type"));
      return;
    }
    if (!IsFirewall(*action) && !backend_->Supports(*action)) {
      Count("skipped_action", skipped_action_);
      return;
    }
    std::optional<Clock::WallTime> expires_at;
    if (const std::string e = Str(event, "expires_at"); !e.empty()) {
      Clock::WallTime t;
      if (!ParseIso8601(e, &t)) {
        Count("invalid", invalid_);
        spdlog::warn("agent: decision {} has an unreadable expires_at '{}'; not enforced", id, e);
        return;
      }
      expires_at = t;
    }
    if (expires_at && *expires_at <= clock_.Now()) {
      Count("skipped_expired", skipped_expired_);
      if (active_.count(id)) Lift(id, "expired");
      return;
    }
    if (active_.count(id)) return;  // already in force (a redelivery or a status repeat)
    Entry entry;
    entry.target = target_text;
    entry.item.decision_id = id;
    entry.item.target = *target;
    entry.item.action = *action;
    entry.item.expires_at = expires_at;
    if (auto p = event.find("action_params"); p != event.end() && p->is_object()) {
      if (auto r = p->find("rate_per_second"); r != p->end() && r->is_number_integer())
        entry.item.rate_per_second = r->get<int64_t>();
    }
    entry.item.decision = event;
    Enforce(std::move(entry));
  } catch (const std::exception& e) {
    Count("invalid", invalid_);
    spdlog::warn("agent: ignoring a malformed decision event: {}", e.what());
  }
}

void DecisionFollower::Enforce(Entry entry) {
  const int64_t id = entry.item.decision_id;
  if (caught_up_) {
    std::vector<std::pair<int64_t, std::string>> failed;
    Status s = backend_->Apply({entry.item}, &failed);
    if (s.ok() && !failed.empty()) s = Status::Unavailable(failed.front().second);
    if (!s.ok()) {
      Fail(fmt::format("enforcing decision {} ({} {})", id, healing::ToString(entry.item.action), entry.target), s);
      return;
    }
    spdlog::info("agent: enforced decision {}: {} {}", id, healing::ToString(entry.item.action), entry.target);
  }
  active_.emplace(id, std::move(entry));
  active_count_ = active_.size();
  active_gauge_.Set(static_cast<double>(active_.size()));
  Count("enforced", enforced_);
}

void DecisionFollower::Lift(int64_t id, const char* why) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  if (caught_up_) {
    if (Status s = backend_->Remove({it->second.item}); !s.ok()) {
      Fail(fmt::format("lifting decision {} ({})", id, it->second.target), s);
      return;  // stays in force; the next event or tick retries
    }
    spdlog::info("agent: lifted decision {} ({}): {} {}", id, why, healing::ToString(it->second.item.action),
                 it->second.target);
  }
  active_.erase(it);
  active_count_ = active_.size();
  active_gauge_.Set(static_cast<double>(active_.size()));
  Count("lifted", lifted_);
}

Status DecisionFollower::CatchUp() {
  if (caught_up_) return Status::Ok();
  // Decisions that expired during the replay are not worth installing.
  const auto now = clock_.Now();
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->second.item.expires_at && *it->second.item.expires_at <= now) {
      it = active_.erase(it);
      Count("lifted", lifted_);
    } else {
      ++it;
    }
  }
  std::vector<healing::Enforcement> items;
  items.reserve(active_.size());
  for (const auto& [id, e] : active_) items.push_back(e.item);
  Status s = backend_->Reconcile(items);
  if (!s.ok()) {
    Fail("reconciling the backend to the replayed decisions", s);
    return s;
  }
  caught_up_ = true;
  active_count_ = active_.size();
  active_gauge_.Set(static_cast<double>(active_.size()));
  spdlog::info("agent: caught up with the decisions topic: {} decision(s) in force, enforced by the {} backend",
               active_.size(), backend_->Name());
  return Status::Ok();
}

void DecisionFollower::Rewind() {
  active_.clear();
  caught_up_ = false;
}

void DecisionFollower::Tick() {
  const auto now = clock_.Now();
  std::vector<int64_t> due;
  for (const auto& [id, e] : active_) {
    if (e.item.expires_at && *e.item.expires_at <= now) due.push_back(id);
  }
  for (int64_t id : due) Lift(id, "expires_at passed");
}

FollowerStats DecisionFollower::Stats() const {
  FollowerStats s;
  s.received = received_;
  s.enforced = enforced_;
  s.lifted = lifted_;
  s.skipped_simulate = skipped_simulate_;
  s.skipped_expired = skipped_expired_;
  s.skipped_action = skipped_action_;
  s.invalid = invalid_;
  s.ignored = ignored_;
  s.failures = failures_;
  s.active = active_count_;
  s.caught_up = caught_up_;
  return s;
}

json DecisionFollower::Health() const {
  const FollowerStats s = Stats();
  json j = {{"status", s.caught_up ? (s.failures > 0 ? "degraded" : "ok") : "starting"},
            {"backend", backend_->Health()},
            {"caught_up", s.caught_up},
            {"active", s.active},
            {"received", s.received},
            {"enforced", s.enforced},
            {"lifted", s.lifted},
            {"skipped_simulate", s.skipped_simulate},
            {"skipped_expired", s.skipped_expired},
            {"skipped_action", s.skipped_action},
            {"invalid", s.invalid},
            {"ignored", s.ignored},
            {"failures", s.failures}};
  std::lock_guard lock(mu_);
  j["last_error"] = last_error_ ? json(*last_error_) : json(nullptr);
  return j;
}

}  // namespace threatd::kafka
