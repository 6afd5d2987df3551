// ModelCard: what a bundle says about itself - provenance, the training
// protocol, class support, validation metrics at the operating threshold and
// a one-feature decision-stump baseline beside them. Stored as JSON inside
// the bundle and rendered as Markdown (BUNDLE.md) next to the bundle file.
//
// Thread-safety: plain data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "ml/metrics.h"

namespace threatd::ml {

// Best single feature/threshold: rows with x < threshold (NaN: left) get
// left_class, the others right_class. Fitted on training, scored on validation.
struct StumpBaseline {
  std::string feature;
  float threshold = 0;
  std::string left_class;
  std::string right_class;
  EvaluationReport validation;
};

struct ModelCard {
  std::vector<std::string> data_sources;  // file names (no paths, no rows)
  std::string task;                       // "binary" | "multiclass"
  std::string validation_protocol;        // e.g. "time: latest 25% per class"
  std::string threshold_rule;             // how the threshold was chosen
  uint64_t train_rows = 0;
  uint64_t validation_rows = 0;
  std::map<std::string, uint64_t> class_support;  // all rows, by label
  std::map<std::string, std::string> parameters;  // training parameters
  int best_iteration = -1;
  EvaluationReport validation;            // at the operating threshold
  StumpBaseline stump;
  std::string notes;
};

void ToJson(nlohmann::json& j, const EvaluationReport& r);
void ToJson(nlohmann::json& j, const ModelCard& card);
// Strict enough to never throw; unknown keys are ignored (cards are prose).
Result<ModelCard> ModelCardFromJson(const nlohmann::json& j);

// Markdown for one evaluation: summary lines, per-class table, confusion.
std::string RenderEvaluationMarkdown(const EvaluationReport& report);

// Markdown for humans: tables of per-class metrics and the confusion matrix.
std::string RenderModelCardMarkdown(const ModelCard& card, const std::string& title);

}  // namespace threatd::ml
