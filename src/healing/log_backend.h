// LogBackend: the embedded default enforcement backend. It enforces nothing:
// Supports() is false for every action, so the Enforcer records each
// decision as applied with "log backend: recorded, not enforced". It logs
// every apply/remove at info (action, target, decision id, expiry) so an
// operator can see what a real backend would have done, and counts them for
// Health().
//
// Ownership: holds nothing but counters. Errors: none; every call succeeds.
// Thread-safety: as EnforcementBackend (one caller at a time; Health() from
// any thread - the counters are atomics). No call blocks on I/O beyond the
// logger.
#pragma once

#include <atomic>
#include <cstdint>

#include "healing/backend.h"

namespace threatd::healing {

class LogBackend final : public EnforcementBackend {
 public:
  std::string_view Name() const override { return "log"; }
  bool Supports(ActionType action) const override;
  Status Start() override;
  Status Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* failed) override;
  Status Remove(const std::vector<Enforcement>& items) override;
  Status Reconcile(const std::vector<Enforcement>& active) override;
  Result<Drift> Measure(const std::vector<Enforcement>& active) override;
  Status Shutdown(bool cleanup) override;
  // {"backend": "log", "status": "ok", "applied": n, "removed": n, "reconciles": n}
  nlohmann::json Health() const override;

 private:
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> removed_{0};
  std::atomic<uint64_t> reconciles_{0};
};

}  // namespace threatd::healing
