// Training generality: the trainer works on labelled flow tables that are not
// CICFlowMeter output - UNSW-NB15 (10 classes, categorical proto/service/state
// one-hot encoded by flow's generic loader) and NSL-KDD (binary detector).
// Each test holds out a seeded random 20% per class that the trainer never
// sees and asserts a sane macro-F1 on it with threatd's own engine.
// Skips when ../shared (the data sets, never committed) is absent.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/table_loader.h"
#include "ml/batch_scoring.h"
#include "ml/inference.h"
#include "ml/trainer.h"
#include "ml/training_split.h"

namespace threatd::ml {
namespace {

std::filesystem::path OtherDataset(const std::string& name) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / ".." / "shared" / "datasets" / "other" / name;
}

flow::Dataset Subset(const flow::Dataset& d, const std::vector<size_t>& rows) {
  flow::Dataset out;
  out.feature_names = d.feature_names;
  out.source_files = d.source_files;
  out.values.reserve(rows.size() * d.cols());
  for (size_t r : rows) {
    out.values.insert(out.values.end(), d.row(r), d.row(r) + d.cols());
    out.labels.push_back(d.labels[r]);
    if (!d.identifiers.empty()) out.identifiers.push_back(d.identifiers[r]);
  }
  return out;
}

struct HeldOut {
  flow::Dataset train;
  flow::Dataset test;
};

// A seeded random 20% of each class held out for the final evaluation.
HeldOut SplitHeldOut(const flow::Dataset& d) {
  std::vector<std::string> classes;
  std::vector<int> y;
  for (const auto& label : d.labels) {
    auto it = std::find(classes.begin(), classes.end(), label);
    if (it == classes.end()) it = classes.insert(classes.end(), label);
    y.push_back(static_cast<int>(it - classes.begin()));
  }
  auto split = SplitPerClass(y, classes.size(), d.identifiers, ValidationMode::kRandom, 0.2, 2026);
  EXPECT_TRUE(split.ok()) << split.status().ToString();
  if (!split.ok()) return {};
  return {Subset(d, split->train), Subset(d, split->validation)};
}

EvaluationReport TrainAndEvaluate(const flow::Dataset& data, const TrainOptions& options) {
  HeldOut parts = SplitHeldOut(data);
  auto bundle = Train(parts.train, options);
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  if (!bundle.ok()) return {};
  auto engine = InferenceEngine::Create(*bundle);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  auto report = EvaluateDataset(*bundle, *engine, parts.test);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  if (!report.ok()) return {};
  ::testing::Test::RecordProperty("held_out_macro_f1", std::to_string(report->macro_f1));
  ::testing::Test::RecordProperty("trees", std::to_string(bundle->trees.size()));
  return *report;
}

TEST(TrainingGeneralityTest, UnswNb15TenClassesWithCategoricalColumns) {
  const auto file = OtherDataset("unsw-nb15-82k.csv.gz");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data set absent (" << file << "); nothing to train on";
  flow::LoadOptions lo;
  lo.label_column = "attack_cat";
  lo.exclude_columns = {"label", "id"};
  lo.mode = flow::LoadMode::kGeneric;
  auto data = flow::LoadDataset({file.string()}, lo);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  // proto/service/state arrive one-hot; the label and excluded columns never do.
  bool has_proto = false;
  for (const auto& name : data->feature_names) {
    has_proto = has_proto || name.rfind("proto=", 0) == 0;
    EXPECT_NE(name, "label");
    EXPECT_NE(name, "id");
    EXPECT_NE(name, "attack_cat");
  }
  EXPECT_TRUE(has_proto) << "proto should be one-hot encoded as proto=<value>";

  TrainOptions o;
  o.task = Task::kMulticlass;
  o.validation = ValidationMode::kRandom;  // UNSW-NB15 rows carry no timestamps
  o.max_rounds = 20;  // 200 trees: ~8 s on 2 idle cores, ~50 s when they are shared
  o.created_at = "2026-01-01T00:00:00.000Z";
  const EvaluationReport r = TrainAndEvaluate(*data, o);
  EXPECT_EQ(r.classes.size(), 10u);
  EXPECT_GT(r.rows, 15000u);
  EXPECT_GT(r.macro_f1, 0.5);
}

TEST(TrainingGeneralityTest, NslKddBinaryDetector) {
  const auto file = OtherDataset("nsl-kdd-train20.csv.gz");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data set absent (" << file << "); nothing to train on";
  flow::LoadOptions lo;
  lo.label_column = "attack";
  lo.exclude_columns = {"level"};
  lo.mode = flow::LoadMode::kGeneric;
  auto data = flow::LoadDataset({file.string()}, lo);
  ASSERT_TRUE(data.ok()) << data.status().ToString();

  TrainOptions o;
  o.task = Task::kBinary;  // `normal` normalises to BENIGN; every other label is an attack
  o.validation = ValidationMode::kRandom;
  o.max_rounds = 60;
  o.created_at = "2026-01-01T00:00:00.000Z";
  const EvaluationReport r = TrainAndEvaluate(*data, o);
  EXPECT_EQ(r.classes.size(), 2u);
  EXPECT_GT(r.rows, 4000u);
  EXPECT_GT(r.macro_f1, 0.9);
  EXPECT_GT(r.attack_recall, 0.9);
}

}  // namespace
}  // namespace threatd::ml
