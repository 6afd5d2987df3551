#include "ml/training_split.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace threatd::ml {

Result<TrainValidationSplit> SplitPerClass(const std::vector<int>& y, size_t num_classes,
                                           const std::vector<flow::RowIdentifiers>& ids, ValidationMode mode,
                                           double fraction, uint64_t seed) {
  if (mode == ValidationMode::kTime) {
    if (ids.size() != y.size()) {
      return Status::InvalidArgument("--validation time needs a Timestamp column on every row",
                                     "add timestamps or use --validation random");
    }
    const bool any = std::any_of(ids.begin(), ids.end(), [](const auto& id) { return id.timestamp_us != 0; });
    if (!any) {
      return Status::InvalidArgument("--validation time: the data has no timestamps",
                                     "use --validation random for data without a Timestamp column");
    }
  }
  std::vector<std::vector<size_t>> by_class(num_classes);
  for (size_t i = 0; i < y.size(); ++i) by_class[static_cast<size_t>(y[i])].push_back(i);
  std::mt19937_64 rng(seed);
  TrainValidationSplit split;
  for (auto& rows : by_class) {
    if (mode == ValidationMode::kTime) {
      std::stable_sort(rows.begin(), rows.end(),
                       [&](size_t a, size_t b) { return ids[a].timestamp_us < ids[b].timestamp_us; });
    } else {
      std::shuffle(rows.begin(), rows.end(), rng);
    }
    const size_t n = rows.size();
    size_t held = static_cast<size_t>(std::floor(static_cast<double>(n) * fraction));
    if (n >= 2) held = std::clamp<size_t>(held, 1, n - 1);
    else held = 0;
    split.train.insert(split.train.end(), rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(held));
    split.validation.insert(split.validation.end(), rows.end() - static_cast<std::ptrdiff_t>(held), rows.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

std::vector<float> ClassWeights(const std::vector<int>& y, const std::vector<size_t>& rows, size_t num_classes,
                                float cap) {
  std::vector<double> count(num_classes, 0);
  for (size_t r : rows) count[static_cast<size_t>(y[r])] += 1;
  const double present = static_cast<double>(std::count_if(count.begin(), count.end(), [](double c) { return c > 0; }));
  std::vector<float> w(num_classes, 1.0f);
  for (size_t c = 0; c < num_classes; ++c) {
    if (count[c] > 0) {
      w[c] = std::min(cap, static_cast<float>(static_cast<double>(rows.size()) / (present * count[c])));
    }
  }
  return w;
}

}  // namespace threatd::ml
