#include "sim/flow_writer.h"

#include <cmath>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "flow/features.h"

namespace threatd::sim {
namespace {

constexpr const char* kIdentifierHeader = "flow_id,src_ip,src_port,dst_ip,protocol,timestamp";

// CSV-quotes a cell when it holds a comma, quote or line break.
std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

}  // namespace

std::string FormatFlowTimestamp(int64_t timestamp_us) {
  const UtcFields u = SplitUtc(timestamp_us);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", u.year, u.month, u.day, u.hour, u.minute, u.second,
                     u.microsecond);
}

FlowWriter::FlowWriter(std::ostream& out, OutputFormat format, std::vector<std::string> features)
    : out_(out), format_(format), features_(std::move(features)) {
  for (const auto& f : features_) feature_index_.push_back(flow::FindFeature(f).value_or(0));
}

void FlowWriter::Write(const flow::FlowRecord& r) {
  if (format_ == OutputFormat::kCsv) {
    if (!header_written_) {
      out_ << kIdentifierHeader;
      for (const auto& f : features_) out_ << ',' << f;
      out_ << ",label\n";
      header_written_ = true;
    }
    line_.clear();
    fmt::format_to(std::back_inserter(line_), "{},{},{},{},{},{}", CsvCell(r.ids.flow_id), r.ids.src_ip,
                   r.ids.src_port, r.ids.dst_ip, r.ids.protocol, FormatFlowTimestamp(r.ids.timestamp_us));
    for (size_t i : feature_index_) {
      line_ += ',';
      const float v = r.features[i];
      if (!std::isnan(v)) fmt::format_to(std::back_inserter(line_), "{}", v);
    }
    line_ += ',';
    line_ += CsvCell(r.label);
    line_ += '\n';
    out_ << line_;
    return;
  }
  nlohmann::ordered_json j;
  j["flow_id"] = r.ids.flow_id;
  j["src_ip"] = r.ids.src_ip;
  j["src_port"] = r.ids.src_port;
  j["dst_ip"] = r.ids.dst_ip;
  j["protocol"] = r.ids.protocol;
  j["timestamp"] = FormatFlowTimestamp(r.ids.timestamp_us);
  for (size_t k = 0; k < features_.size(); ++k) {
    const float v = r.features[feature_index_[k]];
    if (std::isnan(v)) {
      j[features_[k]] = nullptr;
    } else if (v == std::round(v) && std::fabs(v) < 9e15f) {
      j[features_[k]] = static_cast<int64_t>(v);  // counts, ports, flags: no ".0"
    } else {
      j[features_[k]] = v;
    }
  }
  j["label"] = r.label;
  out_ << j.dump() << '\n';
}

}  // namespace threatd::sim
