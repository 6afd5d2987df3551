// Eventually(cond): polls state owned by another thread until true or a
// generous timeout (a failure, never a speed assertion).
#pragma once

#include <chrono>
#include <thread>

namespace threatd::testing {

template <typename Cond>
bool Eventually(Cond cond, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace threatd::testing
