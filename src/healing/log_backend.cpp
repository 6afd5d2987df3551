#include "healing/log_backend.h"

#include <spdlog/spdlog.h>

#include <string>

namespace threatd::healing {
namespace {

std::string Expiry(const Enforcement& e) { return e.expires_at ? FormatIso8601(*e.expires_at) : "never"; }

}  // namespace

bool LogBackend::Supports(ActionType /*action*/) const { return false; }

Status LogBackend::Start() {
  spdlog::info("healing: log backend started - decisions are recorded and logged, not enforced");
  return Status::Ok();
}

Status LogBackend::Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* /*failed*/) {
  for (const Enforcement& e : items) {
    spdlog::info("healing: log backend: apply {} {} (decision {}, expires {})", ToString(e.action),
                 e.target.ToString(), e.decision_id, Expiry(e));
  }
  applied_.fetch_add(items.size(), std::memory_order_relaxed);
  return Status::Ok();
}

Status LogBackend::Remove(const std::vector<Enforcement>& items) {
  for (const Enforcement& e : items) {
    spdlog::info("healing: log backend: remove {} {} (decision {}, expires {})", ToString(e.action),
                 e.target.ToString(), e.decision_id, Expiry(e));
  }
  removed_.fetch_add(items.size(), std::memory_order_relaxed);
  return Status::Ok();
}

Status LogBackend::Reconcile(const std::vector<Enforcement>& active) {
  spdlog::info("healing: log backend: reconcile, {} active decision(s)", active.size());
  reconciles_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Result<Drift> LogBackend::Measure(const std::vector<Enforcement>& /*active*/) { return Drift{}; }

Status LogBackend::Shutdown(bool /*cleanup*/) {
  spdlog::info("healing: log backend stopped ({} applied, {} removed)", applied_.load(), removed_.load());
  return Status::Ok();
}

nlohmann::json LogBackend::Health() const {
  return {{"backend", "log"},
          {"status", "ok"},
          {"applied", applied_.load(std::memory_order_relaxed)},
          {"removed", removed_.load(std::memory_order_relaxed)},
          {"reconciles", reconciles_.load(std::memory_order_relaxed)}};
}

}  // namespace threatd::healing
