// FlowCsvStream: CICFlowMeter CSV in, canonical flow records out, one row at a
// time in constant memory (issue 4's upload feeds it chunks through a
// callback ByteSource; LoadDataset uses it for whole files).
//
// Open() reads the header and maps it through the alias table; a header that
// lacks a required feature fails there, naming the missing features. Each
// Next() then yields a record (all canonical features, NaN where missing or
// absent, identifiers, normalised label) or a per-row error (row, line, column,
// value, reason) - a bad row never ends the stream. Malformed CSV (an
// unterminated quote, binary data) is a fatal Status, since no later row can be
// trusted.
//
// Ownership: owns its source. record()/row_error() are valid until the next
// Next(). Thread-safety: none; one thread at a time; Next() blocks on the source.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "flow/byte_source.h"
#include "flow/column_aliases.h"
#include "flow/csv_reader.h"
#include "flow/dataset.h"
#include "flow/features.h"

namespace threatd::flow {

// The canonical flow record.
struct FlowRecord {
  std::array<float, kFeatureCount> features{};  // canonical order; NaN = missing/absent
  RowIdentifiers ids;
  std::string label;  // normalised (labels.h); empty when there is no label column
  uint64_t row = 0;   // 1-based data row (the header is not a row)
  uint64_t line = 0;  // CSV line where the row starts
};

struct RowError {
  uint64_t row = 0;
  uint64_t line = 0;
  std::string column;  // header name as written; empty for whole-row errors
  std::string value;   // offending text (at most 64 bytes)
  std::string reason;
  // "row 12 (line 13), column 'Flow Bytes/s', value 'abc': not a number"
  std::string ToString() const;
};

struct FlowStreamOptions {
  std::string label_column = "Label";         // matched after name normalisation
  std::vector<std::string> required_features;  // canonical names or aliases; may be empty
  CsvOptions csv;
};

class FlowCsvStream {
 public:
  enum class Item { kRecord, kRowError, kEnd };

  static Result<std::unique_ptr<FlowCsvStream>> Open(std::unique_ptr<ByteSource> source,
                                                     FlowStreamOptions options = {});

  Result<Item> Next();
  const FlowRecord& record() const { return record_; }
  const RowError& row_error() const { return row_error_; }

  const std::vector<std::string>& header() const { return header_; }
  const HeaderMapping& mapping() const { return mapping_; }
  bool has_label() const { return label_column_ >= 0; }
  int label_column() const { return label_column_; }  // header index, -1 when absent
  // Per canonical feature: missing / infinite / sentinel counts so far.
  const std::array<ColumnStats, kFeatureCount>& column_stats() const { return stats_; }
  uint64_t rows() const { return rows_; }
  uint64_t row_errors() const { return row_errors_; }

 private:
  FlowCsvStream(std::unique_ptr<CsvReader> reader, FlowStreamOptions options);
  Item RowFailure(const CsvRow& row, int column, std::string_view value, std::string reason);

  std::unique_ptr<CsvReader> reader_;
  FlowStreamOptions options_;
  std::vector<std::string> header_;
  HeaderMapping mapping_;
  int label_column_ = -1;
  std::vector<int> mapped_features_;  // feature index per column (-1 = none), copied from mapping_
  std::array<ColumnStats, kFeatureCount> stats_{};
  std::unordered_map<std::string, std::string> label_cache_;  // raw -> normalised, bounded
  FlowRecord record_;
  RowError row_error_;
  uint64_t rows_ = 0;
  uint64_t row_errors_ = 0;
};

}  // namespace threatd::flow
