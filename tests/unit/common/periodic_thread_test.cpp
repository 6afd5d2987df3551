#include "common/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>

namespace threatd {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicThread, StopWakesTheWaitWithoutRunningTheTask) {
  std::atomic<int> runs{0};
  PeriodicThread t;
  t.Start(1h, [&] { ++runs; });
  t.Stop();  // would hang for an hour if the wait were not woken
  EXPECT_EQ(runs.load(), 0);
  EXPECT_TRUE(t.stopping());
}

TEST(PeriodicThread, FirstRunImmediatelyThenEveryInterval) {
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0;
  PeriodicThread t;
  t.Start(1ms, [&] {
    std::lock_guard lock(mu);
    ++runs;
    cv.notify_all();
  }, PeriodicThread::FirstRun::kImmediately);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return runs >= 3; }));
  }
  t.Stop();
  // It can be started again after Stop().
  t.Start(1h, [&] {
    std::lock_guard lock(mu);
    runs = -1;
    cv.notify_all();
  }, PeriodicThread::FirstRun::kImmediately);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return runs == -1; }));
  }
  EXPECT_FALSE(t.stopping());
  t.Stop();
}

}  // namespace
}  // namespace threatd
