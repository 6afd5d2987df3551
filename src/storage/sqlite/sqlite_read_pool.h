// SqliteReadPool: a small pool of read-only connections to a WAL database.
// In WAL mode readers see the last committed state and never block the
// writer (nor does the writer block them).
//
// Connections are opened lazily up to `size`; a caller waits at most
// acquire_timeout for one, then gets Unavailable.
//
// Ownership: owns its connections. Thread-safety: Read() is thread-safe and
// blocks on the pool and on SQLite I/O.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/storage_stats.h"

namespace threatd::storage::sqlite {

class SqliteReadPool {
 public:
  SqliteReadPool(std::string path, int size, std::chrono::milliseconds acquire_timeout,
                 std::chrono::milliseconds busy_timeout, StorageStats& stats);

  // Runs `fn` on a pooled read-only connection.
  Status Read(const std::function<Status(SqliteConnection&)>& fn);
  // Closes idle connections and refuses further reads. Idempotent.
  void Close();

 private:
  Result<std::unique_ptr<SqliteConnection>> Acquire();
  void Release(std::unique_ptr<SqliteConnection> conn);

  const std::string path_;
  const int size_;
  const std::chrono::milliseconds acquire_timeout_;
  const std::chrono::milliseconds busy_timeout_;
  StorageStats& stats_;

  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                         // guarded by mu_: idle + leased
  bool closed_ = false;                                  // guarded by mu_
};

}  // namespace threatd::storage::sqlite
