// The canonical flow record's vocabulary: the ordered CICFlowMeter flow
// features (snake_case canonical names) and the identifier fields.
//
// Every CICFlowMeter dialect is mapped onto this list (column_aliases.h). The
// order is fixed: FlowRecord::features is indexed by it, so never reorder or
// remove entries; add new features at the end.
//
// Two features are also identifiers: dst_port and protocol (the service and
// transport are legitimate signals; source ports, IPs, flow ids and timestamps
// are not, they leak the test bed). See docs/formats/flows.md.
//
// Thread-safety: immutable tables; free functions are pure.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace threatd::flow {

inline constexpr size_t kFeatureCount = 83;

struct FeatureInfo {
  std::string_view name;     // canonical snake_case name
  bool in_every_dialect;     // false: missing from MachineLearningCVE and/or CSE-CIC-IDS2018
  bool negative_is_missing;  // a negative value is a "not applicable" sentinel (-1)
};

// All canonical features in record order.
const std::array<FeatureInfo, kFeatureCount>& CanonicalFeatures();

// Index of a canonical name (exact match), or nullopt.
std::optional<size_t> FindFeature(std::string_view canonical_name);

// Canonical names of the features every supported dialect provides (all but
// protocol, fwd/bwd_rst_flags, icmp_code, icmp_type, total_tcp_flow_time), in
// record order: what the default models use.
std::vector<std::string> CommonFeatureNames();

// The original system's 42-feature attack-classifier input, canonical names in
// its order (original-system-inventory §4.2).
std::vector<std::string> Original42FeatureNames();

// A feature value as JSON carries it. Features are float32, and a float
// widened to double prints with the widening's noise (0.1f as
// 0.10000000149011612: 17 digits where the flow had 1). Returns the double
// nearest the float's shortest decimal form (0.1), which parses back to the
// same float. A value that is not exactly a float (rows stored as binary64
// before the float32 encoding) and a non-finite one come back unchanged.
double FeatureJsonValue(double v);

// Identifier fields kept beside a record (RowIdentifiers in dataset.h).
enum class IdentifierField { kFlowId, kSrcIp, kSrcPort, kDstIp, kDstPort, kProtocol, kTimestamp };
inline constexpr size_t kIdentifierFieldCount = 7;

// "flow_id", "src_ip", ... "timestamp".
std::string_view IdentifierName(IdentifierField field);

}  // namespace threatd::flow
