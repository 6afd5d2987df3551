// Writers for simulated flow records: CSV (a header of canonical names that
// threatd's own loader reads back, docs/formats/flows.md) and JSON lines (one
// flat object per flow, null for a missing value).
//
// Columns: flow_id, src_ip, src_port, dst_ip, protocol, timestamp
// ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), the profile's features in profile
// order (dst_port among them), label.
//
// Ownership: borrows the output stream, which must outlive the writer.
// Thread-safety: one writer per thread. Blocks on the stream.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "flow/flow_csv_stream.h"

namespace threatd::sim {

enum class OutputFormat { kCsv, kJsonLines };

class FlowWriter {
 public:
  // features: canonical names (e.g. TrafficProfile::features).
  FlowWriter(std::ostream& out, OutputFormat format, std::vector<std::string> features);

  void Write(const flow::FlowRecord& record);  // writes the CSV header before the first row

 private:
  std::ostream& out_;
  OutputFormat format_;
  std::vector<std::string> features_;
  std::vector<size_t> feature_index_;
  bool header_written_ = false;
  std::string line_;
};

// "2026-01-01 00:00:00.000000" for microseconds since the epoch (UTC).
std::string FormatFlowTimestamp(int64_t timestamp_us);

}  // namespace threatd::sim
