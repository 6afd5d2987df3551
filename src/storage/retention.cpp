#include "storage/retention.h"

#include <algorithm>

namespace threatd::storage {

RetentionWorker::RetentionWorker(TrafficRepository& traffic, RetentionOptions options, Clock& clock)
    : traffic_(traffic), options_(options), clock_(clock) {}

RetentionWorker::~RetentionWorker() { Stop(); }

void RetentionWorker::Start() {
  if (options_.days <= 0) return;
  // Failures are counted and shown in HealthCheck.
  worker_.Start(options_.interval, [this] { (void)RunOnce(); }, PeriodicThread::FirstRun::kImmediately);
}

void RetentionWorker::Stop() { worker_.Stop(); }

Result<int64_t> RetentionWorker::RunOnce() {
  if (options_.days <= 0) return int64_t{0};
  const WallTime cutoff = clock_.Now() - std::chrono::hours(24) * options_.days;
  const int64_t batch = std::max<int64_t>(1, options_.batch_rows);
  int64_t total = 0;
  while (true) {
    auto n = traffic_.DeleteTrafficBefore(cutoff, batch);
    if (!n.ok()) {
      stats_.failures.fetch_add(1);
      std::lock_guard lock(mu_);
      last_error_ = n.status().ToString();
      return n.status();
    }
    total += *n;
    stats_.rows_deleted.fetch_add(static_cast<uint64_t>(*n));
    if (*n < batch || worker_.stopping()) break;
  }
  stats_.passes.fetch_add(1);
  std::lock_guard lock(mu_);
  last_error_.clear();
  return total;
}

nlohmann::json RetentionWorker::HealthCheck() const {
  if (options_.days <= 0) return {{"status", "disabled"}, {"days", options_.days}};
  std::lock_guard lock(mu_);
  nlohmann::json j = {{"status", last_error_.empty() ? "ok" : "degraded"},
                      {"days", options_.days},
                      {"passes", stats_.passes.load()},
                      {"rows_deleted", stats_.rows_deleted.load()}};
  if (!last_error_.empty()) j["last_error"] = last_error_;
  return j;
}

}  // namespace threatd::storage
