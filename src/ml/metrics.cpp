#include "ml/metrics.h"

#include <cassert>

namespace threatd::ml {

EvaluationReport Evaluate(const std::vector<std::string>& classes, const std::vector<int>& truth,
                          const std::vector<int>& predicted, const std::string& benign_label) {
  assert(truth.size() == predicted.size());
  const size_t k = classes.size();
  EvaluationReport r;
  r.classes = classes;
  r.rows = truth.size();
  r.confusion.assign(k, std::vector<uint64_t>(k, 0));
  for (size_t i = 0; i < truth.size(); ++i) {
    r.confusion[static_cast<size_t>(truth[i])][static_cast<size_t>(predicted[i])]++;
  }
  int benign = -1;
  for (size_t c = 0; c < k; ++c) {
    if (classes[c] == benign_label) benign = static_cast<int>(c);
  }
  uint64_t correct = 0, benign_rows = 0, benign_fp = 0, attack_rows = 0, attack_hit = 0;
  double f1_sum = 0;
  size_t f1_count = 0;
  for (size_t t = 0; t < k; ++t) {
    uint64_t support = 0, predicted_as = 0;
    for (size_t p = 0; p < k; ++p) {
      support += r.confusion[t][p];
      predicted_as += r.confusion[p][t];
    }
    const uint64_t tp = r.confusion[t][t];
    correct += tp;
    ClassMetrics m;
    m.label = classes[t];
    m.support = support;
    m.precision = predicted_as ? static_cast<double>(tp) / static_cast<double>(predicted_as) : 0;
    m.recall = support ? static_cast<double>(tp) / static_cast<double>(support) : 0;
    m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
    if (support > 0 || predicted_as > 0) {
      f1_sum += m.f1;
      ++f1_count;
    }
    r.per_class.push_back(m);
    const bool is_benign = static_cast<int>(t) == benign;
    for (size_t p = 0; p < k; ++p) {
      const bool predicted_attack = static_cast<int>(p) != benign;
      if (is_benign) {
        benign_rows += r.confusion[t][p];
        if (predicted_attack) benign_fp += r.confusion[t][p];
      } else {
        attack_rows += r.confusion[t][p];
        if (predicted_attack) attack_hit += r.confusion[t][p];
      }
    }
  }
  r.macro_f1 = f1_count ? f1_sum / static_cast<double>(f1_count) : 0;
  r.accuracy = r.rows ? static_cast<double>(correct) / static_cast<double>(r.rows) : 0;
  r.benign_fpr = benign_rows ? static_cast<double>(benign_fp) / static_cast<double>(benign_rows) : 0;
  r.attack_recall = attack_rows ? static_cast<double>(attack_hit) / static_cast<double>(attack_rows) : 0;
  return r;
}

}  // namespace threatd::ml
