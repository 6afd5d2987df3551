// Self-healing policy: which detections lead to which decisions.
//
// A PolicyConfig is a list of rules plus the safety settings that belong to
// the policy (protected and internal networks, the IPv6 aggregation prefix,
// the circuit breaker's limit, how far back offences count). It is read from
// the config file at first start, then from the database (PUT /api/v1/policy),
// and round-trips through JSON (ParsePolicy / PolicyToJson); validation errors
// name the field, e.g. "rules[2].action: unknown action 'ban'; use one of ...".
//
// A rule matches detections by attack class (classifier label, compared
// case-insensitively; "DoS*" matches by prefix; "*" any attack class) and a
// minimum confidence, and fires when `min_detections` detections for the
// same target arrive within `window` (users ask for thresholds rather than
// acting on the first hit). Whom it acts on - the rule's `target`:
//   source       the flow's source address (external attacks: DoS, scans,
//                brute force, web attacks);
//   destination  the flow's destination address;
//   internal     the endpoint inside internal_networks (an infected host to
//                isolate: Bot, Infiltration); the source when both are;
//   external     the endpoint outside internal_networks (a command-and-control
//                peer to block); no decision when neither is.
// A flow without a usable address for the target yields an alert_admin with
// an empty target, never a block. BENIGN never matches any rule (ParsePolicy
// refuses a rule naming it). IPv6 targets are aggregated to ipv6_prefix.
//
// Durations follow the rule's escalation ladder: the n-th decision for the
// same target and action within escalation_lookback lasts durations[n]
// (capped at the last step), e.g. 10 min -> 1 h -> 24 h -> 7 d.
//
// PolicyEngine keeps the detection windows. It is not thread-safe: its owner
// (healing::Healer) serialises calls. Memory: one small entry per (rule,
// target) seen within the window; Prune() drops idle ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/ip_network.h"
#include "common/status.h"
#include "healing/backend.h"

namespace threatd::healing {

enum class TargetSide { kSource, kDestination, kInternal, kExternal };

struct Rule {
  std::string name;
  std::vector<std::string> classes;
  double min_confidence = 0.0;
  int64_t min_detections = 1;
  std::chrono::seconds window{60};
  ActionType action = ActionType::kBlockIp;
  TargetSide target = TargetSide::kSource;
  std::vector<std::chrono::seconds> durations;  // the ladder; at least one step
  int64_t rate_per_second = 0;                  // rate_limit only
  bool simulate = false;                        // record "would have", never enforce
};

struct PolicyConfig {
  std::vector<Rule> rules;
  // Never blocked, in addition to the built-in ones (loopback, link-local,
  // multicast, unspecified, this host's addresses): gateways, NAT addresses,
  // DNS servers, infrastructure ranges.
  std::vector<IpNetwork> protected_networks;
  // Which addresses are "ours" for the internal/external target sides.
  std::vector<IpNetwork> internal_networks;
  int ipv6_prefix = 64;
  // Circuit breaker: at most this many new enforced blocks per minute; beyond
  // that, new decisions become alerts until the rate falls.
  int64_t max_blocks_per_minute = 100;
  std::chrono::seconds escalation_lookback{std::chrono::hours(24 * 30)};
};

// The documented default for the CIC-IDS2017 attack classes (docs/healing.md).
PolicyConfig DefaultPolicy();
// RFC 1918, RFC 6598 shared space, IPv6 ULA.
std::vector<IpNetwork> DefaultInternalNetworks();

Result<PolicyConfig> ParsePolicy(const nlohmann::json& j);
nlohmann::json PolicyToJson(const PolicyConfig& p);

std::string_view ToString(TargetSide s);

// One attack detection of a stored flow.
struct Detection {
  std::string src_ip;
  std::string dst_ip;
  std::string attack_class;  // classifier label; "ATTACK" when not classified
  double confidence = 0;     // classifier confidence, else detector probability
  std::string model_version;
  int64_t traffic_data_id = 0;
  std::optional<int64_t> attack_prediction_id;
  Clock::WallTime at;
};

// A rule that fired: what the Healer turns into a decision (after the safety
// checks, deduplication, escalation and the circuit breaker).
struct Proposal {
  const Rule* rule = nullptr;      // into the engine's config; valid until the engine is replaced
  ActionType action = ActionType::kAlertAdmin;
  std::optional<IpNetwork> target;  // nullopt: the flow had no usable address
  std::string attack_class;
  double confidence = 0;            // the highest in the window
  std::string model_version;
  std::vector<int64_t> flows;       // traffic_data ids, the last few
  std::optional<int64_t> attack_prediction_id;  // of the detection that fired
  int64_t detections = 0;
  std::string description;
};

class PolicyEngine {
 public:
  static constexpr size_t kMaxFlowsPerProposal = 20;

  explicit PolicyEngine(PolicyConfig config);

  const PolicyConfig& config() const { return config_; }
  // Feeds one detection; returns the proposals of the rules it made fire.
  std::vector<Proposal> Observe(const Detection& d);
  // Drops windows with no detection within their rule's window.
  void Prune(Clock::WallTime now);
  size_t tracked() const { return windows_.size(); }

 private:
  struct Window {
    std::deque<std::pair<Clock::WallTime, int64_t>> hits;  // detection time, traffic_data id
    double max_confidence = 0;
  };
  std::optional<IpNetwork> Resolve(const Rule& rule, const Detection& d) const;
  bool IsInternal(const IpNetwork& a) const;

  PolicyConfig config_;
  std::map<std::pair<size_t, std::string>, Window> windows_;  // (rule index, target text)
};

// Case-insensitive; a trailing '*' matches by prefix; "*" matches anything.
bool ClassMatches(std::string_view pattern, std::string_view attack_class);

}  // namespace threatd::healing
