#include "storage/sqlite/sqlite_migrator.h"

#include <fmt/format.h>

#include "storage/micros.h"

namespace threatd::storage::sqlite {

namespace {
constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";

// A foreign key the migration left dangling, as an error that names it.
Status CheckForeignKeys(SqliteConnection& conn, const Migration& m) {
  auto q = conn.Prepare("PRAGMA foreign_key_check");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Ok();
  return Status::Internal(
      fmt::format("migration {} ({}) would leave a row of {} (rowid {}) pointing at a missing row of {}", m.version,
                  m.name, q->Text(0), q->Int64(1), q->Text(2)),
      "nothing was changed; restore the database from a backup or report the rows");
}

// One migration in one transaction, with foreign keys off while it runs and
// all of them checked before it commits: the procedure SQLite documents for
// rebuilding a table (with them on, dropping a referenced table would run
// its ON DELETE actions on the rows that refer to it). The pragma is a no-op
// inside a transaction, so it is set around it.
Status ApplyOne(SqliteConnection& conn, const Migration& m, Clock::WallTime now) {
  THREATD_RETURN_IF_ERROR(conn.Exec("PRAGMA foreign_keys = OFF"));
  Status s = conn.Exec("BEGIN IMMEDIATE");
  if (s.ok()) s = conn.Exec(m.sql);
  if (s.ok()) {
    auto insert = conn.Prepare("INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?,?,?,?)");
    s = insert.ok() ? insert->Bind(1, m.version)
                          .Bind(2, std::string_view(m.name))
                          .Bind(3, std::string_view(m.checksum))
                          .Bind(4, ToMicros(now))
                          .Run()
                    : insert.status();
  }
  if (s.ok()) s = CheckForeignKeys(conn, m);
  if (s.ok()) s = conn.Exec("COMMIT");
  if (!s.ok() && conn.InTransaction()) (void)conn.Exec("ROLLBACK");  // the original error is what matters
  Status on = conn.Exec("PRAGMA foreign_keys = ON");
  return s.ok() ? on : s;
}
}  // namespace

Result<std::vector<AppliedMigration>> ReadSqliteMigrations(SqliteConnection& conn) {
  std::vector<AppliedMigration> out;
  auto exists = conn.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!exists.ok()) return exists.status();
  auto found = exists->Step();
  if (!found.ok()) return found.status();
  if (!*found) return out;
  auto q = conn.Prepare("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
  if (!q.ok()) return q.status();
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({q->Int64(0), q->Text(1), q->Text(2), FromMicros(q->Int64(3))});
  }
  return out;
}

Result<MigrationReport> ApplySqliteMigrations(SqliteConnection& conn, const std::vector<Migration>& migrations,
                                              Clock& clock) {
  THREATD_RETURN_IF_ERROR(conn.Exec(kCreateTable).WithContext("creating schema_migrations"));
  auto applied = ReadSqliteMigrations(conn);
  if (!applied.ok()) return applied.status();
  return RunMigrations(migrations, *applied, clock, [&conn](const Migration& m, Clock::WallTime now) -> Result<bool> {
    THREATD_RETURN_IF_ERROR(ApplyOne(conn, m, now));
    return true;
  });
}

}  // namespace threatd::storage::sqlite
