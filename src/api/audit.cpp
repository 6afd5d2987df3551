#include "api/audit.h"

#include <spdlog/spdlog.h>

namespace threatd::api {

std::string ActorOf(const http::Request& request) {
  return request.principal ? request.principal->name : std::string("anonymous");
}

void Audit(storage::AuditRepository& repo, Clock::WallTime at, std::string actor, std::string_view action,
           std::string_view target_type, std::string_view target_id, const nlohmann::json& details,
           std::string request_id) {
  storage::AuditEntry e;
  e.created_at = at;
  e.actor = std::move(actor);
  e.action = std::string(action);
  e.target_type = std::string(target_type);
  e.target_id = std::string(target_id);
  if (!details.is_null()) e.details_json = details.dump();
  e.request_id = std::move(request_id);
  if (Status s = repo.AppendAudit(e); !s.ok()) {
    spdlog::error("audit entry for {} {} not written: {}", action, target_id, s.ToString());
  }
}

}  // namespace threatd::api
