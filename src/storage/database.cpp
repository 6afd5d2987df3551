#include "storage/database.h"

#include "storage/database_url.h"
#include "storage/postgres/pg_database.h"
#include "storage/sqlite/sqlite_database.h"

namespace threatd::storage {

Result<std::unique_ptr<Database>> OpenDatabase(const StorageOptions& options, metrics::Registry& registry,
                                               Clock& clock) {
  THREATD_RETURN_IF_ERROR(ValidateStorageOptions(options));
  auto url = ParseDatabaseUrl(options.url);
  if (!url.ok()) return url.status();
  if (url->kind == DatabaseKind::kSqlite) return OpenSqliteDatabase(*url, options, registry, clock);
  return OpenPgDatabase(*url, options, registry, clock);
}

}  // namespace threatd::storage
