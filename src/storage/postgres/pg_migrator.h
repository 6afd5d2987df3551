// PostgreSQL migrations: PRIVATE to src/storage/postgres (names pqxx types).
// Each pending migration runs in its own transaction together with its
// schema_migrations row, under a transaction-scoped advisory lock so that two
// processes migrating at once apply each file exactly once.
//
// Thread-safety: uses only the connection it is given.
#pragma once

#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/migration.h"
#include "storage/postgres/pg_pool.h"

namespace threatd::storage::pg {

Result<MigrationReport> ApplyPgMigrations(pqxx::connection& conn, const std::vector<Migration>& migrations,
                                          Clock& clock);
// Rows of schema_migrations; empty when the table does not exist yet.
Result<std::vector<AppliedMigration>> ReadPgMigrations(pqxx::connection& conn);

}  // namespace threatd::storage::pg
