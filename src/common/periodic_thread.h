// PeriodicThread: runs a task on a thread of its own every `interval` until
// Stop(), which wakes the wait at once and joins. The background refreshers
// (data-source flags, whitelist) and the retention worker use it.
//
// Ownership: owns the thread; the task's captures must outlive Stop().
// Thread-safety: Start/Stop from one owner thread; stopping() from any
// thread (a long task polls it to end early).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace threatd {

class PeriodicThread {
 public:
  enum class FirstRun { kAfterInterval, kImmediately };

  PeriodicThread() = default;
  ~PeriodicThread() { Stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // No-op while running. After Stop() it may be started again.
  void Start(std::chrono::milliseconds interval, std::function<void()> task,
             FirstRun first = FirstRun::kAfterInterval);
  // Wakes the waiting thread and joins it. Idempotent.
  void Stop();
  bool stopping() const;

 private:
  void Loop(std::chrono::milliseconds interval, FirstRun first);

  std::function<void()> task_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace threatd
