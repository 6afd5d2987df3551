#include "cli/commands.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/report.h"
#include "common/clock.h"
#include "flow/features.h"
#include "flow/table_loader.h"
#include "ml/batch_scoring.h"
#include "ml/bundle.h"
#include "ml/inference.h"
#include "ml/model_card.h"
#include "ml/trainer.h"

namespace threatd::cli {
namespace {

struct TrainArgs {
  std::vector<std::string> data;
  std::string task;
  std::string label_column = "Label";
  std::vector<std::string> exclude;
  std::string features = "all";
  std::string validation = "time";
  uint64_t seed = 42;
  int max_rounds = -1;
  std::string version = "dev";
  std::string out;
};

struct ModelArgs {
  std::string model;
  std::string data;
  std::string label_column = "Label";
  bool json = false;
  std::string out;
};

// <dir>/<name>.json[.gz] -> <dir>/<name>.md
std::string CardPath(const std::string& bundle_path) {
  std::filesystem::path p(bundle_path);
  if (p.extension() == ".gz") p.replace_extension();
  p.replace_extension(".md");
  return p.string();
}

// SOURCE_DATE_EPOCH makes re-training byte-identical (reproducible builds).
std::string CreatedAt() {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) {
    return FormatIso8601(Clock::WallTime(std::chrono::seconds(std::strtoll(epoch, nullptr, 10))));
  }
  return FormatIso8601(Clock::System().Now());
}

int Train(const TrainArgs& a) {
  flow::LoadOptions lo;
  lo.label_column = a.label_column;
  lo.exclude_columns = a.exclude;
  if (a.features == "common") lo.required_features = flow::CommonFeatureNames();
  if (a.features == "original42") lo.required_features = flow::Original42FeatureNames();
  auto data = flow::LoadDataset(a.data, lo);
  if (!data.ok()) return ReportError(data.status(), 1);
  ml::TrainOptions o;
  o.task = a.task == "binary" ? ml::Task::kBinary : ml::Task::kMulticlass;
  o.validation = a.validation == "time" ? ml::ValidationMode::kTime : ml::ValidationMode::kRandom;
  o.seed = a.seed;
  o.max_rounds = a.max_rounds;
  o.exclude_columns = a.exclude;
  o.version = a.version;
  o.created_at = CreatedAt();
  for (auto& f : data->source_files) f = std::filesystem::path(f).filename().string();
  auto bundle = ml::Train(*data, o);
  if (!bundle.ok()) return ReportError(bundle.status(), 1);
  if (auto s = ml::WriteBundleFile(*bundle, a.out); !s.ok()) return ReportError(s, 1);
  const std::string title = fmt::format("{} {} ({})", ml::ModelTypeName(bundle->model_type), bundle->version,
                                        std::filesystem::path(a.out).filename().string());
  std::ofstream(CardPath(a.out)) << ml::RenderModelCardMarkdown(bundle->card, title);
  const auto& v = bundle->card.validation;
  fmt::print("wrote {} ({} trees, {} features, sha256 {})\n", a.out, bundle->trees.size(), bundle->features.size(),
             bundle->sha256);
  fmt::print("validation ({}): macro-F1 {:.4f}, benign FPR {:.4f}, attack recall {:.4f}, threshold {:.4f}\n",
             bundle->card.validation_protocol, v.macro_f1, v.benign_fpr, v.attack_recall, bundle->threshold);
  fmt::print("stump baseline: macro-F1 {:.4f}\n", bundle->card.stump.validation.macro_f1);
  return 0;
}

struct Loaded {
  ml::ModelBundle bundle;
  std::unique_ptr<ml::InferenceEngine> engine;
  flow::Dataset data;
};

Result<Loaded> Load(const ModelArgs& a, bool require_label) {
  auto bundle = ml::ReadBundleFile(a.model);
  if (!bundle.ok()) return bundle.status();
  auto engine = ml::InferenceEngine::Create(*bundle);
  if (!engine.ok()) return engine.status();
  flow::LoadOptions lo;
  lo.label_column = a.label_column;
  lo.require_label = require_label;
  auto data = flow::LoadDataset({a.data}, lo);
  if (!data.ok()) return data.status();
  Loaded l{std::move(bundle).value(), std::make_unique<ml::InferenceEngine>(std::move(engine).value()),
           std::move(data).value()};
  return l;
}

// Missing values by column, as the value policy counted them (docs/formats/flows.md):
// {"Flow Bytes/s": {"missing": 3, "infinite": 2, "sentinel": 0}, ...}; columns with none are left out.
nlohmann::json MissingValues(const flow::Dataset& data) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [column, stats] : data.column_stats)
    if (stats.missing > 0)
      j[column] = {{"missing", stats.missing}, {"infinite", stats.infinite}, {"sentinel", stats.sentinel}};
  return j;
}

