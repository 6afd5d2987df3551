#include "api/health.h"

namespace threatd::api {

void HealthRegistry::Add(std::string name, Probe probe, bool critical) {
  checks_.push_back({std::move(name), std::move(probe), critical});
}

nlohmann::json HealthRegistry::Evaluate() const {
  nlohmann::json checks = nlohmann::json::object();
  bool unhealthy = false, degraded = false;
  for (const auto& c : checks_) {
    nlohmann::json result = c.probe();
    const std::string status = result.value("status", "error");
    if (status == "error") (c.critical ? unhealthy : degraded) = true;
    if (status == "degraded") degraded = true;
    checks[c.name] = std::move(result);
  }
  return {{"status", unhealthy ? "unhealthy" : degraded ? "degraded" : "healthy"}, {"checks", std::move(checks)}};
}

}  // namespace threatd::api
