#include "flow/column_aliases.h"

#include <gtest/gtest.h>

#include <sstream>

namespace threatd::flow {
namespace {

std::vector<std::string> Split(const std::string& header) {
  std::vector<std::string> out;
  std::stringstream ss(header);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

// (a) MachineLearningCVE, typed out as the files spell it (leading spaces,
// duplicated " Fwd Header Length").
const char* kMachineLearningCve =
    " Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets,"
    " Total Length of Bwd Packets, Fwd Packet Length Max, Fwd Packet Length Min, Fwd Packet Length Mean,"
    " Fwd Packet Length Std,Bwd Packet Length Max, Bwd Packet Length Min, Bwd Packet Length Mean,"
    " Bwd Packet Length Std,Flow Bytes/s, Flow Packets/s, Flow IAT Mean, Flow IAT Std, Flow IAT Max,"
    " Flow IAT Min,Fwd IAT Total, Fwd IAT Mean, Fwd IAT Std, Fwd IAT Max, Fwd IAT Min,Bwd IAT Total,"
    " Bwd IAT Mean, Bwd IAT Std, Bwd IAT Max, Bwd IAT Min,Fwd PSH Flags, Bwd PSH Flags, Fwd URG Flags,"
    " Bwd URG Flags, Fwd Header Length, Bwd Header Length,Fwd Packets/s, Bwd Packets/s, Min Packet Length,"
    " Max Packet Length, Packet Length Mean, Packet Length Std, Packet Length Variance,FIN Flag Count,"
    " SYN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count, CWE Flag Count,"
    " ECE Flag Count, Down/Up Ratio, Average Packet Size, Avg Fwd Segment Size, Avg Bwd Segment Size,"
    " Fwd Header Length,Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk,"
    " Bwd Avg Packets/Bulk,Bwd Avg Bulk Rate,Subflow Fwd Packets, Subflow Fwd Bytes, Subflow Bwd Packets,"
    " Subflow Bwd Bytes,Init_Win_bytes_forward, Init_Win_bytes_backward, act_data_pkt_fwd,"
    " min_seg_size_forward,Active Mean, Active Std, Active Max, Active Min,Idle Mean, Idle Std, Idle Max,"
    " Idle Min, Label";

// (b) improved CICFlowMeter.
const char* kImproved =
    "id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,"
    "Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Fwd Packet Length Max,"
    "Fwd Packet Length Min,Fwd Packet Length Mean,Fwd Packet Length Std,Bwd Packet Length Max,"
    "Bwd Packet Length Min,Bwd Packet Length Mean,Bwd Packet Length Std,Flow Bytes/s,Flow Packets/s,"
    "Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Total,Fwd IAT Mean,Fwd IAT Std,"
    "Fwd IAT Max,Fwd IAT Min,Bwd IAT Total,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,Fwd PSH Flags,"
    "Bwd PSH Flags,Fwd URG Flags,Bwd URG Flags,Fwd RST Flags,Bwd RST Flags,Fwd Header Length,"
    "Bwd Header Length,Fwd Packets/s,Bwd Packets/s,Packet Length Min,Packet Length Max,Packet Length Mean,"
    "Packet Length Std,Packet Length Variance,FIN Flag Count,SYN Flag Count,RST Flag Count,PSH Flag Count,"
    "ACK Flag Count,URG Flag Count,CWR Flag Count,ECE Flag Count,Down/Up Ratio,Average Packet Size,"
    "Fwd Segment Size Avg,Bwd Segment Size Avg,Fwd Bytes/Bulk Avg,Fwd Packet/Bulk Avg,Fwd Bulk Rate Avg,"
    "Bwd Bytes/Bulk Avg,Bwd Packet/Bulk Avg,Bwd Bulk Rate Avg,Subflow Fwd Packets,Subflow Fwd Bytes,"
    "Subflow Bwd Packets,Subflow Bwd Bytes,FWD Init Win Bytes,Bwd Init Win Bytes,Fwd Act Data Pkts,"
    "Fwd Seg Size Min,Active Mean,Active Std,Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,"
    "ICMP Code,ICMP Type,Total TCP Flow Time,Label,Attempted Category";

// (c) CSE-CIC-IDS2018 (the Thursday-20-02 file also has Flow ID and IPs).
const char* kCse2018 =
    "Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,"
    "TotLen Fwd Pkts,TotLen Bwd Pkts,Fwd Pkt Len Max,Fwd Pkt Len Min,Fwd Pkt Len Mean,Fwd Pkt Len Std,"
    "Bwd Pkt Len Max,Bwd Pkt Len Min,Bwd Pkt Len Mean,Bwd Pkt Len Std,Flow Byts/s,Flow Pkts/s,"
    "Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Tot,Fwd IAT Mean,Fwd IAT Std,Fwd IAT Max,"
    "Fwd IAT Min,Bwd IAT Tot,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,Fwd PSH Flags,Bwd PSH Flags,"
    "Fwd URG Flags,Bwd URG Flags,Fwd Header Len,Bwd Header Len,Fwd Pkts/s,Bwd Pkts/s,Pkt Len Min,"
    "Pkt Len Max,Pkt Len Mean,Pkt Len Std,Pkt Len Var,FIN Flag Cnt,SYN Flag Cnt,RST Flag Cnt,PSH Flag Cnt,"
    "ACK Flag Cnt,URG Flag Cnt,CWE Flag Count,ECE Flag Cnt,Down/Up Ratio,Pkt Size Avg,Fwd Seg Size Avg,"
    "Bwd Seg Size Avg,Fwd Byts/b Avg,Fwd Pkts/b Avg,Fwd Blk Rate Avg,Bwd Byts/b Avg,Bwd Pkts/b Avg,"
    "Bwd Blk Rate Avg,Subflow Fwd Pkts,Subflow Fwd Byts,Subflow Bwd Pkts,Subflow Bwd Byts,"
    "Init Fwd Win Byts,Init Bwd Win Byts,Fwd Act Data Pkts,Fwd Seg Size Min,Active Mean,Active Std,"
    "Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,Label";

// (d) the original system's 42 features, spelt as in its test CSV.
const char* kOriginal42 =
    " Destination Port, Flow Duration, Total Fwd Packets,Total Length of Fwd Packets, Fwd Packet Length Max,"
    " Fwd Packet Length Min,Bwd Packet Length Max, Bwd Packet Length Min,Flow Bytes/s, Flow Packets/s,"
    " Flow IAT Mean, Flow IAT Std, Flow IAT Min,Bwd IAT Total, Bwd IAT Std,Fwd PSH Flags, Bwd PSH Flags,"
    " Fwd URG Flags, Bwd URG Flags, Fwd Header Length, Bwd Header Length, Bwd Packets/s, Min Packet Length,"
    "FIN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count, Down/Up Ratio,"
    "Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk, Bwd Avg Packets/Bulk,"
    "Bwd Avg Bulk Rate,Init_Win_bytes_forward, Init_Win_bytes_backward, min_seg_size_forward,Active Mean,"
    " Active Std, Active Max, Idle Std";

std::vector<std::string> AllCanonical() {
  std::vector<std::string> out;
  for (const auto& f : CanonicalFeatures()) out.emplace_back(f.name);
  return out;
}

TEST(ColumnAliases, Normalisation) {
  EXPECT_EQ(NormaliseColumnName(" Fwd Header Length"), "fwdheaderlength");
  EXPECT_EQ(NormaliseColumnName("fwd_header_length"), "fwdheaderlength");
  EXPECT_EQ(NormaliseColumnName("Flow Byts/s"), "flowbytss");
}

TEST(ColumnAliases, EveryAliasResolvesToItsOwnCanonicalName) {
  for (const AliasEntry& a : AllAliases()) {
    ColumnRole role = LookupColumn(a.header);
    ASSERT_TRUE(role.known()) << a.header;
    std::string got = role.feature >= 0 ? std::string(CanonicalFeatures()[role.feature].name)
                                        : std::string(IdentifierName(*role.identifier));
    EXPECT_EQ(got, a.canonical) << "alias '" << a.header << "' collides";
  }
}

TEST(ColumnAliases, MachineLearningCveMapsAllButItsMissingFeatures) {
  auto header = Split(kMachineLearningCve);
  ASSERT_EQ(header.size(), 79u);
  auto m = MapHeader(header, CommonFeatureNames());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->matched_features(), 77u);  // 78 columns, one a duplicate
  EXPECT_EQ(m->column_of_feature[*FindFeature("fwd_header_length")], 34);  // the first copy
  EXPECT_EQ(m->duplicate_columns, std::vector<std::string>{" Fwd Header Length"});
  EXPECT_EQ(m->column_of_feature[*FindFeature("total_bwd_packets")], 3);
  EXPECT_FALSE(m->has_feature(*FindFeature("protocol")));
}

TEST(ColumnAliases, ImprovedMapsEveryFeatureAndIdentifier) {
  auto m = MapHeader(Split(kImproved), AllCanonical());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->matched_features(), kFeatureCount);
  for (size_t i = 0; i < kIdentifierFieldCount; ++i) EXPECT_GE(m->column_of_identifier[i], 0) << i;
  EXPECT_EQ(m->column_of_feature[*FindFeature("init_fwd_win_bytes")], 74);
  // id, Label and Attempted Category are not features.
  EXPECT_EQ(m->ignored_columns, (std::vector<std::string>{"id", "Label", "Attempted Category"}));
}

TEST(ColumnAliases, Cse2018ShortNames) {
  auto m = MapHeader(Split(kCse2018), CommonFeatureNames());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->matched_features(), CommonFeatureNames().size() + 1);  // + protocol
  EXPECT_EQ(m->column_of_feature[*FindFeature("flow_bytes_per_s")], 20);
  EXPECT_EQ(m->column_of_feature[*FindFeature("dst_port")], 4);
  EXPECT_EQ(m->column_of_identifier[static_cast<size_t>(IdentifierField::kDstPort)], 4);
}

