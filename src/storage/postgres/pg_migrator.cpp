#include "storage/postgres/pg_migrator.h"

#include <fmt/format.h>

#include <algorithm>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/micros.h"

namespace threatd::storage::pg {

namespace {
// pg_advisory_xact_lock key: "threatd migrations".
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7468726561746401)";
constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version bigint PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())";

// Applies `m` unless another process did (then false); throws pqxx errors.
bool ApplyOne(pqxx::connection& conn, const Migration& m, Clock::WallTime now) {
  pqxx::work tx(conn);
  tx.exec(kLock);
  if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) return false;
  tx.exec(m.sql);
  tx.exec_params(fmt::format("INSERT INTO schema_migrations(version, name, checksum, applied_at) "
                             "VALUES ($1, $2, $3, {})",
                             TimeParam(4)),
                 m.version, m.name, m.checksum, ToMicros(now));
  tx.commit();
  return true;
}
}  // namespace

Result<std::vector<AppliedMigration>> ReadPgMigrations(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::vector<AppliedMigration> out;
  if (tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>() == false) return out;
  const auto rows = tx.exec(fmt::format(
      "SELECT version, name, checksum, {} FROM schema_migrations ORDER BY version", MicrosOf("applied_at")));
  for (const auto& r : rows) {
    out.push_back({r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), FromMicros(r[3].as<int64_t>())});
  }
  return out;
}

Result<MigrationReport> ApplyPgMigrations(pqxx::connection& conn, const std::vector<Migration>& migrations,
                                          Clock& clock) {
  {
    pqxx::work tx(conn);
    tx.exec(kLock);
    tx.exec(kCreateTable);
    tx.commit();
  }
  auto applied = ReadPgMigrations(conn);
  if (!applied.ok()) return applied.status();
  return RunMigrations(migrations, *applied, clock, [&conn](const Migration& m, Clock::WallTime now) -> Result<bool> {
    try {
      return ApplyOne(conn, m, now);
    } catch (const pqxx::sql_error& e) {
      return FromSqlError(e);
    }
  });
}

}  // namespace threatd::storage::pg
