#include "healing/backend.h"

#include <array>
#include <utility>

namespace threatd::healing {
namespace {

constexpr std::array<std::pair<ActionType, std::string_view>, 6> kActionNames{{
    {ActionType::kBlockIp, "block_ip"},
    {ActionType::kRateLimit, "rate_limit"},
    {ActionType::kIsolateHost, "isolate_host"},
    {ActionType::kAlertAdmin, "alert_admin"},
    {ActionType::kRestartService, "restart_service"},
    {ActionType::kLogOnly, "log_only"},
}};

}  // namespace

std::string_view ToString(ActionType a) {
  for (const auto& [type, name] : kActionNames)
    if (type == a) return name;
  return "log_only";
}

std::optional<ActionType> ParseActionType(std::string_view text) {
  for (const auto& [type, name] : kActionNames)
    if (name == text) return type;
  return std::nullopt;
}

}  // namespace threatd::healing
