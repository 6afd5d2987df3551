#include "flow/column_aliases.h"

#include <unordered_map>

namespace threatd::flow {
namespace {

// canonical, CIC-IDS2017 original, improved CICFlowMeter, CSE-CIC-IDS2018.
// An empty string: the dialect has no such column.
struct Row {
  std::string_view canonical, original, improved, cse2018;
};

constexpr Row kRows[] = {
    {"dst_port", "Destination Port", "Dst Port", "Dst Port"},
    {"protocol", "Protocol", "Protocol", "Protocol"},
    {"flow_duration", "Flow Duration", "Flow Duration", "Flow Duration"},
    {"total_fwd_packets", "Total Fwd Packets", "Total Fwd Packet", "Tot Fwd Pkts"},
    {"total_bwd_packets", "Total Backward Packets", "Total Bwd packets", "Tot Bwd Pkts"},
    {"total_length_fwd_packets", "Total Length of Fwd Packets", "Total Length of Fwd Packet", "TotLen Fwd Pkts"},
    {"total_length_bwd_packets", "Total Length of Bwd Packets", "Total Length of Bwd Packet", "TotLen Bwd Pkts"},
    {"fwd_packet_length_max", "Fwd Packet Length Max", "Fwd Packet Length Max", "Fwd Pkt Len Max"},
    {"fwd_packet_length_min", "Fwd Packet Length Min", "Fwd Packet Length Min", "Fwd Pkt Len Min"},
    {"fwd_packet_length_mean", "Fwd Packet Length Mean", "Fwd Packet Length Mean", "Fwd Pkt Len Mean"},
    {"fwd_packet_length_std", "Fwd Packet Length Std", "Fwd Packet Length Std", "Fwd Pkt Len Std"},
    {"bwd_packet_length_max", "Bwd Packet Length Max", "Bwd Packet Length Max", "Bwd Pkt Len Max"},
    {"bwd_packet_length_min", "Bwd Packet Length Min", "Bwd Packet Length Min", "Bwd Pkt Len Min"},
    {"bwd_packet_length_mean", "Bwd Packet Length Mean", "Bwd Packet Length Mean", "Bwd Pkt Len Mean"},
    {"bwd_packet_length_std", "Bwd Packet Length Std", "Bwd Packet Length Std", "Bwd Pkt Len Std"},
    {"flow_bytes_per_s", "Flow Bytes/s", "Flow Bytes/s", "Flow Byts/s"},
    {"flow_packets_per_s", "Flow Packets/s", "Flow Packets/s", "Flow Pkts/s"},
    {"flow_iat_mean", "Flow IAT Mean", "Flow IAT Mean", "Flow IAT Mean"},
    {"flow_iat_std", "Flow IAT Std", "Flow IAT Std", "Flow IAT Std"},
    {"flow_iat_max", "Flow IAT Max", "Flow IAT Max", "Flow IAT Max"},
    {"flow_iat_min", "Flow IAT Min", "Flow IAT Min", "Flow IAT Min"},
    {"fwd_iat_total", "Fwd IAT Total", "Fwd IAT Total", "Fwd IAT Tot"},
    {"fwd_iat_mean", "Fwd IAT Mean", "Fwd IAT Mean", "Fwd IAT Mean"},
    {"fwd_iat_std", "Fwd IAT Std", "Fwd IAT Std", "Fwd IAT Std"},
    {"fwd_iat_max", "Fwd IAT Max", "Fwd IAT Max", "Fwd IAT Max"},
    {"fwd_iat_min", "Fwd IAT Min", "Fwd IAT Min", "Fwd IAT Min"},
    {"bwd_iat_total", "Bwd IAT Total", "Bwd IAT Total", "Bwd IAT Tot"},
    {"bwd_iat_mean", "Bwd IAT Mean", "Bwd IAT Mean", "Bwd IAT Mean"},
    {"bwd_iat_std", "Bwd IAT Std", "Bwd IAT Std", "Bwd IAT Std"},
    {"bwd_iat_max", "Bwd IAT Max", "Bwd IAT Max", "Bwd IAT Max"},
    {"bwd_iat_min", "Bwd IAT Min", "Bwd IAT Min", "Bwd IAT Min"},
    {"fwd_psh_flags", "Fwd PSH Flags", "Fwd PSH Flags", "Fwd PSH Flags"},
    {"bwd_psh_flags", "Bwd PSH Flags", "Bwd PSH Flags", "Bwd PSH Flags"},
    {"fwd_urg_flags", "Fwd URG Flags", "Fwd URG Flags", "Fwd URG Flags"},
    {"bwd_urg_flags", "Bwd URG Flags", "Bwd URG Flags", "Bwd URG Flags"},
    {"fwd_rst_flags", "", "Fwd RST Flags", ""},
    {"bwd_rst_flags", "", "Bwd RST Flags", ""},
    {"fwd_header_length", "Fwd Header Length", "Fwd Header Length", "Fwd Header Len"},
    {"bwd_header_length", "Bwd Header Length", "Bwd Header Length", "Bwd Header Len"},
    {"fwd_packets_per_s", "Fwd Packets/s", "Fwd Packets/s", "Fwd Pkts/s"},
    {"bwd_packets_per_s", "Bwd Packets/s", "Bwd Packets/s", "Bwd Pkts/s"},
    {"packet_length_min", "Min Packet Length", "Packet Length Min", "Pkt Len Min"},
    {"packet_length_max", "Max Packet Length", "Packet Length Max", "Pkt Len Max"},
    {"packet_length_mean", "Packet Length Mean", "Packet Length Mean", "Pkt Len Mean"},
    {"packet_length_std", "Packet Length Std", "Packet Length Std", "Pkt Len Std"},
    {"packet_length_variance", "Packet Length Variance", "Packet Length Variance", "Pkt Len Var"},
    {"fin_flag_count", "FIN Flag Count", "FIN Flag Count", "FIN Flag Cnt"},
    {"syn_flag_count", "SYN Flag Count", "SYN Flag Count", "SYN Flag Cnt"},
    {"rst_flag_count", "RST Flag Count", "RST Flag Count", "RST Flag Cnt"},
    {"psh_flag_count", "PSH Flag Count", "PSH Flag Count", "PSH Flag Cnt"},
    {"ack_flag_count", "ACK Flag Count", "ACK Flag Count", "ACK Flag Cnt"},
    {"urg_flag_count", "URG Flag Count", "URG Flag Count", "URG Flag Cnt"},
    // The original tools wrote "CWE" for the CWR flag.
    {"cwr_flag_count", "CWE Flag Count", "CWR Flag Count", "CWE Flag Count"},
    {"ece_flag_count", "ECE Flag Count", "ECE Flag Count", "ECE Flag Cnt"},
    {"down_up_ratio", "Down/Up Ratio", "Down/Up Ratio", "Down/Up Ratio"},
    {"average_packet_size", "Average Packet Size", "Average Packet Size", "Pkt Size Avg"},
    {"fwd_segment_size_avg", "Avg Fwd Segment Size", "Fwd Segment Size Avg", "Fwd Seg Size Avg"},
    {"bwd_segment_size_avg", "Avg Bwd Segment Size", "Bwd Segment Size Avg", "Bwd Seg Size Avg"},
    {"fwd_bytes_bulk_avg", "Fwd Avg Bytes/Bulk", "Fwd Bytes/Bulk Avg", "Fwd Byts/b Avg"},
    {"fwd_packets_bulk_avg", "Fwd Avg Packets/Bulk", "Fwd Packet/Bulk Avg", "Fwd Pkts/b Avg"},
    {"fwd_bulk_rate_avg", "Fwd Avg Bulk Rate", "Fwd Bulk Rate Avg", "Fwd Blk Rate Avg"},
    {"bwd_bytes_bulk_avg", "Bwd Avg Bytes/Bulk", "Bwd Bytes/Bulk Avg", "Bwd Byts/b Avg"},
    {"bwd_packets_bulk_avg", "Bwd Avg Packets/Bulk", "Bwd Packet/Bulk Avg", "Bwd Pkts/b Avg"},
    {"bwd_bulk_rate_avg", "Bwd Avg Bulk Rate", "Bwd Bulk Rate Avg", "Bwd Blk Rate Avg"},
    {"subflow_fwd_packets", "Subflow Fwd Packets", "Subflow Fwd Packets", "Subflow Fwd Pkts"},
    {"subflow_fwd_bytes", "Subflow Fwd Bytes", "Subflow Fwd Bytes", "Subflow Fwd Byts"},
    {"subflow_bwd_packets", "Subflow Bwd Packets", "Subflow Bwd Packets", "Subflow Bwd Pkts"},
    {"subflow_bwd_bytes", "Subflow Bwd Bytes", "Subflow Bwd Bytes", "Subflow Bwd Byts"},
    {"init_fwd_win_bytes", "Init_Win_bytes_forward", "FWD Init Win Bytes", "Init Fwd Win Byts"},
    {"init_bwd_win_bytes", "Init_Win_bytes_backward", "Bwd Init Win Bytes", "Init Bwd Win Byts"},
    {"fwd_act_data_packets", "act_data_pkt_fwd", "Fwd Act Data Pkts", "Fwd Act Data Pkts"},
    {"fwd_seg_size_min", "min_seg_size_forward", "Fwd Seg Size Min", "Fwd Seg Size Min"},
    {"active_mean", "Active Mean", "Active Mean", "Active Mean"},
    {"active_std", "Active Std", "Active Std", "Active Std"},
    {"active_max", "Active Max", "Active Max", "Active Max"},
    {"active_min", "Active Min", "Active Min", "Active Min"},
    {"idle_mean", "Idle Mean", "Idle Mean", "Idle Mean"},
    {"idle_std", "Idle Std", "Idle Std", "Idle Std"},
    {"idle_max", "Idle Max", "Idle Max", "Idle Max"},
    {"idle_min", "Idle Min", "Idle Min", "Idle Min"},
    {"icmp_code", "", "ICMP Code", ""},
    {"icmp_type", "", "ICMP Type", ""},
    {"total_tcp_flow_time", "", "Total TCP Flow Time", ""},
};

// Identifier columns (dst_port and protocol are features too, above).
constexpr AliasEntry kIdentifierAliases[] = {
    {"Flow ID", Dialect::kIdentifier, "flow_id"},
    {"Source IP", Dialect::kIdentifier, "src_ip"},
    {"Src IP", Dialect::kIdentifier, "src_ip"},
    {"Source Port", Dialect::kIdentifier, "src_port"},
    {"Src Port", Dialect::kIdentifier, "src_port"},
    {"Destination IP", Dialect::kIdentifier, "dst_ip"},
    {"Dst IP", Dialect::kIdentifier, "dst_ip"},
    {"Timestamp", Dialect::kIdentifier, "timestamp"},
};

std::optional<IdentifierField> IdentifierByName(std::string_view canonical) {
  for (size_t i = 0; i < kIdentifierFieldCount; ++i) {
    auto f = static_cast<IdentifierField>(i);
    if (IdentifierName(f) == canonical) return f;
  }
  return std::nullopt;
}

std::vector<AliasEntry> BuildAliases() {
  std::vector<AliasEntry> out;
  for (const auto& f : CanonicalFeatures()) out.push_back({f.name, Dialect::kCanonical, f.name});
  for (size_t i = 0; i < kIdentifierFieldCount; ++i) {
    auto name = IdentifierName(static_cast<IdentifierField>(i));
    if (!FindFeature(name)) out.push_back({name, Dialect::kCanonical, name});
  }
  for (const Row& r : kRows) {
    if (!r.original.empty()) out.push_back({r.original, Dialect::kCicIds2017, r.canonical});
    if (!r.improved.empty()) out.push_back({r.improved, Dialect::kImproved, r.canonical});
    if (!r.cse2018.empty()) out.push_back({r.cse2018, Dialect::kCseCicIds2018, r.canonical});
  }
  for (const auto& a : kIdentifierAliases) out.push_back(a);
  return out;
}

ColumnRole RoleOf(std::string_view canonical) {
  ColumnRole role;
  if (auto f = FindFeature(canonical)) role.feature = static_cast<int>(*f);
  role.identifier = IdentifierByName(canonical);
  return role;
}

const std::unordered_map<std::string, ColumnRole>& Table() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string, ColumnRole>();
    for (const AliasEntry& a : AllAliases()) {
      // First entry wins; the alias test checks there are no conflicts.
      t->emplace(NormaliseColumnName(a.header), RoleOf(a.canonical));
    }
    return t;
  }();
  return *table;
}

