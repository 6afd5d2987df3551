// SqliteWriter: the one thread that owns SQLite's write connection.
//
// Callers queue jobs (bounded queue). The thread takes up to
// group_commit_max_jobs queued jobs at a time and runs them in one
// BEGIN IMMEDIATE..COMMIT (a group commit), each job inside its own
// SAVEPOINT: a job that fails is rolled back to its savepoint and reports its
// own Status while the others commit. A job alone in its group runs without
// a savepoint; if it fails, the transaction is rolled back. Results are
// delivered after COMMIT, so a successful Run() means the write is durable
// (synchronous=NORMAL: durable across process crashes, possibly not across
// power loss).
//
// Exclusive jobs (migrations, reads of an in-memory database) run alone,
// outside any transaction the writer opens.
//
// Ownership: owns the connection and the thread; the StorageStats must
// outlive it. Thread-safety: all methods are thread-safe. Run/Flush block the
// caller until the job is committed; Submit blocks at most enqueue_timeout
// for room in the queue.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/storage_stats.h"

namespace threatd::storage::sqlite {

class SqliteWriter {
 public:
  using Job = std::function<Status(SqliteConnection&)>;
  using Done = std::function<void(const Status&)>;

  struct Options {
    std::size_t queue_capacity = 4096;
    std::size_t max_jobs_per_commit = 256;
    std::chrono::milliseconds enqueue_timeout{2000};
  };

  SqliteWriter(std::unique_ptr<SqliteConnection> connection, Options options, StorageStats& stats);
  ~SqliteWriter();  // Stop()
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Runs `job` in a group commit and waits for the outcome.
  Status Run(Job job);
  // Runs `job` alone, outside any writer transaction, and waits.
  Status RunExclusive(Job job);
  // Queues `job` without waiting; `done` (optional) is called on the writer
  // thread after commit. Unavailable when the queue stays full or closed.
  Status Submit(Job job, Done done = {});
  // Waits until everything queued before the call is committed.
  Status Flush();
  // Runs what is queued, then stops the thread. Idempotent.
  void Stop();

  std::size_t QueueDepth() const { return depth_->load(); }
  // The queue depth as a shared counter that may outlive the writer (for a
  // metrics callback).
  std::shared_ptr<const std::atomic<std::size_t>> DepthCounter() const { return depth_; }

 private:
  struct Item {
    Job job;
    Done done;
    bool exclusive = false;
  };
  Status Enqueue(Item item);
  Status RunAndWait(Job job, bool exclusive);
  void Loop();
  void RunGroup(std::deque<Item>& batch);

  std::unique_ptr<SqliteConnection> connection_;  // used only on thread_
  const Options options_;
  StorageStats& stats_;

  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Item> queue_;  // guarded by mu_
  std::shared_ptr<std::atomic<std::size_t>> depth_ = std::make_shared<std::atomic<std::size_t>>(0);  // == queue_.size()
  bool stopping_ = false;   // guarded by mu_
  std::once_flag joined_;
  std::thread thread_;  // last: starts in the constructor after the members above
};

}  // namespace threatd::storage::sqlite
