#include "storage/sqlite/sqlite_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <future>
#include <vector>

#include "common/thread_name.h"

namespace threatd::storage::sqlite {

namespace {

Status RunGuarded(const SqliteWriter::Job& job, SqliteConnection& conn) {
  try {
    return job(conn);
  } catch (const std::exception& e) {  // a job must not take the writer thread down
    return Status::Internal(fmt::format("storage write job threw: {}", e.what()));
  }
}

void Deliver(const SqliteWriter::Done& done, const Status& status) {
  if (done) done(status);
}

}  // namespace

SqliteWriter::SqliteWriter(std::unique_ptr<SqliteConnection> connection, Options options, StorageStats& stats)
    : connection_(std::move(connection)), options_(options), stats_(stats), thread_([this] {
        NameThisThread("sqlite-writer");
        Loop();
      }) {}

SqliteWriter::~SqliteWriter() { Stop(); }

void SqliteWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  std::call_once(joined_, [this] { thread_.join(); });
}

Status SqliteWriter::Enqueue(Item item) {
  std::unique_lock lock(mu_);
  const bool room = not_full_.wait_for(lock, options_.enqueue_timeout,
                                       [&] { return stopping_ || queue_.size() < options_.queue_capacity; });
  if (stopping_) {
    stats_.write_rejected.Inc();
    return Status::Unavailable("the database is closed");
  }
  if (!room) {
    stats_.write_rejected.Inc();
    stats_.unavailable.Inc();
    return Status::Unavailable(
        fmt::format("the SQLite write queue stayed full ({} jobs) for {} ms", options_.queue_capacity,
                    options_.enqueue_timeout.count()),
        "the disk is slower than the write load; retry later or raise storage.write_queue_capacity");
  }
  queue_.push_back(std::move(item));
  depth_->store(queue_.size());
  lock.unlock();
  not_empty_.notify_one();
  return Status::Ok();
}

Status SqliteWriter::RunAndWait(Job job, bool exclusive) {
  const auto start = std::chrono::steady_clock::now();
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  THREATD_RETURN_IF_ERROR(
      Enqueue(Item{std::move(job), [promise](const Status& s) { promise->set_value(s); }, exclusive}));
  Status s = future.get();
  stats_.query_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return s;
}

Status SqliteWriter::Run(Job job) { return RunAndWait(std::move(job), false); }
Status SqliteWriter::RunExclusive(Job job) { return RunAndWait(std::move(job), true); }
Status SqliteWriter::Submit(Job job, Done done) { return Enqueue(Item{std::move(job), std::move(done), false}); }
Status SqliteWriter::Flush() {
  return Run([](SqliteConnection&) { return Status::Ok(); });
}

void SqliteWriter::Loop() {
  while (true) {
    std::deque<Item> batch;
    {
      std::unique_lock lock(mu_);
      not_empty_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (queue_.front().exclusive) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } else {
        while (!queue_.empty() && !queue_.front().exclusive && batch.size() < options_.max_jobs_per_commit) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      depth_->store(queue_.size());
    }
    not_full_.notify_all();
    if (batch.front().exclusive) {
      stats_.queries.Inc();
      const Status s = RunGuarded(batch.front().job, *connection_);
      if (!s.ok()) stats_.errors.Inc();
      Deliver(batch.front().done, s);
    } else {
      RunGroup(batch);
    }
  }
}

void SqliteWriter::RunGroup(std::deque<Item>& batch) {
  stats_.write_batches.Inc();
  stats_.write_batch_jobs.Observe(static_cast<double>(batch.size()));
  stats_.queries.Inc(batch.size());
  std::vector<Status> results(batch.size());
  Status group = connection_->Exec("BEGIN IMMEDIATE");
  if (group.ok()) {
    if (batch.size() == 1) {
      // A job alone needs no savepoint (SQLite would journal every page it
      // changes a second time): if it fails, the transaction is rolled back.
      results[0] = RunGuarded(batch[0].job, *connection_);
    } else {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        Status s = connection_->Exec("SAVEPOINT job");
        if (s.ok()) {
          s = RunGuarded(batch[i].job, *connection_);
          if (!s.ok()) {
            const Status undo = connection_->Exec("ROLLBACK TO job");
            if (!undo.ok()) spdlog::error("storage: rolling back a failed write job: {}", undo.ToString());
          }
          const Status release = connection_->Exec("RELEASE job");
          if (!release.ok() && s.ok()) s = release;
        }
        results[i] = std::move(s);
      }
    }
    const bool lone_job_failed = batch.size() == 1 && !results[0].ok();
    group = connection_->Exec(lone_job_failed ? "ROLLBACK" : "COMMIT");
    if (!group.ok() && connection_->InTransaction()) {
      const Status undo = connection_->Exec("ROLLBACK");
      if (!undo.ok()) spdlog::error("storage: rolling back a failed group commit: {}", undo.ToString());
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Status& s = group.ok() ? results[i] : group;
    if (!s.ok()) {
      stats_.errors.Inc();
      if (s.code() == ErrorCode::kUnavailable) stats_.unavailable.Inc();
    }
    Deliver(batch[i].done, s);
  }
}

}  // namespace threatd::storage::sqlite
