// One Kafka flow message -> one canonical FlowRecord (flow/flow_csv_stream.h)
// plus the identifiers that came with it.
//
// Accepted values (UTF-8 JSON; docs/kafka.md):
//   - the original's flat object of features:
//       {" Destination Port": 80, " Flow Duration": 1200, ...}
//   - an envelope: {"features": {...}, "src_ip": "...", "dst_ip": "...",
//       "src_port": 1, "dst_port": 2, "protocol": 6, "timestamp": "...",
//       "flow_id": "...", "label": "...", "sender_ip": "..."}
//   - the external providers' {"sender_ip", "timestamp", "features"}; the
//     sender comes from the Kafka header `sender_ip` first, then the payload.
// Feature names are mapped exactly like CSV headers (flow/column_aliases.h):
// canonical names, the CIC-IDS2017 names with their leading spaces, the
// improved CICFlowMeter and CSE-CIC-IDS2018 spellings; unknown keys are
// ignored. Values are numbers, numeric strings, "NaN"/"Infinity"/null
// (missing -> NaN, flow/value_policy.h). Identifiers may sit in the flat
// object (" Source IP", "Src IP", ...) or at the envelope's top level.
//
// Errors: Validation with a message naming what is wrong - it becomes the
// dead-letter `error` header: "bad JSON at byte 17: ...", "no flow features:
// none of the 3 keys ('a', 'b', 'c') is a known feature name ...",
// "feature 'Flow Bytes/s': 'abc' is not a number", "missing features ...".
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "flow/flow_csv_stream.h"

namespace threatd::kafka {

// The Kafka header carrying an external provider's address (as the original).
inline constexpr std::string_view kSenderHeader = "sender_ip";

struct FlowMessage {
  flow::FlowRecord record;     // features (NaN = absent), identifiers, label
  std::string sender_ip;       // header first, then payload "sender_ip"; "" when neither
  size_t matched_features = 0; // keys that named a canonical feature
  bool envelope = false;       // true: {"features": {...}, ...}
};

struct FlowMessageOptions {
  // Canonical feature indices every message must name (the active models'
  // inputs); a message lacking one is rejected naming them. Empty: any
  // message with at least one known feature is accepted.
  std::vector<size_t> required_features;
};

// Parses `payload`; `sender_header` is the value of the `sender_ip` header
// when the message has one.
Result<FlowMessage> ParseFlowMessage(std::string_view payload, std::optional<std::string_view> sender_header = {},
                                     const FlowMessageOptions& options = {});

}  // namespace threatd::kafka
