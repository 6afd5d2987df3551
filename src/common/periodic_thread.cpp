#include "common/periodic_thread.h"

namespace threatd {

void PeriodicThread::Start(std::chrono::milliseconds interval, std::function<void()> task, FirstRun first) {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  task_ = std::move(task);
  thread_ = std::thread([this, interval, first] { Loop(interval, first); });
}

void PeriodicThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PeriodicThread::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void PeriodicThread::Loop(std::chrono::milliseconds interval, FirstRun first) {
  if (first == FirstRun::kImmediately) task_();
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    task_();
    lock.lock();
  }
}

}  // namespace threatd
