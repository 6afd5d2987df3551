// The nftables ruleset threatd installs, as text for libnftables, and the
// reading of its sets back from `nft -j list table` output. Pure functions:
// no kernel access, so the layout is unit-tested without root.
//
// Layout (family inet, one table, default "threatd"):
//   <kind>_hosts_v4 / _v6   single addresses   flags timeout            (hash)
//   <kind>_v4 / _v6         CIDR ranges        flags interval, timeout  (rbtree)
// for kind = block, isolate, ratelimit, plus ratelimit_meter_v4/_v6, the
// per-source state of `limit rate over N/second` (dynamic, entries idle for
// 10 s are dropped, at most kMeterSize sources at a time). Sets have no
// size limit (no maxelem trap), and elements carry their own timeout.
// Chains (type filter, policy accept, priority from the options, by
// default -10 so they run before the usual filter chains at 0):
//   input    drop saddr in block, isolate; ratelimit saddr over the rate
//   forward  the same, plus drop daddr in isolate
//   output   drop daddr in isolate
// One rule per set and chain, never a rule per address.
//
// Addresses and CIDR ranges live in separate sets because nft 1.0.x reads
// the whole contents of every interval set in the table before it deletes
// (or adds with `add element`) any element: with 100,000 elements in an
// interval set that dump takes ~2 s per command. Single addresses - nearly
// every ban - sit in hash sets, which are never dumped, so removing one stays
// fast; ranges are rarely numerous. Elements are added through `table { set
// { elements = ... } }` blocks, which do not trigger the dump either.
//
// Thread-safety: pure functions and constants.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip_network.h"
#include "common/status.h"
#include "healing/backend.h"
#include "healing/nft_interval_set.h"

namespace threatd::healing::nft {

enum class SetKind { kBlock, kIsolate, kRateLimit };

// One of the 12 element sets.
struct SetId {
  SetKind kind = SetKind::kBlock;
  IpNetwork::Family family = IpNetwork::Family::kV4;
  bool hosts = true;  // single addresses (hash set) or ranges (interval set)
};

inline constexpr size_t kSetCount = 12;
inline constexpr int64_t kMeterSize = 1048576;

size_t SetIndex(const SetId& id);
SetId SetAt(size_t index);
// "block_hosts_v4", "isolate_v6", ...
std::string SetName(const SetId& id);
// The set for a target of `action` (nullopt: not enforced by nftables).
std::optional<SetKind> KindOf(ActionType action);
ActionType ActionOf(SetKind kind);
SetId SetFor(SetKind kind, const IpNetwork& target);

struct RulesetOptions {
  std::string table = "threatd";
  int chain_priority = -10;
  int64_t rate_per_second = 100;
};

// Element text for `elements = { ... }`: "10.0.0.0/24 timeout 5000ms".
// Precondition: segment.expiry_ms > now_ms.
std::string ElementText(const SetId& id, const Segment& segment, int64_t now_ms);

// "table inet <t> { <sets> <chains with rules> }". `elements`, when given,
// holds each set's element texts (by SetIndex). With `declare_only` the
// chains are declared without rules (to be flushed and refilled).
std::string TableBlock(const RulesetOptions& options, bool declare_only,
                       const std::array<std::vector<std::string>, kSetCount>* elements);
// The rules of every chain, as one table block (after the chains are flushed).
std::string RulesBlock(const RulesetOptions& options);
// A table block that adds `elements` (texts) to one set.
std::string AddElements(const RulesetOptions& options, const SetId& id, const std::vector<std::string>& elements);
// "delete element inet <t> <set> { ... }".
std::string DeleteElements(const RulesetOptions& options, const SetId& id, const std::vector<std::string>& elements);

// Ranges of each element set in `nft -j list table` output (sets absent from
// the output are empty). Internal error on output it cannot read.
Result<std::array<std::vector<Range>, kSetCount>> ParseListing(const nlohmann::json& listing);

}  // namespace threatd::healing::nft
