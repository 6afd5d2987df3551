// LoadDataset: labelled (or unlabelled) flow tables from CSV / CSV.gz files
// into a Dataset (dataset.h), for training, evaluation and batch prediction.
//
// Modes:
//   kCicFlowMeter  columns go through the alias table (column_aliases.h) to
//                  canonical features; identifiers (flow id, IPs, source port,
//                  timestamp) go to Dataset::identifiers, never to features;
//                  dst_port and protocol are both. Features: required_features
//                  in that order if given, else every canonical feature the
//                  first file carries, in canonical order.
//   kGeneric       any labelled table: every column that is neither the label,
//                  excluded, nor an IdentifierColumns() name is a feature. A
//                  column is categorical when at least half of its non-empty
//                  values are not numbers; it is one-hot encoded as
//                  `name=value` for its max_categories most frequent values
//                  (ties by value) plus `name=__other__` if more exist.
//                  Otherwise it is numeric, parsed by the value policy, and a
//                  non-number in it is a row error.
//   kAuto          kCicFlowMeter when the first file's header carries every
//                  required feature (if any are given) or, without required
//                  features, at least kAutoMinCicFeatures canonical ones;
//                  else kGeneric.
// Labels are normalised (labels.h). Row errors fail the load with row, column
// and value unless max_row_errors allows skipping them (Dataset::skipped_rows).
//
// Memory: the Dataset plus, in kGeneric mode, one code per categorical cell
// while loading. Files are read twice in kGeneric mode (types, then values).
// Thread-safety: stateless; blocks on file I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "flow/dataset.h"

namespace threatd::flow {

enum class LoadMode { kAuto, kCicFlowMeter, kGeneric };

inline constexpr size_t kAutoMinCicFeatures = 20;

struct LoadOptions {
  std::string label_column = "Label";       // matched after name normalisation
  bool require_label = true;                 // false for prediction on unlabelled files
  std::vector<std::string> exclude_columns;  // never features (kGeneric; ignored columns otherwise)
  LoadMode mode = LoadMode::kAuto;
  std::vector<std::string> required_features;  // e.g. a model's features; extra columns ignored
  uint64_t max_rows = 0;        // 0 = all rows, across all files
  uint64_t max_row_errors = 0;  // rows with errors that may be skipped before the load fails
  size_t max_categories = 32;   // one-hot columns per categorical column (kGeneric)
};

// Column names excluded from features by default in kGeneric mode, because
// they identify the test bed rather than the behaviour: a model that learns
// IPs, source ports, flow ids, row ids or capture times scores well on its own
// data set and fails on any other network. Compared after normalisation.
const std::vector<std::string>& IdentifierColumns();

Result<Dataset> LoadDataset(const std::vector<std::string>& files, const LoadOptions& options);

// The two modes directly (LoadDataset dispatches to them).
Result<Dataset> LoadCicFlowMeter(const std::vector<std::string>& files, const LoadOptions& options);
Result<Dataset> LoadGeneric(const std::vector<std::string>& files, const LoadOptions& options);

}  // namespace threatd::flow
