// The missing-value policy: how a cell's text becomes a float feature value.
//
// One rule for every loader and stream (see docs/formats/flows.md):
//   - empty (after trimming spaces), `NaN`/`nan`, `Infinity`/`inf`/`-Infinity`
//     and any ±Inf (including values beyond float range) are missing;
//   - in a feature whose FeatureInfo::negative_is_missing is set (init window
//     bytes, ICMP code/type: -1 means "not applicable"), a negative value is
//     missing too;
//   - missing becomes NaN, which takes a tree's default branch;
//   - anything else that is not a number is an error for the row (the caller
//     reports row, column and value).
// Missing values are counted per column in ColumnStats (dataset.h).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "flow/dataset.h"

namespace threatd::flow {

enum class ValueKind {
  kNumber,    // a finite number
  kMissing,   // empty or NaN
  kInfinite,  // ±Inf / Infinity / out of float range (missing)
  kSentinel,  // negative "not applicable" sentinel (missing)
  kInvalid,   // not a number: a row error
};

struct ParsedValue {
  float value;  // NaN unless kind == kNumber
  ValueKind kind;
  bool missing() const { return kind == ValueKind::kMissing || kind == ValueKind::kInfinite || kind == ValueKind::kSentinel; }
};

// Parses one cell by the policy above; never allocates.
ParsedValue ParseFeatureValue(std::string_view text, bool negative_is_missing = false);

// True when the text parses as a number or a missing marker (used to decide
// whether a generic column is numeric).
inline bool IsNumericOrMissing(std::string_view text) {
  return ParseFeatureValue(text).kind != ValueKind::kInvalid;
}

// Adds one parsed value's outcome to a column's counters.
void CountValue(const ParsedValue& v, ColumnStats* stats);

}  // namespace threatd::flow
