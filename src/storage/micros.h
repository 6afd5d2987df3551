// Conversions between Clock::WallTime and integer microseconds since the Unix
// epoch (UTC): how both backends move timestamps (SQLite stores them as
// INTEGER, PostgreSQL converts to/from timestamptz in SQL).
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace threatd::storage {

inline int64_t ToMicros(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

inline Clock::WallTime FromMicros(int64_t us) {
  return Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(std::chrono::microseconds(us)));
}

}  // namespace threatd::storage
