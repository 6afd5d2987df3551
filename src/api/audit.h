// Audit: records who changed what in audit_log.
//
// Every state-changing API call and CLI command writes one entry. A failure
// to write the audit entry is logged at error level and does not undo the
// change it describes (the change already happened).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http/request.h"
#include "storage/audit_repository.h"

namespace threatd::api {

// The actor of a request: the API key's name, or "anonymous".
std::string ActorOf(const http::Request& request);

void Audit(storage::AuditRepository& repo, Clock::WallTime at, std::string actor, std::string_view action,
           std::string_view target_type, std::string_view target_id, const nlohmann::json& details,
           std::string request_id);

}  // namespace threatd::api
