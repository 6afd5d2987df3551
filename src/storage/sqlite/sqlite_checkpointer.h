// SqliteCheckpointer: copies the write-ahead log back into the database file
// on its own thread and connection, so that the writer does not do it inside
// a commit.
//
// With SQLite's automatic checkpoint, the commit that pushes the log past
// its limit also copies every page of the log into the database file and
// syncs it; the flows of that commit, and every write queued behind it, wait
// for the disk. Here the writer connection's commit hook only reports the
// log's size. Past `wal_bytes`, this thread copies the log without holding
// the writer off (a passive checkpoint), then again what was committed
// meanwhile, until a pass finds nothing new (at most kMaxPasses). If the
// last one copied the whole log, the writer's next transaction starts the log
// over by itself. Otherwise, at its next commit the writer copies the little
// that is left, syncs it and restarts the log from its beginning. Either
// happens only if no reader is using the log at that moment (the writer
// never waits for one; a busy log is retried once it has grown by another
// `wal_bytes`), so the log file stays bounded under a continuous write load.
//
// Ownership: owns its connection and thread. The commit hook shares a small
// state with the thread, so the writer connection may outlive the
// checkpointer. Thread-safety: CommitHook()'s function runs on the writer's
// thread; Stop() is idempotent.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/storage_stats.h"

namespace threatd::storage::sqlite {

class SqliteCheckpointer {
 public:
  struct Options {
    int64_t wal_bytes = kWalCheckpointBytes;  // log size that starts a round
  };

  static Result<std::unique_ptr<SqliteCheckpointer>> Open(const std::string& path, Options options,
                                                          StorageStats& stats);
  ~SqliteCheckpointer();  // Stop()
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // The writer connection's WAL hook (SqliteConnection::OnWalCommit).
  std::function<void(SqliteConnection& writer, int64_t wal_pages)> CommitHook() const;
  // Finishes the checkpoint under way, if any, and stops the thread.
  void Stop();

 private:
  enum class Phase { kIdle, kCopying, kRestartDue };
  struct Shared {
    std::mutex mu;
    std::condition_variable wake;
    Phase phase = Phase::kIdle;  // guarded by mu
    int64_t next_round_at = 0;   // guarded by mu: log size (pages) that starts a round
    int64_t round_log = 0;       // guarded by mu: the log's size when this round started
    bool stopping = false;       // guarded by mu
  };
  SqliteCheckpointer(std::unique_ptr<SqliteConnection> connection, int64_t round_pages, StorageStats& stats);
  Result<SqliteConnection::CheckpointResult> CopyPassive();
  void Loop();

  std::unique_ptr<SqliteConnection> connection_;  // used only on thread_
  const int64_t round_pages_;  // Options::wal_bytes in the database's pages
  static constexpr int kMaxPasses = 4;  // a round's passive copies
  StorageStats& stats_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::once_flag joined_;
  std::thread thread_;  // last: starts in the constructor after the members above
};

}  // namespace threatd::storage::sqlite
