// Test fixture verbs for the storage suite: each test gets a fresh, empty
// database of the backend under test (a temp SQLite file, or a new database
// on the test PostgreSQL server from the `postgres` CTest fixture) and drops
// it afterwards.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/metrics.h"
#include "storage/database.h"

namespace threatd::storage::testing {

enum class Backend { kSqlite, kPostgresql };
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

// The URL of the test PostgreSQL server, or "" when the fixture did not run.
std::string TestPgServerUrl();

class StorageTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Opens a fresh empty database; a second call opens the same database again.
  std::unique_ptr<Database> Open(StorageOptions options = {});
  // Open() + Migrate(), asserting success.
  std::unique_ptr<Database> OpenMigrated();
  // Micro-aligned, strictly increasing timestamps.
  WallTime NextTime();

  // Raw SQL on a connection of our own, for what the repositories do not
  // offer: rows as an older threatd wrote them, counting rows. ScalarSql
  // returns the first column of the first row as an integer.
  void ExecSql(const std::string& sql);
  // ExecSql's statement, its failure returned (e.g. a constraint refusing it).
  Status TryExecSql(const std::string& sql);
  int64_t ScalarSql(const std::string& sql);
  // The planner's plan for `sql`, as text. On PostgreSQL sequential scans are
  // priced out first, so an index the query can use is the one chosen even on
  // a near-empty table.
  std::string PlanSql(const std::string& sql);
  std::string SqlitePath() const { return url_.substr(std::string("sqlite://").size()); }

  metrics::Registry registry_;
  FakeClock clock_;
  std::string url_;

 private:
  std::string sqlite_path_;
  std::string pg_database_;
};

}  // namespace threatd::storage::testing
