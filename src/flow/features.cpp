#include "flow/features.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace threatd::flow {
namespace {

constexpr bool kAll = true;
constexpr bool kSome = false;

constexpr std::array<FeatureInfo, kFeatureCount> kFeatures = {{
    {"dst_port", kAll, false},
    {"protocol", kSome, false},
    {"flow_duration", kAll, false},
    {"total_fwd_packets", kAll, false},
    {"total_bwd_packets", kAll, false},
    {"total_length_fwd_packets", kAll, false},
    {"total_length_bwd_packets", kAll, false},
    {"fwd_packet_length_max", kAll, false},
    {"fwd_packet_length_min", kAll, false},
    {"fwd_packet_length_mean", kAll, false},
    {"fwd_packet_length_std", kAll, false},
    {"bwd_packet_length_max", kAll, false},
    {"bwd_packet_length_min", kAll, false},
    {"bwd_packet_length_mean", kAll, false},
    {"bwd_packet_length_std", kAll, false},
    {"flow_bytes_per_s", kAll, false},
    {"flow_packets_per_s", kAll, false},
    {"flow_iat_mean", kAll, false},
    {"flow_iat_std", kAll, false},
    {"flow_iat_max", kAll, false},
    {"flow_iat_min", kAll, false},
    {"fwd_iat_total", kAll, false},
    {"fwd_iat_mean", kAll, false},
    {"fwd_iat_std", kAll, false},
    {"fwd_iat_max", kAll, false},
    {"fwd_iat_min", kAll, false},
    {"bwd_iat_total", kAll, false},
    {"bwd_iat_mean", kAll, false},
    {"bwd_iat_std", kAll, false},
    {"bwd_iat_max", kAll, false},
    {"bwd_iat_min", kAll, false},
    {"fwd_psh_flags", kAll, false},
    {"bwd_psh_flags", kAll, false},
    {"fwd_urg_flags", kAll, false},
    {"bwd_urg_flags", kAll, false},
    {"fwd_rst_flags", kSome, false},
    {"bwd_rst_flags", kSome, false},
    {"fwd_header_length", kAll, false},
    {"bwd_header_length", kAll, false},
    {"fwd_packets_per_s", kAll, false},
    {"bwd_packets_per_s", kAll, false},
    {"packet_length_min", kAll, false},
    {"packet_length_max", kAll, false},
    {"packet_length_mean", kAll, false},
    {"packet_length_std", kAll, false},
    {"packet_length_variance", kAll, false},
    {"fin_flag_count", kAll, false},
    {"syn_flag_count", kAll, false},
    {"rst_flag_count", kAll, false},
    {"psh_flag_count", kAll, false},
    {"ack_flag_count", kAll, false},
    {"urg_flag_count", kAll, false},
    {"cwr_flag_count", kAll, false},
    {"ece_flag_count", kAll, false},
    {"down_up_ratio", kAll, false},
    {"average_packet_size", kAll, false},
    {"fwd_segment_size_avg", kAll, false},
    {"bwd_segment_size_avg", kAll, false},
    {"fwd_bytes_bulk_avg", kAll, false},
    {"fwd_packets_bulk_avg", kAll, false},
    {"fwd_bulk_rate_avg", kAll, false},
    {"bwd_bytes_bulk_avg", kAll, false},
    {"bwd_packets_bulk_avg", kAll, false},
    {"bwd_bulk_rate_avg", kAll, false},
    {"subflow_fwd_packets", kAll, false},
    {"subflow_fwd_bytes", kAll, false},
    {"subflow_bwd_packets", kAll, false},
    {"subflow_bwd_bytes", kAll, false},
    {"init_fwd_win_bytes", kAll, true},
    {"init_bwd_win_bytes", kAll, true},
    {"fwd_act_data_packets", kAll, false},
    {"fwd_seg_size_min", kAll, false},
    {"active_mean", kAll, false},
    {"active_std", kAll, false},
    {"active_max", kAll, false},
    {"active_min", kAll, false},
    {"idle_mean", kAll, false},
    {"idle_std", kAll, false},
    {"idle_max", kAll, false},
    {"idle_min", kAll, false},
    {"icmp_code", kSome, true},
    {"icmp_type", kSome, true},
    {"total_tcp_flow_time", kSome, false},
}};

constexpr std::array<std::string_view, 42> kOriginal42 = {
    "dst_port", "flow_duration", "total_fwd_packets", "total_length_fwd_packets",
    "fwd_packet_length_max", "fwd_packet_length_min", "bwd_packet_length_max",
    "bwd_packet_length_min", "flow_bytes_per_s", "flow_packets_per_s", "flow_iat_mean",
    "flow_iat_std", "flow_iat_min", "bwd_iat_total", "bwd_iat_std", "fwd_psh_flags",
    "bwd_psh_flags", "fwd_urg_flags", "bwd_urg_flags", "fwd_header_length", "bwd_header_length",
    "bwd_packets_per_s", "packet_length_min", "fin_flag_count", "rst_flag_count",
    "psh_flag_count", "ack_flag_count", "urg_flag_count", "down_up_ratio", "fwd_bytes_bulk_avg",
    "fwd_packets_bulk_avg", "fwd_bulk_rate_avg", "bwd_bytes_bulk_avg", "bwd_packets_bulk_avg",
    "bwd_bulk_rate_avg", "init_fwd_win_bytes", "init_bwd_win_bytes", "fwd_seg_size_min",
    "active_mean", "active_std", "active_max", "idle_std"};

constexpr std::array<std::string_view, kIdentifierFieldCount> kIdentifierNames = {
    "flow_id", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "timestamp"};

}  // namespace

const std::array<FeatureInfo, kFeatureCount>& CanonicalFeatures() { return kFeatures; }

std::optional<size_t> FindFeature(std::string_view canonical_name) {
  for (size_t i = 0; i < kFeatures.size(); ++i) {
    if (kFeatures[i].name == canonical_name) return i;
  }
  return std::nullopt;
}

std::vector<std::string> CommonFeatureNames() {
  std::vector<std::string> out;
  for (const auto& f : kFeatures) {
    if (f.in_every_dialect) out.emplace_back(f.name);
  }
  return out;
}

std::vector<std::string> Original42FeatureNames() {
  return {kOriginal42.begin(), kOriginal42.end()};
}

double FeatureJsonValue(double v) {
  if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) return v;
  const auto f = static_cast<float>(v);
  if (static_cast<double>(f) != v) return v;
  char text[32];  // the longest shortest form of a float is 15 characters ("-1.17549435e-38")
  const auto printed = std::to_chars(text, text + sizeof text, f);
  double out = v;
  std::from_chars(text, printed.ptr, out);
  return out;
}

std::string_view IdentifierName(IdentifierField field) {
  return kIdentifierNames[static_cast<size_t>(field)];
}

}  // namespace threatd::flow