// (Built with append: GCC 12 -O3 warns falsely (-Wrestrict) on "'" + s + "'".)
std::string Quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  out.append(s);
  out.push_back('\'');
  return out;
}

}  // namespace

const std::vector<AliasEntry>& AllAliases() {
  static const auto* aliases = new std::vector<AliasEntry>(BuildAliases());
  return *aliases;
}

std::string NormaliseColumnName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    }
  }
  return out;
}

ColumnRole LookupColumn(std::string_view header_name) {
  const auto& t = Table();
  auto it = t.find(NormaliseColumnName(header_name));
  return it == t.end() ? ColumnRole{} : it->second;
}

std::optional<size_t> ResolveFeature(std::string_view name) {
  if (auto f = FindFeature(name)) return f;
  ColumnRole role = LookupColumn(name);
  if (role.feature >= 0) return static_cast<size_t>(role.feature);
  return std::nullopt;
}

size_t HeaderMapping::matched_features() const {
  size_t n = 0;
  for (int c : column_of_feature) n += c >= 0 ? 1 : 0;
  return n;
}

Result<HeaderMapping> MapHeader(const std::vector<std::string>& header,
                                const std::vector<std::string>& required_features) {
  HeaderMapping m;
  m.column_of_feature.fill(-1);
  m.column_of_identifier.fill(-1);
  m.columns.resize(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    ColumnRole role = LookupColumn(header[c]);
    if (!role.known()) {
      m.ignored_columns.push_back(header[c]);
      continue;
    }
    bool duplicate = (role.feature >= 0 && m.column_of_feature[role.feature] >= 0) ||
                     (role.identifier && m.column_of_identifier[static_cast<size_t>(*role.identifier)] >= 0);
    if (duplicate) {  // e.g. the second " Fwd Header Length" of CIC-IDS2017: a copy
      m.duplicate_columns.push_back(header[c]);
      continue;
    }
    m.columns[c] = role;
    if (role.feature >= 0) m.column_of_feature[role.feature] = static_cast<int>(c);
    if (role.identifier) m.column_of_identifier[static_cast<size_t>(*role.identifier)] = static_cast<int>(c);
  }

  std::string missing;
  size_t missing_count = 0;
  for (const std::string& name : required_features) {
    auto index = ResolveFeature(name);
    if (!index) {
      return Status::InvalidArgument("required feature " + Quoted(name) + " is not a CICFlowMeter feature",
                                     "use the canonical names listed in docs/formats/flows.md");
    }
    if (m.has_feature(*index)) continue;
    if (missing_count++ > 0) missing += ", ";
    missing += Quoted(CanonicalFeatures()[*index].name);
  }
  if (missing_count > 0) {
    return Status::Validation(
        "missing " + missing + " (matched " + std::to_string(required_features.size() - missing_count) +
            " of " + std::to_string(required_features.size()) + " features); see docs/formats/flows.md",
        "the columns can use any supported dialect's names (CIC-IDS2017, improved CICFlowMeter, "
        "CSE-CIC-IDS2018)");
  }
  return m;
}

}  // namespace threatd::flow
