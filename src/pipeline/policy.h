// Policy: turns one scored flow into a self-healing action (or none).
//
// LogOnlyPolicy is the policy until enforcement exists (issue 5): it keeps
// the original system's mapping from attack class to action type (inventory
// §5) but acts on the flow's real source address instead of hard-coded IPs,
// never acts on BENIGN traffic, and records every action with status
// "logged": nothing is enforced.
//
// Thread-safety: Decide() is called concurrently by pipeline workers;
// implementations must be thread-safe (LogOnlyPolicy is immutable).
#pragma once

#include <optional>
#include <string_view>

#include "flow/dataset.h"
#include "storage/traffic_records.h"

namespace threatd::pipeline {

struct FlowVerdict {
  const flow::RowIdentifiers& ids;
  float attack_probability = 0;
  bool is_attack = false;
  std::string_view attack_class;  // classifier label; empty when not classified
  float class_probability = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::optional<storage::NewAction> Decide(const FlowVerdict& verdict) const = 0;
};

class LogOnlyPolicy final : public Policy {
 public:
  std::optional<storage::NewAction> Decide(const FlowVerdict& verdict) const override;
};

}  // namespace threatd::pipeline