TEST(ColumnAliases, Original42FeatureSubset) {
  auto header = Split(kOriginal42);
  ASSERT_EQ(header.size(), 42u);
  auto m = MapHeader(header, Original42FeatureNames());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->matched_features(), 42u);
  auto names = Original42FeatureNames();
  for (size_t c = 0; c < header.size(); ++c) {
    EXPECT_EQ(m->columns[c].feature, static_cast<int>(*FindFeature(names[c]))) << header[c];
  }
}

TEST(ColumnAliases, MissingFeaturesMessageListsThemAndCounts) {
  auto m = MapHeader(Split(kOriginal42), AllCanonical());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kValidation);
  const std::string& msg = m.status().message();
  EXPECT_EQ(msg.rfind("missing 'protocol', 'total_bwd_packets', ", 0), 0u) << msg;
  EXPECT_NE(msg.find("(matched 42 of 83 features); see docs/formats/flows.md"), std::string::npos) << msg;
}

TEST(ColumnAliases, UnknownColumnsIgnoredAndUnknownRequiredRejected) {
  auto m = MapHeader({"Flow Duration", "my_column"}, {" Flow Duration"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ignored_columns, std::vector<std::string>{"my_column"});
  auto bad = MapHeader({"Flow Duration"}, {"not_a_feature"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Features, CommonSetExcludesDialectSpecificOnes) {
  auto common = CommonFeatureNames();
  EXPECT_EQ(common.size(), kFeatureCount - 6);
  for (const char* f : {"protocol", "fwd_rst_flags", "bwd_rst_flags", "icmp_code", "icmp_type",
                        "total_tcp_flow_time"}) {
    EXPECT_EQ(std::find(common.begin(), common.end(), f), common.end()) << f;
  }
}

}  // namespace
}  // namespace threatd::flow
