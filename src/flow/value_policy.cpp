#include "flow/value_policy.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace threatd::flow {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ParsedValue ParseFeatureValue(std::string_view text, bool negative_is_missing) {
  text = Trim(text);
  if (text.empty()) return {kNaN, ValueKind::kMissing};
  if (text.front() == '+') {
    text.remove_prefix(1);
    if (text.empty() || text.front() == '-' || text.front() == '+') return {kNaN, ValueKind::kInvalid};
  }
  float v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v, std::chars_format::general);
  if (ptr != end) return {kNaN, ValueKind::kInvalid};
  if (ec == std::errc::result_out_of_range) {
    // Beyond float range: huge is infinite, tiny is zero.
    double d = 0;
    auto r = std::from_chars(text.data(), end, d, std::chars_format::general);
    if (r.ec == std::errc::result_out_of_range || std::abs(d) > std::numeric_limits<float>::max()) {
      return {kNaN, ValueKind::kInfinite};
    }
    v = static_cast<float>(d);
  } else if (ec != std::errc()) {
    return {kNaN, ValueKind::kInvalid};
  }
  if (std::isnan(v)) return {kNaN, ValueKind::kMissing};
  if (std::isinf(v)) return {kNaN, ValueKind::kInfinite};
  if (negative_is_missing && v < 0) return {kNaN, ValueKind::kSentinel};
  return {v, ValueKind::kNumber};
}

void CountValue(const ParsedValue& v, ColumnStats* stats) {
  switch (v.kind) {
    case ValueKind::kInfinite:
      ++stats->missing;
      ++stats->infinite;
      break;
    case ValueKind::kSentinel:
      ++stats->missing;
      ++stats->sentinel;
      break;
    case ValueKind::kMissing:
      ++stats->missing;
      break;
    case ValueKind::kNumber:
    case ValueKind::kInvalid:
      break;
  }
}

}  // namespace threatd::flow
