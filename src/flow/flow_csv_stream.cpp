#include "flow/flow_csv_stream.h"

#include <charconv>
#include <limits>

#include "flow/labels.h"
#include "flow/timestamp.h"
#include "flow/value_policy.h"

namespace threatd::flow {
namespace {

constexpr size_t kMaxValueEcho = 64;
constexpr size_t kLabelCacheLimit = 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

int32_t ParseInt(std::string_view text) {
  text = Trim(text);
  int32_t v = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return -1;
  return v;
}

}  // namespace

std::string RowError::ToString() const {
  std::string s = "row " + std::to_string(row) + " (line " + std::to_string(line) + ")";
  if (!column.empty()) s += ", column '" + column + "', value '" + value + "'";
  return s + ": " + reason;
}

FlowCsvStream::FlowCsvStream(std::unique_ptr<CsvReader> reader, FlowStreamOptions options)
    : reader_(std::move(reader)), options_(std::move(options)) {}

Result<std::unique_ptr<FlowCsvStream>> FlowCsvStream::Open(std::unique_ptr<ByteSource> source,
                                                           FlowStreamOptions options) {
  auto reader = std::make_unique<CsvReader>(std::move(source), options.csv);
  auto has = reader->Next();
  if (!has.ok()) return has.status();
  if (!*has) return Status::InvalidArgument("the CSV file is empty", "upload a CSV with a header row");
  std::unique_ptr<FlowCsvStream> s(new FlowCsvStream(std::move(reader), std::move(options)));
  for (std::string_view name : s->reader_->row().fields()) s->header_.emplace_back(Trim(name));
  auto mapping = MapHeader(s->header_, s->options_.required_features);
  if (!mapping.ok()) return mapping.status();
  s->mapping_ = std::move(*mapping);
  std::string label_key = NormaliseColumnName(s->options_.label_column);
  s->mapped_features_.assign(s->header_.size(), -1);
  for (size_t c = 0; c < s->header_.size(); ++c) {
    if (s->label_column_ < 0 && !label_key.empty() && NormaliseColumnName(s->header_[c]) == label_key) {
      s->label_column_ = static_cast<int>(c);
    }
    s->mapped_features_[c] = s->mapping_.columns[c].feature;
  }
  return s;
}

FlowCsvStream::Item FlowCsvStream::RowFailure(const CsvRow& row, int column, std::string_view value,
                                              std::string reason) {
  row_error_.row = rows_;
  row_error_.line = row.line();
  row_error_.column = column >= 0 ? header_[static_cast<size_t>(column)] : std::string();
  row_error_.value = std::string(value.substr(0, kMaxValueEcho));
  row_error_.reason = std::move(reason);
  ++row_errors_;
  return Item::kRowError;
}

Result<FlowCsvStream::Item> FlowCsvStream::Next() {
  auto has = reader_->Next();
  if (!has.ok()) return has.status();
  if (!*has) return Item::kEnd;
  const CsvRow& row = reader_->row();
  ++rows_;
  if (row.size() != header_.size()) {
    return RowFailure(row, -1, {},
                      "expected " + std::to_string(header_.size()) + " fields, found " +
                          std::to_string(row.size()) + (row.size() < header_.size() ? " (truncated row?)" : ""));
  }
  record_.row = rows_;
  record_.line = row.line();
  record_.features.fill(std::numeric_limits<float>::quiet_NaN());
  const auto& features = CanonicalFeatures();
  for (size_t c = 0; c < mapped_features_.size(); ++c) {
    int f = mapped_features_[c];
    if (f < 0) continue;
    ParsedValue v = ParseFeatureValue(row[c], features[static_cast<size_t>(f)].negative_is_missing);
    if (v.kind == ValueKind::kInvalid) return RowFailure(row, static_cast<int>(c), row[c], "not a number");
    CountValue(v, &stats_[static_cast<size_t>(f)]);
    record_.features[static_cast<size_t>(f)] = v.value;
  }

  RowIdentifiers& ids = record_.ids;
  auto field = [&](IdentifierField which) -> std::string_view {
    int c = mapping_.column_of_identifier[static_cast<size_t>(which)];
    return c >= 0 ? Trim(row[static_cast<size_t>(c)]) : std::string_view();
  };
  ids.flow_id.assign(field(IdentifierField::kFlowId));
  ids.src_ip.assign(field(IdentifierField::kSrcIp));
  ids.dst_ip.assign(field(IdentifierField::kDstIp));
  ids.src_port = ParseInt(field(IdentifierField::kSrcPort));
  ids.dst_port = ParseInt(field(IdentifierField::kDstPort));
  ids.protocol = ParseInt(field(IdentifierField::kProtocol));
  auto ts = ParseFlowTimestamp(field(IdentifierField::kTimestamp));
  ids.timestamp_us = ts ? *ts : 0;

  if (label_column_ >= 0) {
    std::string_view raw = row[static_cast<size_t>(label_column_)];
    auto it = label_cache_.find(std::string(raw));
    if (it != label_cache_.end()) {
      record_.label.assign(it->second);
    } else {
      record_.label = NormaliseLabel(raw);
      if (label_cache_.size() < kLabelCacheLimit) label_cache_.emplace(std::string(raw), record_.label);
    }
  }
  return Item::kRecord;
}

}  // namespace threatd::flow
