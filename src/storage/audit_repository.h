// AuditRepository: the append-only audit trail (table audit_log).
//
// Thread-safety: implementations are safe for concurrent use; calls block on
// database I/O and must not be made from an I/O loop thread.
#pragma once

#include <vector>

#include "common/status.h"
#include "storage/records.h"

namespace threatd::storage {

class AuditRepository {
 public:
  virtual ~AuditRepository() = default;

  // entry.id is ignored; details_json must be valid JSON (Validation if not).
  virtual Status AppendAudit(const AuditEntry& entry) = 0;
  // Newest first; InvalidArgument for a limit outside 1..1000 or a negative offset.
  virtual Result<std::vector<AuditEntry>> ListAudit(const AuditQuery& query) = 0;
};

}  // namespace threatd::storage
