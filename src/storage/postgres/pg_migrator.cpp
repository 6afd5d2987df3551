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
  auto plan = PlanMigrations(migrations, *applied);
  if (!plan.ok()) return plan.status();
  MigrationReport report;
  for (const auto& a : *applied) report.current_version = std::max(report.current_version, a.version);
  for (const auto& m : *plan) {
    const auto now = clock.Now();
    bool ran = false;
    try {
      ran = ApplyOne(conn, m, now);
    } catch (const pqxx::sql_error& e) {
      const Status s = FromSqlError(e);
      return Status(s.code() == ErrorCode::kUnavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal,
                    fmt::format("migration {} failed and was rolled back ({}); the database stays at version {}",
                                m.name, s.message(), report.current_version),
                    "fix the migration or the database, then run `threatd migrate` again");
    }
    if (ran) report.applied.push_back({m.version, m.name, m.checksum, now});
    report.current_version = m.version;
  }
  return report;
}

}  // namespace threatd::storage::pg
