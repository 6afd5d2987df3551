// Classification metrics for the model card and `threatd evaluate`:
// per-class precision/recall/F1 with support, macro-F1, accuracy, confusion
// matrix, the benign false-positive rate and the attack recall.
//
// "Benign" is the class named by `benign_label`; every other class is an
// attack. benign_fpr = benign rows predicted as any attack / benign rows;
// attack_recall = attack rows predicted as any attack / attack rows (so a
// classifier confusing two attacks still counts as detecting them).
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace threatd::ml {

struct ClassMetrics {
  std::string label;
  uint64_t support = 0;  // true rows of this class
  double precision = 0;
  double recall = 0;
  double f1 = 0;
};

struct EvaluationReport {
  std::vector<std::string> classes;  // row/column order of `confusion`
  std::vector<ClassMetrics> per_class;
  std::vector<std::vector<uint64_t>> confusion;  // [true][predicted]
  uint64_t rows = 0;
  double macro_f1 = 0;   // over classes with support > 0
  double accuracy = 0;
  double benign_fpr = 0;
  double attack_recall = 0;
};

// truth/predicted are class indices into `classes`. Classes with no support
// and no predictions are left out of macro-F1 (they would score 0 by fiat).
EvaluationReport Evaluate(const std::vector<std::string>& classes,
                          const std::vector<int>& truth,
                          const std::vector<int>& predicted,
                          const std::string& benign_label = "BENIGN");

}  // namespace threatd::ml
