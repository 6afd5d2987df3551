#include "common/clock.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace threatd {

Clock& Clock::System() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock()
    : wall_start_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}),
      mono_start_(std::chrono::steady_clock::time_point{}) {}

Clock::WallTime FakeClock::Now() const {
  return wall_start_ + std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(offset_ns_.load()));
}

Clock::MonoTime FakeClock::Monotonic() const {
  return mono_start_ + std::chrono::nanoseconds(offset_ns_.load());
}

UtcFields SplitUtc(int64_t unix_micros) {
  using namespace std::chrono;
  const sys_time<microseconds> t{microseconds(unix_micros)};
  const sys_days day = floor<days>(t);  // toward the past, so times before 1970 work too
  const year_month_day ymd{day};
  const int64_t in_day = (t - day).count();
  const auto s = static_cast<unsigned>(in_day / 1'000'000);
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
          s / 3600, s / 60 % 60, s % 60, in_day % 1'000'000};
}

std::string FormatIso8601(Clock::WallTime t) {
  using namespace std::chrono;
  const int64_t ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const UtcFields u = SplitUtc(ms * 1000);
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"), u.year, u.month, u.day, u.hour,
                     u.minute, u.second, u.microsecond / 1000);
}

namespace {
bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  const char* b = s.data() + pos;
  auto [p, ec] = std::from_chars(b, b + len, *out);
  return ec == std::errc() && p == b + len;
}
}  // namespace

bool ParseIso8601(std::string_view s, Clock::WallTime* out) {
  using namespace std::chrono;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!ReadInt(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !ReadInt(s, 5, 2, &mo) || s[7] != '-' ||
      !ReadInt(s, 8, 2, &d))
    return false;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!ReadInt(s, pos + 1, 2, &h) || s.size() < pos + 9 || s[pos + 3] != ':' || !ReadInt(s, pos + 4, 2, &mi) ||
        s[pos + 6] != ':' || !ReadInt(s, pos + 7, 2, &sec))
      return false;
    pos += 9;
  }
  long long frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    long long scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  int offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      ++pos;
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!ReadInt(s, pos + 1, 2, &oh) || !ReadInt(s, pos + 4, 2, &om)) return false;
      offset_min = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
      pos = s.size();
    } else {
      return false;
    }
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // WallTime counts nanoseconds in 64 bits: years outside 1678..2261 would
  // wrap. Refuse them (and anything before 1900, which no flow carries).
  if (!ymd.ok() || y < 1900 || y > 2261 || h > 23 || mi > 59 || sec > 60) return false;
  auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + nanoseconds{frac_ns} - minutes{offset_min};
  *out = time_point_cast<Clock::WallTime::duration>(tp);
  return true;
}

}  // namespace threatd
