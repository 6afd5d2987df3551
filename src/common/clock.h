// Clock: the seam for time. Production code asks a Clock for the time so that
// tests can drive expiries, timeouts and windows with a FakeClock.
//
// Thread-safety: SystemClock is stateless; FakeClock is safe to read and
// advance from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace threatd {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;       // wall-clock time, for timestamps
  virtual MonoTime Monotonic() const = 0; // for durations and deadlines

  // The process-wide real clock.
  static Clock& System();
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
};

// A clock that only moves when told to. Starts at 2026-01-01T00:00:00Z.
class FakeClock final : public Clock {
 public:
  FakeClock();
  WallTime Now() const override;
  MonoTime Monotonic() const override;
  void Advance(std::chrono::nanoseconds d) { offset_ns_ += d.count(); }

 private:
  WallTime wall_start_;
  MonoTime mono_start_;
  std::atomic<long long> offset_ns_{0};
};

// A UTC instant in calendar fields, for the formatters of the formats that
// spell one out (ISO-8601 here, CICFlowMeter CSV, PostgreSQL COPY).
struct UtcFields {
  int year;
  unsigned month, day, hour, minute, second;
  int64_t microsecond;  // within the second
};
UtcFields SplitUtc(int64_t unix_micros);

// ISO-8601 UTC with millisecond precision and a 'Z': 2026-11-22T20:34:50.123Z
std::string FormatIso8601(Clock::WallTime t);

// Parses ISO-8601 ("2026-11-22T20:34:50Z", with optional fraction and
// "+hh:mm"/"Z" offset, or a space instead of 'T'); false if malformed or
// outside the years 1900..2261 (the nanosecond clock's range).
bool ParseIso8601(std::string_view text, Clock::WallTime* out);

}  // namespace threatd
