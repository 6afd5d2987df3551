// RetentionWorker: removes traffic older than `days` (and with it, by
// cascade, its predictions) and decisions older than `days` that are no
// longer in force (not pending/applied; with their events) in the
// background, batch_rows rows of each per transaction so the writer is never
// held for long. Decisions in force are kept whatever their age; their
// attack_prediction_id becomes NULL when the prediction goes.
//
// Start() runs a pass at once, then one every `interval`; a pass deletes
// batches until none is left (or Stop() is called). RunOnce() is one pass on
// the caller's thread, for tests and tools. days <= 0 disables the worker.
//
// Ownership: the repository and the clock must outlive the worker.
// Thread-safety: Start/Stop from one owner thread; RunOnce, Stats and
// HealthCheck are safe from any thread. Stop() wakes the thread and joins it
// (it waits for the batch in progress). The destructor stops.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/status.h"
#include "storage/traffic_repository.h"

namespace threatd::storage {

struct RetentionOptions {
  int days = 30;                                    // keep this many days; <= 0 = keep everything
  std::chrono::milliseconds interval{3'600'000};    // time between passes
  int64_t batch_rows = 5000;                        // rows deleted per transaction (>= 1)
};

struct RetentionStats {
  std::atomic<uint64_t> passes{0};
  std::atomic<uint64_t> rows_deleted{0};
  std::atomic<uint64_t> failures{0};
};

class RetentionWorker {
 public:
  RetentionWorker(TrafficRepository& traffic, RetentionOptions options, Clock& clock);
  ~RetentionWorker();
  RetentionWorker(const RetentionWorker&) = delete;
  RetentionWorker& operator=(const RetentionWorker&) = delete;

  // Starts the thread (no-op when disabled or already started).
  void Start();
  // Wakes and joins the thread. Idempotent.
  void Stop();

  // One pass: deletes every traffic row and finished decision older than
  // now - days, batch by batch. Returns the rows deleted (traffic plus
  // decisions); the first failure ends the pass.
  Result<int64_t> RunOnce();

  const RetentionStats& stats() const { return stats_; }
  // {"status": "ok|degraded|disabled", "days", "rows_deleted", "passes", "last_error"?}
  nlohmann::json HealthCheck() const;

 private:

  TrafficRepository& traffic_;
  const RetentionOptions options_;
  Clock& clock_;
  RetentionStats stats_;

  mutable std::mutex mu_;
  std::string last_error_;  // guarded by mu_; empty after a good pass
  PeriodicThread worker_;  // last: stopped first
};

}  // namespace threatd::storage
