#include "flow/table_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "flow/features.h"

namespace threatd::flow {
namespace {

class TableLoader : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }
  std::string WriteCsv(const std::string& text) {
    auto path = std::filesystem::temp_directory_path() /
                ("threatd_flow_loader_" + std::to_string(::getpid()) + "_" + std::to_string(files_.size()) + ".csv");
    std::ofstream(path, std::ios::binary) << text;
    files_.push_back(path.string());
    return path.string();
  }
  std::vector<std::string> files_;
};

// A generated CICFlowMeter file in the improved dialect.
std::string CicCsv(int rows) {
  std::string s = "id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,"
                  "Total Fwd Packet,Total Bwd packets,FWD Init Win Bytes,Label\n";
  for (int i = 0; i < rows; ++i) {
    s += std::to_string(i) + ",f" + std::to_string(i) + ",10.0.0." + std::to_string(i % 250) + "," +
         std::to_string(40000 + i) + ",10.1.0.1," + (i % 2 ? "80" : "22") + ",6,2017-07-03 11:00:0" +
         std::to_string(i % 10) + "," + std::to_string(i * 10) + ",2,3," + (i % 3 ? "8192" : "-1") + "," +
         (i % 2 ? "DoS Hulk" : "Benign") + "\n";
  }
  return s;
}

TEST_F(TableLoader, CicFlowMeterModeMapsFeaturesAndKeepsIdentifiersOut) {
  LoadOptions opts;
  opts.mode = LoadMode::kCicFlowMeter;
  auto ds = LoadDataset({WriteCsv(CicCsv(30))}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_TRUE(ds->cic_flow_meter);
  EXPECT_EQ(ds->feature_names, (std::vector<std::string>{"dst_port", "protocol", "flow_duration",
                                                         "total_fwd_packets", "total_bwd_packets",
                                                         "init_fwd_win_bytes"}));
  ASSERT_EQ(ds->rows(), 30u);
  EXPECT_EQ(ds->row(3)[0], 80.0f);
  EXPECT_EQ(ds->row(3)[2], 30.0f);
  EXPECT_TRUE(std::isnan(ds->row(3)[5]));  // -1 window sentinel
  EXPECT_EQ(ds->labels[0], "BENIGN");
  EXPECT_EQ(ds->labels[1], "DoS Hulk");
  EXPECT_EQ(ds->identifiers[3].src_port, 40003);
  EXPECT_EQ(ds->identifiers[3].src_ip, "10.0.0.3");
  EXPECT_GT(ds->identifiers[3].timestamp_us, 0);
  EXPECT_EQ(ds->column_stats.at("init_fwd_win_bytes").sentinel, 10u);
}

TEST_F(TableLoader, RequiredFeaturesOrderAndMissingMessage) {
  LoadOptions opts;
  opts.required_features = {"flow_duration", " Destination Port"};
  auto ds = LoadDataset({WriteCsv(CicCsv(5))}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->feature_names, (std::vector<std::string>{"flow_duration", "dst_port"}));
  opts.mode = LoadMode::kCicFlowMeter;
  opts.required_features = {"flow_duration", "idle_max"};
  auto bad = LoadDataset({files_.back()}, opts);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing 'idle_max' (matched 1 of 2 features)"), std::string::npos)
      << bad.status().message();
}

TEST_F(TableLoader, MaxRowsAcrossFilesAndGzipInput) {
  LoadOptions opts;
  opts.mode = LoadMode::kCicFlowMeter;
  opts.max_rows = 25;
  auto ds = LoadDataset({WriteCsv(CicCsv(20)), WriteCsv(CicCsv(20))}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->rows(), 25u);
  EXPECT_EQ(ds->source_files.size(), 2u);
}

TEST_F(TableLoader, RowErrorsFailOrAreSkipped) {
  std::string csv = CicCsv(3) + "9,f,1.1.1.1,1,2.2.2.2,80,6,x,oops,1,1,1,BENIGN\n";
  LoadOptions opts;
  opts.mode = LoadMode::kCicFlowMeter;
  auto ds = LoadDataset({WriteCsv(csv)}, opts);
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.status().message().find("row 4 (line 5), column 'Flow Duration', value 'oops': not a number"),
            std::string::npos)
      << ds.status().message();
  opts.max_row_errors = 1;
  ds = LoadDataset({files_.back()}, opts);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(ds->rows(), 3u);
  EXPECT_EQ(ds->skipped_rows, 1u);
}

