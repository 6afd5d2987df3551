#include "ml/stump.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace threatd::ml {

StumpFit FitStump(const std::vector<float>& values, size_t cols, const std::vector<int>& y,
                  const std::vector<size_t>& rows, size_t num_classes, size_t max_rows) {
  std::vector<size_t> use;
  const size_t step = rows.size() > max_rows ? (rows.size() + max_rows - 1) / max_rows : 1;
  for (size_t i = 0; i < rows.size(); i += step) use.push_back(rows[i]);

  StumpFit best;
  size_t best_correct = 0;
  std::vector<std::pair<float, int>> col;
  std::vector<size_t> left(num_classes), right(num_classes);
  for (size_t f = 0; f < cols; ++f) {
    col.clear();
    std::fill(left.begin(), left.end(), 0);
    std::fill(right.begin(), right.end(), 0);
    for (size_t r : use) {
      const float v = values[r * cols + f];
      if (std::isnan(v)) left[static_cast<size_t>(y[r])]++;
      else col.emplace_back(v, y[r]);
    }
    for (const auto& [v, c] : col) right[static_cast<size_t>(c)]++;
    std::sort(col.begin(), col.end());
    auto score = [&](size_t* lc, size_t* rc) {
      *lc = static_cast<size_t>(std::max_element(left.begin(), left.end()) - left.begin());
      *rc = static_cast<size_t>(std::max_element(right.begin(), right.end()) - right.begin());
      return left[*lc] + right[*rc];
    };
    for (size_t i = 0; i <= col.size(); ++i) {
      // Threshold between col[i-1] and col[i]: everything before i goes left.
      if (i == 0 || i == col.size() || col[i].first != col[i - 1].first) {
        size_t lc = 0, rc = 0;
        const size_t correct = score(&lc, &rc);
        if (correct > best_correct) {
          best_correct = correct;
          best.feature = f;
          best.threshold = i == 0 ? (col.empty() ? 0.0f : col[0].first)
                           : i == col.size() ? std::nextafter(col.back().first, INFINITY)
                                             : col[i - 1].first + (col[i].first - col[i - 1].first) / 2;
          if (i > 0 && i < col.size() && !(best.threshold > col[i - 1].first)) best.threshold = col[i].first;
          best.left_class = static_cast<int>(lc);
          best.right_class = static_cast<int>(rc);
        }
      }
      if (i < col.size()) {
        left[static_cast<size_t>(col[i].second)]++;
        right[static_cast<size_t>(col[i].second)]--;
      }
    }
  }
  return best;
}

}  // namespace threatd::ml
