#include "ml/model_card.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace threatd::ml {
namespace {

using nlohmann::json;

EvaluationReport ReportFromJson(const json& j) {
  EvaluationReport r;
  if (!j.is_object()) return r;
  r.classes = j.value("classes", std::vector<std::string>{});
  r.confusion = j.value("confusion", std::vector<std::vector<uint64_t>>{});
  r.rows = j.value("rows", uint64_t{0});
  r.macro_f1 = j.value("macro_f1", 0.0);
  r.accuracy = j.value("accuracy", 0.0);
  r.benign_fpr = j.value("benign_fpr", 0.0);
  r.attack_recall = j.value("attack_recall", 0.0);
  if (j.contains("per_class") && j["per_class"].is_array()) {
    for (const auto& c : j["per_class"]) {
      ClassMetrics m;
      m.label = c.value("label", std::string{});
      m.support = c.value("support", uint64_t{0});
      m.precision = c.value("precision", 0.0);
      m.recall = c.value("recall", 0.0);
      m.f1 = c.value("f1", 0.0);
      r.per_class.push_back(m);
    }
  }
  return r;
}

std::string Pct(double v) { return fmt::format("{:.4f}", v); }

void RenderReport(std::string& out, const EvaluationReport& r) {
  out += fmt::format("Rows: {}  \nMacro-F1: **{}**  \nAccuracy: {}  \nBenign false-positive rate: {}  \n"
                     "Attack recall: {}\n\n",
                     r.rows, Pct(r.macro_f1), Pct(r.accuracy), Pct(r.benign_fpr), Pct(r.attack_recall));
  out += "| class | support | precision | recall | F1 |\n|---|---:|---:|---:|---:|\n";
  for (const auto& m : r.per_class) {
    out += fmt::format("| {} | {} | {} | {} | {} |\n", m.label, m.support, Pct(m.precision),
                       Pct(m.recall), Pct(m.f1));
  }
  out += "\nConfusion matrix (rows: true, columns: predicted, in class order above)\n\n```\n";
  for (size_t t = 0; t < r.confusion.size(); ++t) {
    for (uint64_t v : r.confusion[t]) out += fmt::format("{:>6}", v);
    out += "   " + (t < r.classes.size() ? r.classes[t] : std::string{}) + "\n";
  }
  out += "```\n\n";
}

}  // namespace

void ToJson(json& j, const EvaluationReport& r) {
  j = json::object();
  j["classes"] = r.classes;
  j["confusion"] = r.confusion;
  j["rows"] = r.rows;
  j["macro_f1"] = r.macro_f1;
  j["accuracy"] = r.accuracy;
  j["benign_fpr"] = r.benign_fpr;
  j["attack_recall"] = r.attack_recall;
  json per = json::array();
  for (const auto& m : r.per_class) {
    per.push_back({{"label", m.label}, {"support", m.support}, {"precision", m.precision},
                   {"recall", m.recall}, {"f1", m.f1}});
  }
  j["per_class"] = per;
}

void ToJson(json& j, const ModelCard& c) {
  j = json::object();
  j["data_sources"] = c.data_sources;
  j["task"] = c.task;
  j["validation_protocol"] = c.validation_protocol;
  j["threshold_rule"] = c.threshold_rule;
  j["train_rows"] = c.train_rows;
  j["validation_rows"] = c.validation_rows;
  j["class_support"] = c.class_support;
  j["parameters"] = c.parameters;
  j["best_iteration"] = c.best_iteration;
  ToJson(j["validation"], c.validation);
  json stump = {{"feature", c.stump.feature}, {"threshold", c.stump.threshold},
                {"left_class", c.stump.left_class}, {"right_class", c.stump.right_class}};
  ToJson(stump["validation"], c.stump.validation);
  j["stump_baseline"] = stump;
  j["notes"] = c.notes;
}

Result<ModelCard> ModelCardFromJson(const json& j) {
  if (!j.is_object()) return Status::Validation("model_card must be a JSON object");
  try {
    ModelCard c;
    c.data_sources = j.value("data_sources", std::vector<std::string>{});
    c.task = j.value("task", std::string{});
    c.validation_protocol = j.value("validation_protocol", std::string{});
    c.threshold_rule = j.value("threshold_rule", std::string{});
    c.train_rows = j.value("train_rows", uint64_t{0});
    c.validation_rows = j.value("validation_rows", uint64_t{0});
    c.class_support = j.value("class_support", std::map<std::string, uint64_t>{});
    c.parameters = j.value("parameters", std::map<std::string, std::string>{});
    c.best_iteration = j.value("best_iteration", -1);
    if (j.contains("validation")) c.validation = ReportFromJson(j["validation"]);
    if (j.contains("stump_baseline") && j["stump_baseline"].is_object()) {
      const json& s = j["stump_baseline"];
      c.stump.feature = s.value("feature", std::string{});
      c.stump.threshold = s.value("threshold", 0.0f);
      c.stump.left_class = s.value("left_class", std::string{});
      c.stump.right_class = s.value("right_class", std::string{});
      if (s.contains("validation")) c.stump.validation = ReportFromJson(s["validation"]);
    }
    c.notes = j.value("notes", std::string{});
    return c;
  } catch (const json::exception& e) {
    return Status::Validation(std::string("model_card: ") + e.what(),
                              "fix the field's type or remove the field");
  }
}

std::string RenderEvaluationMarkdown(const EvaluationReport& report) {
  std::string out;
  RenderReport(out, report);
  return out;
}

std::string RenderModelCardMarkdown(const ModelCard& c, const std::string& title) {
  std::string out = "# Model card: " + title + "\n\n";
  out += "Task: " + c.task + "  \nData: ";
  for (size_t i = 0; i < c.data_sources.size(); ++i) out += (i ? ", " : "") + c.data_sources[i];
  out += fmt::format("  \nTraining rows: {}  \nValidation rows: {}  \nValidation: {}  \n"
                     "Threshold rule: {}  \nBest iteration: {}\n\n",
                     c.train_rows, c.validation_rows, c.validation_protocol,
                     c.threshold_rule.empty() ? "argmax" : c.threshold_rule, c.best_iteration);
  out += "## Class support (all rows)\n\n| class | rows |\n|---|---:|\n";
  for (const auto& [label, n] : c.class_support) out += fmt::format("| {} | {} |\n", label, n);
  out += "\n## Validation metrics (operating threshold)\n\n";
  RenderReport(out, c.validation);
  out += fmt::format("## Baseline: one-feature decision stump\n\n`{} < {}` -> {}, else {}\n\n",
                     c.stump.feature, c.stump.threshold, c.stump.left_class, c.stump.right_class);
  RenderReport(out, c.stump.validation);
  if (!c.parameters.empty()) {
    out += "## Training parameters\n\n";
    for (const auto& [k, v] : c.parameters) out += "- " + k + ": " + v + "\n";
  }
  if (!c.notes.empty()) out += "\n## Notes\n\n" + c.notes + "\n";
  return out;
}

}  // namespace threatd::ml
