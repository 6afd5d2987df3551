// RecordingBackend: an EnforcementBackend that enforces into a map, for tests
// of the Healer's logic (the nftables backend is tested against the kernel in
// nftables_netns_test). `guard` runs on every item applied or reconciled.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "healing/backend.h"

namespace threatd::healing {

// Enforces into a map; checks every item against `guard` when it is applied.
class RecordingBackend final : public EnforcementBackend {
 public:
  std::string_view Name() const override { return "recording"; }
  bool Supports(ActionType a) const override {
    return a == ActionType::kBlockIp || a == ActionType::kIsolateHost || a == ActionType::kRateLimit;
  }
  Status Start() override { return Status::Ok(); }
  Status Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* failed) override {
    std::lock_guard lock(mu);
    for (const auto& i : items) {
      if (fail_targets.count(i.target.ToString())) {
        failed->emplace_back(i.decision_id, "simulated kernel error");
        continue;
      }
      if (guard) guard(i);
      enforced[i.decision_id] = i;
      ++applies;
    }
    return Status::Ok();
  }
  Status Remove(const std::vector<Enforcement>& items) override {
    std::lock_guard lock(mu);
    for (const auto& i : items) enforced.erase(i.decision_id);
    return Status::Ok();
  }
  Status Reconcile(const std::vector<Enforcement>& active) override {
    std::lock_guard lock(mu);
    enforced.clear();
    for (const auto& i : active) {
      if (guard) guard(i);
      enforced[i.decision_id] = i;
    }
    ++reconciles;
    return Status::Ok();
  }
  Result<Drift> Measure(const std::vector<Enforcement>& active) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu);
      hook = measure_hook;
      ++measures;
    }
    if (hook) hook();  // e.g. blocks, to show the Healer measures outside its lock
    std::lock_guard lock(mu);
    Drift d;
    for (const auto& i : active)
      if (!enforced.count(i.decision_id)) d.missing.push_back(i.target.ToString());
    return d;
  }
  Status Shutdown(bool cleanup) override {
    std::lock_guard lock(mu);
    if (cleanup) enforced.clear();
    return Status::Ok();
  }
  nlohmann::json Health() const override { return {{"backend", "recording"}, {"status", "ok"}}; }

  std::set<std::string> Targets() {
    std::lock_guard lock(mu);
    std::set<std::string> out;
    for (const auto& [id, i] : enforced) out.insert(std::string(ToString(i.action)) + " " + i.target.ToString());
    return out;
  }

  std::mutex mu;
  std::map<int64_t, Enforcement> enforced;
  std::set<std::string> fail_targets;
  std::function<void(const Enforcement&)> guard;
  std::function<void()> measure_hook;  // runs at the start of Measure, without `mu`
  int applies = 0;
  int measures = 0;
  int reconciles = 0;
};

}  // namespace threatd::healing
