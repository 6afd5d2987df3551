#include "storage/sqlite/sqlite_read_pool.h"

#include <fmt/format.h>

namespace threatd::storage::sqlite {

SqliteReadPool::SqliteReadPool(std::string path, int size, std::chrono::milliseconds acquire_timeout,
                               std::chrono::milliseconds busy_timeout, StorageStats& stats)
    : path_(std::move(path)), size_(size), acquire_timeout_(acquire_timeout), busy_timeout_(busy_timeout),
      stats_(stats) {}

Result<std::unique_ptr<SqliteConnection>> SqliteReadPool::Acquire() {
  std::unique_lock lock(mu_);
  const bool got = available_.wait_for(lock, acquire_timeout_, [&] { return closed_ || !idle_.empty() || open_ < size_; });
  if (closed_) return Status::Unavailable("the database is closed");
  if (!got) {
    stats_.pool_acquire_timeouts.Inc();
    return Status::Unavailable(
        fmt::format("all {} SQLite read connections stayed busy for {} ms", size_, acquire_timeout_.count()),
        "retry later or raise storage.pool_size");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  auto conn = SqliteConnection::Open(path_, /*read_only=*/true, busy_timeout_);
  if (!conn.ok()) {
    stats_.connect_failures.Inc();
    std::lock_guard relock(mu_);
    --open_;
    available_.notify_one();
  }
  return conn;
}

void SqliteReadPool::Release(std::unique_ptr<SqliteConnection> conn) {
  {
    std::lock_guard lock(mu_);
    if (closed_ || conn == nullptr) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  available_.notify_one();
}

Status SqliteReadPool::Read(const std::function<Status(SqliteConnection&)>& fn) {
  auto conn = Acquire();
  if (!conn.ok()) {
    stats_.errors.Inc();
    stats_.unavailable.Inc();
    return conn.status();
  }
  stats_.queries.Inc();
  const auto start = std::chrono::steady_clock::now();
  Status s = fn(**conn);
  stats_.query_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!s.ok()) stats_.errors.Inc();
  // A connection left inside a transaction (a bug in fn) is not reused.
  Release((*conn)->InTransaction() ? nullptr : std::move(*conn));
  return s;
}

void SqliteReadPool::Close() {
  std::vector<std::unique_ptr<SqliteConnection>> idle;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    open_ -= static_cast<int>(idle_.size());
    idle.swap(idle_);
  }
  available_.notify_all();
}

}  // namespace threatd::storage::sqlite
