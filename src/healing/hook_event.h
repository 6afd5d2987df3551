// Hook events: what the script and webhook backends send, and the action
// filter both use for Supports().
//
// The event is one JSON document per batch:
//   {"event": "apply" | "remove" | "reconcile",
//    "decisions": [ <Enforcement::decision>, ... ]}
// Each element is the decision as the API shows it. An item whose
// `decision` is null (a caller that did not fill it) is sent as the fields
// the backend knows: {"id", "target", "action_type", "expires_at",
// "rate_per_second"} - never silently dropped.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "healing/backend.h"

namespace threatd::healing {

enum class HookEvent { kApply, kRemove, kReconcile };

std::string_view ToString(HookEvent event);  // "apply", "remove", "reconcile"

nlohmann::json HookPayload(HookEvent event, const std::vector<Enforcement>& items);
// The payload as compact JSON text; invalid UTF-8 in a decision becomes U+FFFD
// (a description copied from a flow must not make the event unsendable).
std::string HookPayloadText(HookEvent event, const std::vector<Enforcement>& items);

// Every ActionType: the default action list of the script and webhook backends.
std::vector<ActionType> AllActionTypes();

// Parses configuration text such as {"block_ip", "rate_limit"}; Validation
// naming the unknown action and the accepted names otherwise.
Result<std::vector<ActionType>> ParseActionTypes(const std::vector<std::string>& names);

// What a hook receiver has accepted: the last Reconcile, plus successful
// Applies, minus successful Removes. Shutdown(cleanup = true) sends these as
// one "remove" event. Not thread-safe (the Enforcer's thread only).
class AcceptedDecisions {
 public:
  void Add(const std::vector<Enforcement>& items);
  void Remove(const std::vector<Enforcement>& items);
  void Reset(const std::vector<Enforcement>& items);
  std::vector<Enforcement> All() const;
  bool empty() const { return by_id_.empty(); }

 private:
  std::map<int64_t, Enforcement> by_id_;
};

}  // namespace threatd::healing
