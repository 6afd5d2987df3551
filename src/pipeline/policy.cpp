#include "pipeline/policy.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "flow/labels.h"

namespace threatd::pipeline {
namespace {

storage::NewAction Make(std::string type, std::string description, const nlohmann::json& params) {
  storage::NewAction a;
  a.action_type = std::move(type);
  a.action_description = std::move(description);
  a.action_params_json = params.dump();
  a.status = "logged";
  return a;
}

}  // namespace

std::optional<storage::NewAction> LogOnlyPolicy::Decide(const FlowVerdict& v) const {
  if (!v.is_attack) return std::nullopt;
  const std::string& src = v.ids.src_ip;
  nlohmann::json base = {{"mode", "log_only"}, {"confidence", v.class_probability},
                         {"attack_probability", v.attack_probability}};
  if (!src.empty()) base["source_ip"] = src;
  if (!v.ids.dst_ip.empty()) base["destination_ip"] = v.ids.dst_ip;

  if (v.attack_class.empty()) {  // detector only: no class to act on
    base["message"] = "Threat detected";
    return Make("alert_admin", fmt::format("Alert admin: threat detected (P={:.3f})", v.attack_probability), base);
  }
  // Labels arrive in any spelling the model was trained with; compare canonically.
  const std::string canonical = flow::NormaliseLabel(v.attack_class);
  const std::string_view c = canonical;
  if (c == flow::kBenignLabel) return std::nullopt;  // the detector and the classifier disagree: nothing to act on
  base["attack_type"] = std::string(c);

  auto restart = [&](std::string_view service) {
    base["service"] = std::string(service);
    return Make("restart_service", fmt::format("Restarting service: {} (log-only)", service), base);
  };
  if (c == "DDoS" || c == "DoS GoldenEye") return restart("apache2");
  if (c == "DoS Slowloris" || c == "DoS Slowhttptest") return restart("nginx");
  if (c == "DoS Hulk" || c == "FTP-Patator" || c == "SSH-Patator") {
    if (src.empty()) {
      base["message"] = fmt::format("{} detected; the flow carries no source address to block", c);
      return Make("alert_admin", fmt::format("Alert admin: {} from an unknown source", c), base);
    }
    base["ip"] = src;
    return Make("block_ip", fmt::format("Blocking IP address: {} (log-only)", src), base);
  }
  base["message"] = fmt::format("{} detected", c);
  return Make("alert_admin", fmt::format("Alert admin: {} detected{}", c, src.empty() ? "" : " from " + src), base);
}

}  // namespace threatd::pipeline
