// HealthRegistry: the checks behind GET /api/v1/health/detailed.
//
// Each component registers a named probe returning a JSON object with at
// least "status": "ok" | "degraded" | "error" | "disabled". Nothing reports
// "ok" without having been checked: parts not built or configured say
// "disabled". Critical checks (the database) turn an error into an
// "unhealthy" overall status; any other error or degradation gives
// "degraded".
//
// Thread-safety: register at start-up, before the server runs; Evaluate() is
// safe to call concurrently. Probes may block briefly (database ping).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace threatd::api {

class HealthRegistry {
 public:
  using Probe = std::function<nlohmann::json()>;

  void Add(std::string name, Probe probe, bool critical = false);

  // {"status": "healthy|degraded|unhealthy", "checks": {name: {...}}}
  nlohmann::json Evaluate() const;

 private:
  struct Check {
    std::string name;
    Probe probe;
    bool critical;
  };
  std::vector<Check> checks_;
};

}  // namespace threatd::api
