// SQLite migrations: applies pending migrations on the write connection, each
// in its own BEGIN IMMEDIATE..COMMIT together with its schema_migrations row.
//
// Thread-safety: none; call on the writer thread (SqliteWriter::RunExclusive).
#pragma once

#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/migration.h"
#include "storage/sqlite/sqlite_connection.h"

namespace threatd::storage::sqlite {

Result<MigrationReport> ApplySqliteMigrations(SqliteConnection& conn, const std::vector<Migration>& migrations,
                                              Clock& clock);
// Rows of schema_migrations; empty when the table does not exist yet.
Result<std::vector<AppliedMigration>> ReadSqliteMigrations(SqliteConnection& conn);

}  // namespace threatd::storage::sqlite
