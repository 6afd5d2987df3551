// TokenBucket: admits at most `rate` events per second with a burst of one
// second's worth; used to coalesce predictions for one WebSocket client.
//
// Thread-safety: none; each bucket belongs to one thread (the hub's fan-out
// thread). Never blocks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace threatd::realtime {

class TokenBucket {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // rate 0 = unlimited. Starts full.
  TokenBucket(size_t rate, Time now) : rate_(static_cast<double>(rate)), tokens_(rate_), last_(now) {}

  // Grants up to `n` events at `now`; returns how many were granted.
  size_t Take(size_t n, Time now) {
    if (rate_ <= 0) return n;
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    if (elapsed > 0) {
      tokens_ = std::min(rate_, tokens_ + elapsed * rate_);
      last_ = now;
    }
    const auto granted = std::min(n, static_cast<size_t>(tokens_));
    tokens_ -= static_cast<double>(granted);
    return granted;
  }

 private:
  double rate_;
  double tokens_;
  Time last_;
};

}  // namespace threatd::realtime
