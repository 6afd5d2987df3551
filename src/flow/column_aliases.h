// Column aliases: maps the header names of every supported CICFlowMeter
// dialect onto canonical features and identifier fields (features.h).
//
// Dialects: (a) original CIC-IDS2017 GeneratedLabelledFlows and
// MachineLearningCVE (leading spaces, `Total Backward Packets`, a duplicated
// `Fwd Header Length` whose second copy is ignored); (b) the improved
// CICFlowMeter names (`Total Fwd Packet`, `FWD Init Win Bytes`); (c)
// CSE-CIC-IDS2018 short names (`Tot Fwd Pkts`, `Flow Byts/s`); (d) the original
// system's 42-feature subset, spelt as (a). Canonical names map to themselves.
//
// Names are normalised before lookup (NormaliseColumnName): trimmed, ASCII
// lower-cased, every character other than a-z and 0-9 dropped, so
// ` Fwd Header Length`, `fwd_header_length` and `FWD-Header-Length` are one
// name. Unknown columns are ignored, never guessed at.
//
// Thread-safety: the table is immutable after first use (thread-safe static
// initialisation); all functions are safe to call concurrently.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "flow/features.h"

namespace threatd::flow {

enum class Dialect { kCanonical, kCicIds2017, kImproved, kCseCicIds2018, kIdentifier };

struct AliasEntry {
  std::string_view header;     // as the dialect spells it (trimmed)
  Dialect dialect;
  std::string_view canonical;  // a canonical feature or identifier name
};

// What a header column means; both may be set (dst_port, protocol).
struct ColumnRole {
  int feature = -1;  // index into CanonicalFeatures(), -1 if none
  std::optional<IdentifierField> identifier;
  bool known() const { return feature >= 0 || identifier.has_value(); }
};

// Every alias in the table (for tests and docs/formats/flows.md).
const std::vector<AliasEntry>& AllAliases();

std::string NormaliseColumnName(std::string_view name);

// The role of one header name; ColumnRole{} (not known()) when unknown.
ColumnRole LookupColumn(std::string_view header_name);

struct HeaderMapping {
  std::vector<ColumnRole> columns;  // one per header column; duplicates get {}
  std::array<int, kFeatureCount> column_of_feature;            // -1 = absent
  std::array<int, kIdentifierFieldCount> column_of_identifier;  // -1 = absent
  std::vector<std::string> ignored_columns;    // unknown names, as written
  std::vector<std::string> duplicate_columns;  // later copies of a mapped name

  size_t matched_features() const;
  bool has_feature(size_t index) const { return column_of_feature[index] >= 0; }
};

// Maps `header`. `required_features` (canonical names or any alias; may be
// empty) must all be present, else a Validation error:
//   "missing 'flow_duration', 'fwd_iat_min' (matched 40 of 42 features); see docs/formats/flows.md"
// A required name that is no known feature is an InvalidArgument error.
Result<HeaderMapping> MapHeader(const std::vector<std::string>& header,
                                const std::vector<std::string>& required_features = {});

// Resolves a feature name (canonical or alias) to its canonical index.
std::optional<size_t> ResolveFeature(std::string_view name);

}  // namespace threatd::flow
