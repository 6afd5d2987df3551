// NftablesBackend: enforces block_ip, isolate_host and rate_limit decisions
// as elements of nftables sets, in-process through libnftables (no `nft`
// processes). The ruleset is one table of our own (inet family, default
// "threatd") with fixed rules that match whole sets; a decision is a set
// element whose kernel timeout is the decision's expiry, so bans lapse on
// time even while threatd is down. Layout and its reasons: nft_ruleset.h;
// overlapping ranges (10.0.0.0/24 plus 10.0.0.5): nft_interval_set.h.
//
//   Start()      checks that nftables can be used and creates the table,
//                sets and rules if missing (an existing table keeps its
//                elements; its rules are rewritten for the current options).
//   Apply()      one nft transaction for the whole batch; when it fails each
//                item is tried on its own and the failing ones are reported.
//   Remove()     by decision id; idempotent: lifting what the kernel already
//                dropped (or what was never applied) is fine.
//   Reconcile()  one transaction that replaces the table with exactly
//                `active` (every unexpired element with its remaining time).
//   Measure()    reads the sets back (JSON) and compares with `active`.
//   Shutdown()   deletes the table when `cleanup`, else leaves it.
//
// The backend remembers what it installed (per decision id, so ids must be
// unique); after a restart the Enforcer's Reconcile() re-establishes that.
// libnftables acts on the network namespace of the thread that calls Start().
// rate_limit uses one rate for all sources, NftablesOptions::rate_limit_per_second:
// an Enforcement's own rate_per_second, when set and different, is logged and
// not used (nftables matches a per-source meter with one rate per rule).
//
// Errors: Start() fails with Unavailable and a message saying what to do when
// nftables cannot be used (no CAP_NET_ADMIN, no nf_tables in the kernel);
// kernel rejections are Unavailable with nft's first error line.
// Thread-safety: see backend.h (one caller at a time; Health() from any thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "healing/backend.h"

namespace threatd::healing {

struct NftablesOptions {
  // Table name (family inet): letters, digits and '_', at most 32 characters.
  std::string table = "threatd";
  // Priority of our filter chains; -10 runs before the usual chains at 0.
  int chain_priority = -10;
  // Whether the Enforcer passes cleanup=true to Shutdown() (delete the
  // table on exit). Default false: bans outlive restarts.
  bool cleanup_on_shutdown = false;
  // rate_limit: packets per second allowed per source address (1..1000000).
  int64_t rate_limit_per_second = 100;

  // Validation error naming the option and the accepted values.
  Status Validate() const;
};

class NftablesBackend final : public EnforcementBackend {
 public:
  explicit NftablesBackend(NftablesOptions options, Clock& clock = Clock::System());
  ~NftablesBackend() override;
  NftablesBackend(const NftablesBackend&) = delete;
  NftablesBackend& operator=(const NftablesBackend&) = delete;

  std::string_view Name() const override { return "nftables"; }
  bool Supports(ActionType action) const override;
  Status Start() override;
  Status Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* failed) override;
  Status Remove(const std::vector<Enforcement>& items) override;
  Status Reconcile(const std::vector<Enforcement>& active) override;
  Result<Drift> Measure(const std::vector<Enforcement>& active) override;
  Status Shutdown(bool cleanup) override;
  nlohmann::json Health() const override;

  const NftablesOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::healing
