#include "storage/storage_options.h"

#include <fmt/format.h>

namespace threatd::storage {

Status ValidateStorageOptions(const StorageOptions& o) {
  if (o.url.empty()) {
    return Status::InvalidArgument("storage.url is empty",
                                   "use sqlite:///path/threatd.db or postgresql://user:pass@host:5432/db");
  }
  if (o.pool_size < 1 || o.pool_size > 256) {
    return Status::InvalidArgument(fmt::format("storage.pool_size is {}; it must be between 1 and 256", o.pool_size));
  }
  if (o.acquire_timeout.count() <= 0) return Status::InvalidArgument("storage.acquire_timeout must be positive");
  if (o.busy_timeout.count() < 0) return Status::InvalidArgument("storage.busy_timeout must not be negative");
  if (o.write_queue_capacity < 1) return Status::InvalidArgument("storage.write_queue_capacity must be at least 1");
  if (o.group_commit_max_jobs < 1) return Status::InvalidArgument("storage.group_commit_max_jobs must be at least 1");
  if (o.statement_timeout.count() < 0) return Status::InvalidArgument("storage.statement_timeout must not be negative");
  if (o.connect_timeout.count() <= 0) return Status::InvalidArgument("storage.connect_timeout must be positive");
  return Status::Ok();
}

}  // namespace threatd::storage
