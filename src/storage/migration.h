// Schema migrations: versioned SQL files per dialect, embedded at build time
// from migrations/<dialect>/NNNN_name.sql (see embed_migrations.cmake).
//
// Each migration runs in its own transaction and is recorded in
// schema_migrations(version, name, checksum, applied_at). A migration that
// was applied and whose text later changed is an error (checksum mismatch),
// as is a database that has versions this binary does not know.
//
// Thread-safety: the embedded list is immutable after first use; PlanMigrations
// is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace threatd::storage {

struct Migration {
  int64_t version = 0;   // from the file name's leading digits: 0001 -> 1
  std::string name;      // file name, e.g. "0001_initial.sql"
  std::string sql;
  std::string checksum;  // lowercase hex SHA-256 of sql
};

struct AppliedMigration {
  int64_t version = 0;
  std::string name;
  std::string checksum;
  Clock::WallTime applied_at;
};

struct MigrationReport {
  std::vector<AppliedMigration> applied;  // applied by this run, in order
  int64_t current_version = 0;            // highest applied version afterwards
};

// Builds a Migration from a file name and its text; InvalidArgument when the
// name does not start with a version number.
Result<Migration> MakeMigration(std::string name, std::string sql);

// The migrations compiled into this binary for "sqlite" or "postgresql",
// ordered by version. Empty for an unknown dialect.
const std::vector<Migration>& EmbeddedMigrations(std::string_view dialect);

// Which of `available` still have to run, given what the database recorded.
// Fails on a checksum mismatch, on a recorded version missing from
// `available` (the database is newer than the binary) and on duplicates.
Result<std::vector<Migration>> PlanMigrations(const std::vector<Migration>& available,
                                              const std::vector<AppliedMigration>& applied);

// Applies one migration in its own transaction at `now`; false when another
// process applied it first (nothing done). Failures carry the database error.
using ApplyMigrationFn = std::function<Result<bool>(const Migration& migration, Clock::WallTime now)>;

// The dialect-independent part of Migrate: plans `available` against
// `applied`, runs the plan in order through `apply_one`, and reports. The
// first failure stops the run with a message naming the file and the version
// the database stays at (Unavailable stays retryable, the rest is Internal).
Result<MigrationReport> RunMigrations(const std::vector<Migration>& available,
                                      const std::vector<AppliedMigration>& applied, Clock& clock,
                                      const ApplyMigrationFn& apply_one);

namespace internal {
// Filled in by the generated embedded_migrations.cpp.
struct EmbeddedMigrationFile {
  const char* dialect;
  const char* name;
  const char* sql;
};
extern const EmbeddedMigrationFile kEmbeddedMigrationFiles[];
extern const std::size_t kEmbeddedMigrationFileCount;
}  // namespace internal

}  // namespace threatd::storage
