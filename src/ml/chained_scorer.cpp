#include "ml/chained_scorer.h"

namespace threatd::ml {

Result<ChainedScorer> ChainedScorer::Create(std::shared_ptr<const InferenceEngine> detector,
                                            std::shared_ptr<const InferenceEngine> classifier,
                                            ChainOptions options) {
  if (!detector || !detector->binary()) {
    return Status::InvalidArgument("the chain's first model must be a binary threat detector");
  }
  if (classifier && classifier->NumOutputs() > kMaxInlineClasses) {
    return Status::InvalidArgument("the chained classifier has more than 64 classes",
                                   "score it on its own with InferenceEngine::PredictProba");
  }
  ChainedScorer s;
  s.detector_ = std::move(detector);
  s.classifier_ = std::move(classifier);
  s.options_ = options;
  return s;
}

ChainedScore ChainedScorer::Score(const float* detector_row, const float* classifier_row) const {
  ChainedScore score;
  score.attack_probability = detector_->PredictPositive(detector_row);
  score.is_attack = score.attack_probability >= detector_->threshold();
  if (!classifier_ || (!score.is_attack && !options_.classify_always)) return score;
  const size_t k = classifier_->NumOutputs();
  float proba[kMaxInlineClasses];  // Create() guarantees k <= kMaxInlineClasses
  const int c = classifier_->PredictClass(classifier_row, std::span<float>(proba, k));
  score.class_index = c;
  score.label = classifier_->classes()[static_cast<size_t>(c)];
  score.class_probability = proba[c];
  return score;
}

}  // namespace threatd::ml