int Evaluate(const ModelArgs& a) {
  auto l = Load(a, true);
  if (!l.ok()) return ReportError(l.status(), 1);
  auto report = ml::EvaluateDataset(l->bundle, *l->engine, l->data);
  if (!report.ok()) return ReportError(report.status(), 1);
  const nlohmann::json missing = MissingValues(l->data);
  if (a.json) {
    nlohmann::json j;
    ml::ToJson(j, *report);
    j["model_sha256"] = l->bundle.sha256;
    j["threshold"] = l->bundle.threshold;
    j["missing_values"] = missing;
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}", ml::RenderEvaluationMarkdown(*report));
    fmt::print("\nMissing values by column (take the trees' default branch):\n");
    if (missing.empty()) fmt::print("  none\n");
    for (const auto& [column, c] : missing.items())
      fmt::print("  {}: {} missing ({} infinite, {} sentinel)\n", column, c["missing"].get<uint64_t>(),
                 c["infinite"].get<uint64_t>(), c["sentinel"].get<uint64_t>());
  }
  return 0;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

int Predict(const ModelArgs& a) {
  auto l = Load(a, false);
  if (!l.ok()) return ReportError(l.status(), 1);
  auto pred = ml::PredictDataset(l->bundle, *l->engine, l->data);
  if (!pred.ok()) return ReportError(pred.status(), 1);
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::trunc);
    if (!file) return ReportError(Status::InvalidArgument("cannot write " + a.out), 1);
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  const auto& classes = l->bundle.classes;
  out << "row,flow_id,src_ip,dst_ip,dst_port,prediction";
  for (const auto& c : classes) out << "," << CsvField("p_" + c);
  out << "\n";
  const size_t k = classes.size();
  for (size_t r = 0; r < l->data.rows(); ++r) {
    const bool has_id = r < l->data.identifiers.size();
    const flow::RowIdentifiers id = has_id ? l->data.identifiers[r] : flow::RowIdentifiers{};
    out << r << "," << CsvField(id.flow_id) << "," << id.src_ip << "," << id.dst_ip << ","
        << (id.dst_port >= 0 ? std::to_string(id.dst_port) : "") << ","
        << CsvField(classes[static_cast<size_t>(pred->predicted[r])]);
    for (size_t c = 0; c < k; ++c) out << "," << fmt::format("{:.6g}", pred->proba[r * k + c]);
    out << "\n";
  }
  return out ? 0 : ReportError(Status::Internal("writing predictions failed"), 1);
}

}  // namespace

void RegisterMlCommands(CLI::App& root, int& exit_code) {
  auto train_args = std::make_shared<TrainArgs>();
  CLI::App* train = root.add_subcommand("train", "Train a threat detector (binary) or attack classifier (multiclass)");
  train->add_option("--data", train_args->data, "Labelled flow CSV/CSV.gz files")->required()->check(CLI::ExistingFile);
  train->add_option("--task", train_args->task, "binary | multiclass")->required()
      ->check(CLI::IsMember({"binary", "multiclass"}));
  train->add_option("--label-column", train_args->label_column, "Class label column")->capture_default_str();
  train->add_option("--exclude-columns", train_args->exclude, "Columns never used as features");
  train->add_option("--features", train_args->features,
                    "all | common (every CICFlowMeter dialect has them) | original42")
      ->capture_default_str()->check(CLI::IsMember({"all", "common", "original42"}));
  train->add_option("--validation", train_args->validation, "time (latest 25% per class) | random")
      ->capture_default_str()->check(CLI::IsMember({"time", "random"}));
  train->add_option("--seed", train_args->seed, "Random seed")->capture_default_str();
  train->add_option("--max-rounds", train_args->max_rounds, "Boosting rounds (default: 300 binary, 50 multiclass)");
  train->add_option("--model-version", train_args->version, "Version string stored in the bundle")->capture_default_str();
  train->add_option("--out", train_args->out, "Bundle path (.json or .json.gz)")->required();
  train->callback([train_args, &exit_code] { exit_code = Train(*train_args); });

  auto eval_args = std::make_shared<ModelArgs>();
  CLI::App* evaluate = root.add_subcommand("evaluate", "Evaluate a model bundle on a labelled flow file");
  evaluate->add_option("--model", eval_args->model, "Model bundle")->required()->check(CLI::ExistingFile);
  evaluate->add_option("--data", eval_args->data, "Labelled flow CSV/CSV.gz")->required()->check(CLI::ExistingFile);
  evaluate->add_option("--label-column", eval_args->label_column, "Class label column")->capture_default_str();
  evaluate->add_flag("--json", eval_args->json, "Print JSON (macro_f1, per_class, confusion, benign_fpr, ...)");
  evaluate->callback([eval_args, &exit_code] { exit_code = Evaluate(*eval_args); });

  auto pred_args = std::make_shared<ModelArgs>();
  CLI::App* predict = root.add_subcommand("predict", "Write a model's predictions for a flow file as CSV");
  predict->add_option("--model", pred_args->model, "Model bundle")->required()->check(CLI::ExistingFile);
  predict->add_option("--data", pred_args->data, "Flow CSV/CSV.gz")->required()->check(CLI::ExistingFile);
  predict->add_option("--label-column", pred_args->label_column, "Label column, if any (ignored)")->capture_default_str();
  predict->add_option("--out", pred_args->out, "Output CSV (default: stdout)");
  predict->callback([pred_args, &exit_code] { exit_code = Predict(*pred_args); });
}

}  // namespace threatd::cli
