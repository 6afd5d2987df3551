// PgPool: a bounded pool of libpqxx connections. PRIVATE to
// src/storage/postgres: this is the one header that names pqxx types, and
// only the PostgreSQL backend's .cpp files include it (storage/database.h and
// pg_database.h stay free of them).
//
// Connections open lazily, up to `size`, with libpq's connect_timeout so a
// down server fails fast; a caller waits at most acquire_timeout for a busy
// pool. pqxx exceptions never leave Run(): they become Status values
// (broken connection / class 08 / 57P0x -> Unavailable and the connection is
// dropped; 23505 -> Conflict; 23xxx and 22xxx -> Validation; 57014 statement
// timeout -> Timeout; 40001/40P01 -> Unavailable (retry); else Internal).
//
// Ownership: owns its connections; the stats must outlive it.
// Thread-safety: Run() is thread-safe; it blocks on the pool and on I/O.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/except>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/storage_stats.h"

namespace threatd::storage::pg {

struct PgPoolOptions {
  std::string url;           // libpq URI
  std::string redacted_url;  // for messages
  int size = 4;
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds statement_timeout{30000};
  // Shown in pg_stat_activity; also names this instance in change
  // notifications (pg_change_feed.h), so it can skip its own.
  std::string application_name = "threatd";
};

class PgPool {
 public:
  PgPool(PgPoolOptions options, StorageStats& stats);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs `fn` on a leased connection, mapping every exception to a Status.
  Status Run(const std::function<Status(pqxx::connection&)>& fn);
  // Drops idle connections and refuses further calls. Idempotent.
  void Close();

  int OpenConnections() const;
  const std::string& application_name() const { return options_.application_name; }
  // A new connection outside the pool (same parameters), for a LISTEN.
  Result<std::unique_ptr<pqxx::connection>> Connect();

 private:
  Result<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn);  // null: the lease is gone

  const PgPoolOptions options_;
  const std::string conninfo_;
  StorageStats& stats_;

  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
  int open_ = 0;                                         // guarded by mu_: idle + leased + connecting
  bool closed_ = false;                                  // guarded by mu_
};

// Exact (no floating point) timestamp conversions for SQL text:
//   TimeParam(n): parameter $n, int8 epoch microseconds -> timestamptz
//   MicrosOf(col): a timestamptz expression -> int8 epoch microseconds
std::string TimeParam(int n);
std::string MicrosOf(std::string_view column);

// The Status for a PostgreSQL error, by SQLSTATE (see the mapping above).
Status FromSqlError(const pqxx::sql_error& e);

}  // namespace threatd::storage::pg
