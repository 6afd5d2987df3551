// Reads the real data sets in ../shared/datasets (never committed); skips
// cleanly when they are absent, as in a fresh clone.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "flow/byte_source.h"
#include "flow/column_aliases.h"
#include "flow/csv_reader.h"
#include "flow/table_loader.h"

namespace threatd::flow {
namespace {

std::string Datasets() {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  return std::string(src != nullptr ? src : ".") + "/../shared/datasets";
}

#define REQUIRE_SHARED(path)                                                                  \
  if (!std::filesystem::exists(path)) {                                                       \
    GTEST_SKIP() << "shared data set " << (path) << " is absent (expected in a fresh clone)"; \
  }

std::vector<std::string> HeaderOf(const std::string& path) {
  auto src = OpenFileSource(path);
  EXPECT_TRUE(src.ok());
  CsvReader reader(std::move(*src));
  auto has = reader.Next();
  EXPECT_TRUE(has.ok() && *has);
  return {reader.row().fields().begin(), reader.row().fields().end()};
}

TEST(SharedData, ImprovedTrainingSetLoads) {
  std::string path = Datasets() + "/cicids2017-improved-train.csv.gz";
  REQUIRE_SHARED(path);
  auto ds = LoadDataset({path}, LoadOptions{});
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_TRUE(ds->cic_flow_meter);
  EXPECT_EQ(ds->rows(), 32097u);
  EXPECT_EQ(ds->cols(), kFeatureCount);
  std::map<std::string, int> counts;
  for (const auto& l : ds->labels) counts[l]++;
  EXPECT_EQ(counts.size(), 16u);
  EXPECT_EQ(counts["BENIGN"], 3736);
  EXPECT_EQ(counts["Web Attack - SQL Injection"], 10);
  EXPECT_GT(ds->identifiers[0].timestamp_us, 0);
}

TEST(SharedData, RealHeadersOfEveryDialectMap) {
  std::string dir = Datasets() + "/formats";
  REQUIRE_SHARED(dir);
  auto mlcve = MapHeader(HeaderOf(dir + "/cicids2017-machinelearningcve.header.csv"), CommonFeatureNames());
  ASSERT_TRUE(mlcve.ok()) << mlcve.status().ToString();
  EXPECT_EQ(mlcve->matched_features(), 77u);
  EXPECT_EQ(mlcve->duplicate_columns.size(), 1u);
  auto generated = MapHeader(HeaderOf(dir + "/cicids2017-generatedlabelledflows-sample.csv"), CommonFeatureNames());
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  EXPECT_EQ(generated->matched_features(), 78u);  // + Protocol
  auto improved = MapHeader(HeaderOf(Datasets() + "/cicids2017-improved-train.csv.gz"));
  ASSERT_TRUE(improved.ok());
  EXPECT_EQ(improved->matched_features(), kFeatureCount);
}

TEST(SharedData, GeneratedLabelledFlowsSampleLoads) {
  std::string path = Datasets() + "/formats/cicids2017-generatedlabelledflows-sample.csv";
  REQUIRE_SHARED(path);
  LoadOptions opts;
  opts.required_features = CommonFeatureNames();
  auto ds = LoadDataset({path}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->rows(), 299u);
  EXPECT_EQ(ds->labels[0], "BENIGN");
  EXPECT_GT(ds->column_stats.at("init_bwd_win_bytes").sentinel, 0u);
}

TEST(SharedData, UnswNb15GenericMode) {
  std::string path = Datasets() + "/other/unsw-nb15-82k.csv.gz";
  REQUIRE_SHARED(path);
  LoadOptions opts;
  opts.label_column = "attack_cat";
  opts.exclude_columns = {"label"};  // the 0/1 twin of attack_cat
  auto ds = LoadDataset({path}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_FALSE(ds->cic_flow_meter);
  EXPECT_EQ(ds->rows(), 82332u);
  std::map<std::string, int> counts;
  for (const auto& l : ds->labels) counts[l]++;
  EXPECT_EQ(counts.size(), 10u);
  EXPECT_GT(counts["BENIGN"], 0);
  auto has = [&](const std::string& n) {
    return std::find(ds->feature_names.begin(), ds->feature_names.end(), n) != ds->feature_names.end();
  };
  EXPECT_TRUE(has("proto=tcp"));
  EXPECT_TRUE(has("dur"));
  EXPECT_FALSE(has("id"));  // BOM-prefixed identifier column excluded
  EXPECT_FALSE(has("label"));
}

TEST(SharedData, NslKddGenericMode) {
  std::string path = Datasets() + "/other/nsl-kdd-train20.csv.gz";
  REQUIRE_SHARED(path);
  LoadOptions opts;
  opts.label_column = "attack";
  opts.exclude_columns = {"level"};
  auto ds = LoadDataset({path}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->rows(), 25192u);
  auto has = [&](const std::string& n) {
    return std::find(ds->feature_names.begin(), ds->feature_names.end(), n) != ds->feature_names.end();
  };
  EXPECT_TRUE(has("protocol_type=tcp"));
  EXPECT_TRUE(has("flag=SF"));
  EXPECT_TRUE(has("src_bytes"));
  EXPECT_FALSE(has("level"));
}

}  // namespace
}  // namespace threatd::flow
