#include "flow/timestamp.h"

#include <cctype>

namespace threatd::flow {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Number(int min_digits, int max_digits, int* out) {
    int n = 0, v = 0;
    while (pos_ < s_.size() && n < max_digits && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      v = v * 10 + (s_[pos_++] - '0');
      ++n;
    }
    *out = v;
    return n >= min_digits;
  }
  bool Char(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  void Spaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool Done() const { return pos_ == s_.size(); }
  std::string_view Rest() const { return s_.substr(pos_); }
  void Skip(size_t n) { pos_ += n; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool ValidDate(int y, int m, int d) { return y >= 1970 && y < 3000 && m >= 1 && m <= 12 && d >= 1 && d <= 31; }

}  // namespace

std::optional<int64_t> ParseFlowTimestamp(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  Cursor c(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  int64_t micros = 0;
  int first = 0;
  if (!c.Number(1, 4, &first)) return std::nullopt;
  if (c.Char('-')) {  // ISO
    y = first;
    if (!c.Number(2, 2, &mo) || !c.Char('-') || !c.Number(2, 2, &d)) return std::nullopt;
    if (!c.Char('T') && !c.Char(' ')) return std::nullopt;
  } else if (c.Char('/')) {  // day/month/year
    d = first;
    if (!c.Number(1, 2, &mo) || !c.Char('/') || !c.Number(4, 4, &y)) return std::nullopt;
    c.Spaces();
  } else {
    return std::nullopt;
  }
  if (!ValidDate(y, mo, d)) return std::nullopt;
  if (!c.Number(1, 2, &h) || !c.Char(':') || !c.Number(2, 2, &mi)) return std::nullopt;
  if (c.Char(':') && !c.Number(2, 2, &s)) return std::nullopt;
  if (c.Char('.')) {
    int digits = 0;
    auto rest = c.Rest();
    while (digits < static_cast<int>(rest.size()) && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      if (digits < 6) micros = micros * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 6; ++k) micros *= 10;
    c.Skip(static_cast<size_t>(digits));
  }
  c.Spaces();
  auto rest = c.Rest();
  if (rest == "AM" || rest == "am" || rest == "PM" || rest == "pm") {
    if (h < 1 || h > 12) return std::nullopt;
    bool pm = rest[0] == 'P' || rest[0] == 'p';
    h = (h % 12) + (pm ? 12 : 0);
    c.Skip(2);
  } else {
    c.Char('Z');
  }
  if (!c.Done() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t seconds = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                    h * 3600 + mi * 60 + s;
  return seconds * 1000000 + micros;
}

}  // namespace threatd::flow
