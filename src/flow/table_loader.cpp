// LoadDataset dispatch, the CICFlowMeter mode and the identifier list; the
// generic mode lives in generic_loader.cpp.
#include "flow/table_loader.h"

#include <algorithm>

#include "flow/byte_source.h"
#include "flow/column_aliases.h"
#include "flow/csv_reader.h"
#include "flow/flow_csv_stream.h"

namespace threatd::flow {
namespace {

Result<std::vector<std::string>> ReadHeader(const std::string& file) {
  auto source = OpenFileSource(file);
  if (!source.ok()) return source.status();
  CsvReader reader(std::move(*source));
  auto has = reader.Next();
  if (!has.ok()) return has.status().WithContext(file);
  if (!*has) return Status::InvalidArgument(file + ": the CSV file is empty", "a header row is required");
  std::vector<std::string> header;
  for (auto f : reader.row().fields()) header.emplace_back(f);
  return header;
}

Status RowErrorStatus(const std::string& file, const RowError& e) {
  return Status::Validation(file + ": " + e.ToString(),
                            "fix the row, or allow skipping bad rows (max_row_errors)");
}

}  // namespace

const std::vector<std::string>& IdentifierColumns() {
  static const auto* columns = new std::vector<std::string>{
      "id", "Flow ID", "Src IP", "Source IP", "Dst IP", "Destination IP", "Src Port", "Source Port",
      "Timestamp",
      // UNSW-NB15 full-capture names.
      "srcip", "sport", "dstip", "stime", "ltime"};
  return *columns;
}

Result<Dataset> LoadDataset(const std::vector<std::string>& files, const LoadOptions& options) {
  if (files.empty()) return Status::InvalidArgument("no data files given", "pass at least one CSV file");
  LoadMode mode = options.mode;
  if (mode == LoadMode::kAuto) {
    auto header = ReadHeader(files.front());
    if (!header.ok()) return header.status();
    auto mapping = MapHeader(*header, options.required_features);
    bool cic = mapping.ok() && (mapping->matched_features() >= kAutoMinCicFeatures ||
                                !options.required_features.empty());
    mode = cic ? LoadMode::kCicFlowMeter : LoadMode::kGeneric;
  }
  return mode == LoadMode::kCicFlowMeter ? LoadCicFlowMeter(files, options) : LoadGeneric(files, options);
}

Result<Dataset> LoadCicFlowMeter(const std::vector<std::string>& files, const LoadOptions& options) {
  Dataset ds;
  ds.cic_flow_meter = true;
  std::vector<size_t> selected;  // canonical indexes, in output order
  std::vector<std::string> required = options.required_features;
  std::array<ColumnStats, kFeatureCount> stats{};

  for (const std::string& file : files) {
    if (options.max_rows > 0 && ds.rows() >= options.max_rows) break;
    auto source = OpenFileSource(file);
    if (!source.ok()) return source.status();
    FlowStreamOptions so;
    so.label_column = options.label_column;
    so.required_features = required;
    auto stream = FlowCsvStream::Open(std::move(*source), so);
    if (!stream.ok()) return stream.status().WithContext(file);
    FlowCsvStream& s = **stream;
    if (options.require_label && !s.has_label()) {
      return Status::Validation(file + ": label column '" + options.label_column + "' not found",
                                "name the label column (--label-column)");
    }
    if (selected.empty()) {
      // Excluded columns stay out of the features (they may still be identifiers).
      std::vector<bool> excluded(kFeatureCount, false);
      for (const auto& name : options.exclude_columns) {
        if (auto f = ResolveFeature(name)) excluded[*f] = true;
      }
      if (!options.required_features.empty()) {
        for (const auto& name : options.required_features) selected.push_back(*ResolveFeature(name));
      } else {
        for (size_t f = 0; f < kFeatureCount; ++f) {
          if (s.mapping().has_feature(f) && !excluded[f]) selected.push_back(f);
        }
        if (selected.empty()) {
          return Status::Validation(file + ": no CICFlowMeter feature columns found",
                                    "see docs/formats/flows.md for the supported column names");
        }
        // Later files must carry the same features.
        for (size_t f : selected) required.emplace_back(CanonicalFeatures()[f].name);
      }
      for (size_t f : selected) ds.feature_names.emplace_back(CanonicalFeatures()[f].name);
    }
    ds.source_files.push_back(file);
    for (;;) {
      if (options.max_rows > 0 && ds.rows() >= options.max_rows) break;
      auto item = s.Next();
      if (!item.ok()) return item.status().WithContext(file);
      if (*item == FlowCsvStream::Item::kEnd) break;
      if (*item == FlowCsvStream::Item::kRowError) {
        if (ds.skipped_rows++ >= options.max_row_errors) return RowErrorStatus(file, s.row_error());
        continue;
      }
      const FlowRecord& r = s.record();
      if (s.has_label() && r.label.empty()) {
        RowError e{r.row, r.line, options.label_column, "", "empty label"};
        if (ds.skipped_rows++ >= options.max_row_errors) return RowErrorStatus(file, e);
        continue;
      }
      for (size_t f : selected) ds.values.push_back(r.features[f]);
      ds.identifiers.push_back(r.ids);
      if (s.has_label()) ds.labels.push_back(r.label);
    }
    for (size_t f : selected) {
      stats[f].missing += s.column_stats()[f].missing;
      stats[f].infinite += s.column_stats()[f].infinite;
      stats[f].sentinel += s.column_stats()[f].sentinel;
    }
  }
  if (!ds.labels.empty() && ds.labels.size() != ds.rows()) {
    return Status::Validation("some files have a label column and some do not",
                              "give every file the label column");
  }
  for (size_t f : selected) ds.column_stats[std::string(CanonicalFeatures()[f].name)] = stats[f];
  return ds;
}

}  // namespace threatd::flow