TEST_F(TableLoader, MissingLabelColumn) {
  LoadOptions opts;
  opts.label_column = "attack";
  auto ds = LoadDataset({WriteCsv(CicCsv(3))}, opts);
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.status().message().find("label column 'attack' not found"), std::string::npos);
  opts.require_label = false;
  ds = LoadDataset({files_.back()}, opts);
  ASSERT_TRUE(ds.ok());
  EXPECT_TRUE(ds->labels.empty());
  EXPECT_EQ(ds->rows(), 3u);
}

TEST_F(TableLoader, GenericModeOneHotsCategoriesByFrequency) {
  std::string csv = "id,dur,proto,srcip,bytes,attack\n";
  const char* protos[] = {"tcp", "udp", "tcp", "icmp", "tcp", "udp"};
  for (int i = 0; i < 6; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i) + ".5," + protos[i] + ",1.2.3." + std::to_string(i) + "," +
           (i == 2 ? "" : std::to_string(100 * i)) + "," + (i % 2 ? "neptune" : "normal") + "\n";
  }
  LoadOptions opts;
  opts.label_column = "attack";
  opts.max_categories = 2;
  auto ds = LoadDataset({WriteCsv(csv)}, opts);  // kAuto -> generic
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_FALSE(ds->cic_flow_meter);
  // id and srcip are identifier columns; proto is categorical.
  EXPECT_EQ(ds->feature_names,
            (std::vector<std::string>{"dur", "proto=tcp", "proto=udp", "proto=__other__", "bytes"}));
  ASSERT_EQ(ds->rows(), 6u);
  EXPECT_EQ(std::vector<float>(ds->row(3), ds->row(3) + 5), (std::vector<float>{3.5f, 0, 0, 1, 300}));
  EXPECT_EQ(std::vector<float>(ds->row(0), ds->row(0) + 4), (std::vector<float>{0.5f, 1, 0, 0}));
  EXPECT_TRUE(std::isnan(ds->row(2)[4]));
  EXPECT_EQ(ds->column_stats.at("bytes").missing, 1u);
  EXPECT_EQ(ds->labels[0], "BENIGN");
  EXPECT_EQ(ds->labels[1], "neptune");
}

TEST_F(TableLoader, GenericModeOnACicFileUsesRawNamesAndExcludesIdentifiers) {
  LoadOptions opts;
  opts.mode = LoadMode::kGeneric;
  opts.exclude_columns = {"Protocol"};
  auto ds = LoadDataset({WriteCsv(CicCsv(4))}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->feature_names, (std::vector<std::string>{"Dst Port", "Flow Duration", "Total Fwd Packet",
                                                         "Total Bwd packets", "FWD Init Win Bytes"}));
}

TEST_F(TableLoader, GenericNumericColumnWithAStrayWordIsARowError) {
  std::string csv = "a,b,Label\n1,2,x\n3,4,x\n5,oops,y\n";
  LoadOptions opts;
  opts.mode = LoadMode::kGeneric;
  auto ds = LoadDataset({WriteCsv(csv)}, opts);
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.status().message().find("column 'b', value 'oops': not a number"), std::string::npos)
      << ds.status().message();
}

TEST_F(TableLoader, NoFiles) {
  EXPECT_FALSE(LoadDataset({}, LoadOptions{}).ok());
}

}  // namespace
}  // namespace threatd::flow
