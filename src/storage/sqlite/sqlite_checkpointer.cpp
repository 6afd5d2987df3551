#include "storage/sqlite/sqlite_checkpointer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/thread_name.h"

namespace threatd::storage::sqlite {

Result<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::Open(const std::string& path, Options options,
                                                                     StorageStats& stats) {
  // A passive checkpoint never waits, so the busy timeout is moot.
  auto conn = SqliteConnection::Open(path, /*read_only=*/false, std::chrono::milliseconds(1000));
  if (!conn.ok()) return conn.status();
  auto page_size = (*conn)->PageSize();
  if (!page_size.ok()) return page_size.status();
  const int64_t round_pages = std::max<int64_t>(1, options.wal_bytes / *page_size);
  return std::unique_ptr<SqliteCheckpointer>(new SqliteCheckpointer(std::move(conn).value(), round_pages, stats));
}

SqliteCheckpointer::SqliteCheckpointer(std::unique_ptr<SqliteConnection> connection, int64_t round_pages,
                                       StorageStats& stats)
    : connection_(std::move(connection)), round_pages_(round_pages), stats_(stats), thread_([this] {
        NameThisThread("sqlite-ckpt");
        Loop();
      }) {
  shared_->next_round_at = round_pages_;
}

SqliteCheckpointer::~SqliteCheckpointer() { Stop(); }

void SqliteCheckpointer::Stop() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->wake.notify_all();
  std::call_once(joined_, [this] { thread_.join(); });
}

std::function<void(SqliteConnection&, int64_t)> SqliteCheckpointer::CommitHook() const {
  return [shared = shared_, limit = round_pages_, &stats = stats_](SqliteConnection& writer, int64_t pages) {
    std::unique_lock lock(shared->mu);
    if (shared->phase == Phase::kRestartDue && pages < shared->round_log) {
      // The passes copied the whole log before this commit began, so SQLite
      // started it over by itself: the writer waited for nothing.
      stats.wal_restarts.Inc();
      shared->phase = Phase::kIdle;
      shared->next_round_at = limit;
      return;
    }
    if (shared->phase == Phase::kRestartDue) {
      lock.unlock();
      // Only the pages committed since the last pass are left to copy.
      const auto start = std::chrono::steady_clock::now();
      const auto restarted = writer.Checkpoint(SqliteConnection::CheckpointMode::kRestartIfIdle);
      stats.wal_restart_seconds.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (restarted.ok()) {
        stats.wal_restarts.Inc();
      } else {  // a reader was using the log: next round
        stats.checkpoint_failures.Inc();
        spdlog::debug("storage: the write-ahead log was not restarted: {}", restarted.status().ToString());
      }
      lock.lock();
      shared->phase = Phase::kIdle;
      shared->next_round_at = restarted.ok() ? limit : pages + limit;
      return;
    }
    if (shared->phase == Phase::kIdle && pages >= shared->next_round_at) {
      shared->phase = Phase::kCopying;
      shared->round_log = pages;
      lock.unlock();
      shared->wake.notify_one();
    }
  };
}

Result<SqliteConnection::CheckpointResult> SqliteCheckpointer::CopyPassive() {
  auto copied = connection_->Checkpoint(SqliteConnection::CheckpointMode::kPassive);
  // Busy for an instant when it read the log's header while a commit was
  // rewriting it.
  for (int retry = 0; retry < 3 && copied.status().code() == ErrorCode::kUnavailable; ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    copied = connection_->Checkpoint(SqliteConnection::CheckpointMode::kPassive);
  }
  return copied;
}

void SqliteCheckpointer::Loop() {
  std::unique_lock lock(shared_->mu);
  while (true) {
    shared_->wake.wait(lock, [&] { return shared_->stopping || shared_->phase == Phase::kCopying; });
    if (shared_->stopping) return;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    // A pass copies what was committed while the one before ran. They stop
    // when one finds nothing new: the whole log is in the database file, and
    // the writer's next transaction starts the log over by itself (SQLite
    // does when no reader is using it), waiting for nothing. Under a load
    // that never pauses they stop after kMaxPasses, and the writer's restart
    // copies and syncs the little the last one left.
    auto copied = CopyPassive();
    int64_t last_pass = copied.ok() ? copied->copied_pages : 0;  // frames the last pass copied
    for (int pass = 1; pass < kMaxPasses && copied.ok() && last_pass > 0; ++pass) {
      const int64_t before = copied->copied_pages;
      copied = CopyPassive();
      if (copied.ok()) last_pass = copied->copied_pages - before;
    }
    if (!copied.ok()) {
      stats_.checkpoint_failures.Inc();
      spdlog::warn("storage: background checkpoint failed: {}", copied.status().ToString());
    }
    lock.lock();
    shared_->phase = Phase::kRestartDue;
    stats_.checkpoint_seconds.Observe(  // after the phase: a test waits for this count, then commits
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

}  // namespace threatd::storage::sqlite
