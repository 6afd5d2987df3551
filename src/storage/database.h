// Database: threatd's repository interface over SQLite or PostgreSQL.
//
// OpenDatabase() picks the implementation from StorageOptions::url:
//   sqlite:///abs/path.db, sqlite://rel/path.db, sqlite::memory:
//     WAL, foreign_keys=ON, synchronous=NORMAL, busy_timeout. One writer
//     thread owns the write connection; writes are queued (bounded) and
//     group-committed, each job in its own SAVEPOINT so a failing job rolls
//     back alone. Reads use a pool of read-only connections and never block
//     the writer (with :memory: reads run on the writer thread).
//   postgresql://user:pass@host:port/db (or postgres://)
//     libpqxx with a bounded, lazily filled connection pool. While the server
//     is down every call fails fast (connect_timeout) with Unavailable, so
//     opening never needs the server to be up.
//
// The record-group interfaces are separate so that a component can depend on
// only what it uses. The first groups (ApiKeyRepository, AuditRepository,
// DataSourceRepository) are base classes; the larger ones are objects of
// their own, one implementation file per backend, reached through
// Traffic(), Models(), Whitelist() and Decisions().
//
// Ownership: the caller owns the Database; the metrics::Registry passed to
// OpenDatabase and the Clock must outlive it.
// Thread-safety: every method is safe to call concurrently. Calls block on
// database I/O, bounded by the StorageOptions timeouts; never call them from
// an I/O loop thread. Errors: Unavailable (retryable) when the database
// cannot be reached or a pool/queue is exhausted, Conflict for uniqueness
// violations, NotFound as documented, Internal otherwise.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "storage/api_key_repository.h"
#include "storage/audit_repository.h"
#include "storage/change_feed.h"
#include "storage/data_source_repository.h"
#include "storage/decision_repository.h"
#include "storage/migration.h"
#include "storage/model_repository.h"
#include "storage/storage_options.h"
#include "storage/traffic_repository.h"
#include "storage/whitelist_repository.h"

namespace threatd::storage {

class Database : public ApiKeyRepository, public AuditRepository, public DataSourceRepository {
 public:
  ~Database() override = default;

  // "sqlite" or "postgresql".
  virtual std::string_view Dialect() const = 0;
  // The URL with any password replaced by "***", for logs and health output.
  virtual std::string RedactedUrl() const = 0;

  // Applies the embedded migrations that are still pending, each in its own
  // transaction. Re-running is a no-op. On failure the failing migration is
  // rolled back completely and the Status names its file and the database
  // error; the service must then refuse to start.
  Result<MigrationReport> Migrate() { return Migrate(EmbeddedMigrations(Dialect())); }
  // Same with an explicit list: the seam for tests and tools.
  virtual Result<MigrationReport> Migrate(const std::vector<Migration>& migrations) = 0;
  // Rows of schema_migrations by version; empty before the first Migrate.
  virtual Result<std::vector<AppliedMigration>> MigrationStatus() = 0;

  // Flows, predictions, actions, upload batches (traffic_repository.h).
  virtual TrafficRepository& Traffic() = 0;
  // The ml_models catalogue (model_repository.h).
  virtual ModelRepository& Models() = 0;
  // ip_whitelist (whitelist_repository.h).
  virtual WhitelistRepository& Whitelist() = 0;
  // Self-healing decisions, their history and the healing settings
  // (decision_repository.h).
  virtual DecisionRepository& Decisions() = 0;

  // Notifications of changes made by other instances (change_feed.h); null
  // when the backend has none (SQLite).
  virtual std::unique_ptr<ChangeFeed> OpenChangeFeed() { return nullptr; }

  // `SELECT 1` round trip in milliseconds; Unavailable (fast) when down.
  virtual Result<double> Ping() = 0;

  // Waits until every write queued before the call (including coalesced
  // TouchApiKey updates) is committed.
  virtual Status Flush() = 0;
  // Finishes queued writes and releases every connection. Idempotent; later
  // calls fail with Unavailable. The destructor closes.
  virtual void Close() = 0;
};

// Validates the options, parses the URL and opens the backend. For SQLite
// the file is created if missing (its directory must exist). For PostgreSQL
// no connection is made yet. InvalidArgument for a malformed URL or options.
Result<std::unique_ptr<Database>> OpenDatabase(const StorageOptions& options, metrics::Registry& registry,
                                               Clock& clock = Clock::System());

}  // namespace threatd::storage
