// Flow timestamps as written by the CICFlowMeter dialects, to microseconds
// since the Unix epoch.
//
// Accepted (all read as UTC, as written; the data sets do not store a zone):
//   2017-07-03 11:57:51.590705   ISO date, space or 'T', optional fraction, optional 'Z'
//   3/7/2017 8:55                day/month/year (CIC-IDS2017), optional seconds
//   03/07/2017 08:55:58 AM       the same with a 12-hour clock (CSE-CIC-IDS2018)
// Day-first is deliberate: both CIC data sets write day/month/year. The
// original CIC-IDS2017 CSVs use a 12-hour clock without AM/PM; those times are
// taken as written (afternoon flows read as morning) - documented, not guessed.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace threatd::flow {

std::optional<int64_t> ParseFlowTimestamp(std::string_view text);

}  // namespace threatd::flow
