// ChainedScorer: detector -> classifier. A flow is classified only when the
// binary threat detector says "attack" (P >= its threshold), unless
// ChainOptions::classify_always is set.
//
// Ownership: shares the two engines (shared_ptr to const).
// Thread-safety: immutable; Score() from any thread. No allocation per call
// (classifiers are limited to kMaxInlineClasses classes).
#pragma once

#include <memory>
#include <string_view>

#include "ml/inference.h"

namespace threatd::ml {

struct ChainOptions {
  bool classify_always = false;  // also classify flows the detector calls benign
};

struct ChainedScore {
  float attack_probability = 0;  // detector's P(attack)
  bool is_attack = false;        // attack_probability >= detector threshold
  int class_index = -1;          // classifier's class; -1 when not classified
  std::string_view label;        // classifier label ("" when not classified)
  float class_probability = 0;
};

class ChainedScorer {
 public:
  static constexpr size_t kMaxInlineClasses = 64;

  // detector must be binary; classifier may be null (detection only).
  static Result<ChainedScorer> Create(std::shared_ptr<const InferenceEngine> detector,
                                      std::shared_ptr<const InferenceEngine> classifier,
                                      ChainOptions options = {});

  // Each row is in its own model's feature order (pass the same pointer when
  // both models share a feature profile).
  ChainedScore Score(const float* detector_row, const float* classifier_row) const;

 private:
  ChainedScorer() = default;
  std::shared_ptr<const InferenceEngine> detector_;
  std::shared_ptr<const InferenceEngine> classifier_;
  ChainOptions options_;
};

}  // namespace threatd::ml
