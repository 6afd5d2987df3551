// Dataset: a labelled (or unlabelled) table of numeric features in memory, the
// hand-off between the flow readers (CSV, gzip, dialect mapping) and the ml
// component (training, evaluation, batch prediction).
//
// Values are row-major float32 (what tree models consume); a missing value
// (empty cell, NaN, ±Inf, a documented negative sentinel) is NaN and takes the
// trees' default branch. Categorical source columns arrive already expanded
// (one-hot) by the loader, their names recorded in `feature_names`.
//
// Thread-safety: a plain value; share read-only across threads freely.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace threatd::flow {

// Identifiers kept beside a row for self-healing and time-ordered splits;
// never model features (they leak the test bed, not the attack).
struct RowIdentifiers {
  std::string flow_id;
  std::string src_ip;
  std::string dst_ip;
  int32_t src_port = -1;
  int32_t dst_port = -1;  // also a feature when present
  int32_t protocol = -1;
  int64_t timestamp_us = 0;  // 0 when unknown
};

struct ColumnStats {
  uint64_t missing = 0;    // empty, NaN, "Infinity", ±Inf, sentinel
  uint64_t infinite = 0;   // subset of missing that was ±Inf
  uint64_t sentinel = 0;   // subset of missing that was a negative sentinel
};

struct Dataset {
  std::vector<std::string> feature_names;  // model feature order
  std::vector<float> values;               // rows() * cols(), row-major
  std::vector<std::string> labels;         // normalised class label per row; empty if unlabelled
  std::vector<RowIdentifiers> identifiers; // per row; may be empty when the source has none
  std::map<std::string, ColumnStats> column_stats;  // by feature name, for reports
  std::vector<std::string> source_files;   // provenance
  uint64_t skipped_rows = 0;               // rows dropped for errors (LoadOptions::max_row_errors)
  bool cic_flow_meter = false;             // true: feature_names are canonical CICFlowMeter names

  size_t cols() const { return feature_names.size(); }
  size_t rows() const { return cols() ? values.size() / cols() : 0; }
  const float* row(size_t i) const { return values.data() + i * cols(); }
};

}  // namespace threatd::flow
