#include "sim/profile_builder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "sim/random.h"

namespace threatd::sim {
namespace {

Marginal BuildMarginal(std::vector<double> column, const ProfileOptions& o) {
  Marginal m;
  const size_t n = column.size();
  std::vector<double> present;
  present.reserve(n);
  for (double v : column) {
    if (!std::isnan(v)) present.push_back(v);
  }
  m.missing = n ? static_cast<double>(n - present.size()) / static_cast<double>(n) : 1.0;
  if (present.empty()) return m;
  std::sort(present.begin(), present.end());
  m.integral = std::all_of(present.begin(), present.end(), [](double v) { return v == std::round(v); });
  std::vector<double> distinct;
  std::vector<double> cdf;
  for (size_t i = 0; i < present.size(); ++i) {
    if (i + 1 == present.size() || present[i + 1] != present[i]) {
      distinct.push_back(present[i]);
      cdf.push_back(static_cast<double>(i + 1) / static_cast<double>(present.size()));
    }
  }
  if (distinct.size() <= o.max_discrete_values) {
    m.kind = Marginal::Kind::kDiscrete;
    m.values = std::move(distinct);
    m.cdf = std::move(cdf);
    m.cdf.back() = 1.0;
    return m;
  }
  m.kind = Marginal::Kind::kContinuous;
  const size_t k = std::max<size_t>(o.quantiles, 2);
  for (size_t i = 0; i <= k; ++i) {  // type-7 quantiles
    const double h = static_cast<double>(present.size() - 1) * static_cast<double>(i) / static_cast<double>(k);
    const size_t lo = static_cast<size_t>(std::floor(h));
    const size_t hi = std::min(lo + 1, present.size() - 1);
    m.values.push_back(present[lo] + (h - static_cast<double>(lo)) * (present[hi] - present[lo]));
  }
  return m;
}

// Normal scores of one column: mid-ranks (ties averaged), missing values tied
// below every value, mapped through the normal quantile of rank / (n + 1).
std::vector<double> NormalScores(const std::vector<double>& column) {
  const size_t n = column.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  auto key = [&](size_t i) { return std::isnan(column[i]) ? -INFINITY : column[i]; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  std::vector<double> z(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && key(order[j + 1]) == key(order[i])) ++j;
    const double mid_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    const double score = NormalQuantile(mid_rank / static_cast<double>(n + 1));
    for (size_t t = i; t <= j; ++t) z[order[t]] = score;
    i = j + 1;
  }
  return z;
}

std::vector<double> Correlation(const std::vector<std::vector<double>>& scores) {
  const size_t d = scores.size();
  const size_t n = d ? scores[0].size() : 0;
  std::vector<std::vector<double>> centred(d);
  std::vector<double> norm(d, 0.0);
  for (size_t j = 0; j < d; ++j) {
    const double mean = std::accumulate(scores[j].begin(), scores[j].end(), 0.0) / static_cast<double>(n);
    centred[j].resize(n);
    for (size_t i = 0; i < n; ++i) {
      centred[j][i] = scores[j][i] - mean;
      norm[j] += centred[j][i] * centred[j][i];
    }
    norm[j] = std::sqrt(norm[j]);
  }
  std::vector<double> r(d * d, 0.0);
  for (size_t a = 0; a < d; ++a) {
    r[a * d + a] = 1.0;
    for (size_t b = a + 1; b < d; ++b) {
      double value = 0;
      if (norm[a] > 1e-12 && norm[b] > 1e-12) {  // a constant feature is uncorrelated
        double dot = 0;
        for (size_t i = 0; i < n; ++i) dot += centred[a][i] * centred[b][i];
        value = std::clamp(dot / (norm[a] * norm[b]), -1.0, 1.0);
      }
      r[a * d + b] = r[b * d + a] = value;
    }
  }
  return r;
}

double Distance2(const std::vector<double>& point, const std::vector<double>& centre) {
  double s = 0;
  for (size_t j = 0; j < point.size(); ++j) s += (point[j] - centre[j]) * (point[j] - centre[j]);
  return s;
}

size_t Nearest(const std::vector<double>& point, const std::vector<std::vector<double>>& centres,
               const std::vector<bool>& usable) {
  size_t best = 0;
  double best_d = INFINITY;
  for (size_t c = 0; c < centres.size(); ++c) {
    if (!usable[c]) continue;
    const double dist = Distance2(point, centres[c]);
    if (dist < best_d) best_d = dist, best = c;
  }
  return best;
}

// k-means on rows (points) with deterministic k-means++ seeding; clusters
// smaller than min_rows are folded into the nearest remaining one.
// Returns the cluster of each point, clusters numbered 0..m-1.
std::vector<size_t> Cluster(const std::vector<std::vector<double>>& points, size_t k, size_t min_rows) {
  const size_t n = points.size();
  std::vector<size_t> assign(n, 0);
  if (k <= 1) return assign;
  Rng rng(0x5EED);
  std::vector<std::vector<double>> centres{points[rng.Below(n)]};
  std::vector<double> d2(n);
  while (centres.size() < k) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      d2[i] = INFINITY;
      for (const auto& c : centres) d2[i] = std::min(d2[i], Distance2(points[i], c));
      total += d2[i];
    }
    if (total <= 0) break;
    double target = rng.Uniform() * total;
    size_t pick = n - 1;
    for (size_t i = 0; i < n; ++i) {
      if ((target -= d2[i]) < 0) {
        pick = i;
        break;
      }
    }
    centres.push_back(points[pick]);
  }
  std::vector<bool> usable(centres.size(), true);
  auto recompute = [&] {
    const size_t d = points[0].size();
    std::vector<std::vector<double>> sum(centres.size(), std::vector<double>(d, 0.0));
    std::vector<size_t> count(centres.size(), 0);
    for (size_t i = 0; i < n; ++i) {
      ++count[assign[i]];
      for (size_t j = 0; j < d; ++j) sum[assign[i]][j] += points[i][j];
    }
    for (size_t c = 0; c < centres.size(); ++c) {
      if (count[c] == 0) continue;
      for (size_t j = 0; j < d; ++j) centres[c][j] = sum[c][j] / static_cast<double>(count[c]);
    }
    return count;
  };
  for (int iteration = 0; iteration < 50; ++iteration) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      const size_t c = Nearest(points[i], centres, usable);
      changed |= c != assign[i];
      assign[i] = c;
    }
    recompute();
    if (!changed && iteration > 0) break;
  }
  // Fold small clusters, smallest first, into their nearest neighbours.
  for (;;) {
    const std::vector<size_t> count = recompute();
    size_t smallest = centres.size();
    for (size_t c = 0; c < centres.size(); ++c) {
      if (usable[c] && count[c] < min_rows && (smallest == centres.size() || count[c] < count[smallest])) smallest = c;
    }
    size_t live = 0;
    for (size_t c = 0; c < centres.size(); ++c) live += usable[c] && count[c] > 0;
    if (smallest == centres.size() || live <= 1) break;
    usable[smallest] = false;
    for (size_t i = 0; i < n; ++i) {
      if (assign[i] == smallest) assign[i] = Nearest(points[i], centres, usable);
    }
  }
  // Renumber the non-empty clusters densely.
  std::map<size_t, size_t> dense;
  for (size_t& a : assign) a = dense.emplace(a, dense.size()).first->second;
  return assign;
}

Component BuildComponent(const flow::Dataset& data, const std::vector<size_t>& rows, const ProfileOptions& o) {
  const size_t d = data.cols();
  Component k;
  k.rows = rows.size();
  std::vector<std::vector<double>> scores(d);
  for (size_t j = 0; j < d; ++j) {
    std::vector<double> column(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) column[i] = data.row(rows[i])[j];
    scores[j] = NormalScores(column);
    k.marginals.push_back(BuildMarginal(std::move(column), o));
  }
  k.correlation = Correlation(scores);
  return k;
}

}  // namespace

Result<TrafficProfile> BuildTrafficProfile(const flow::Dataset& data, const ProfileOptions& o,
                                           ProfileReport* report) {
  if (data.labels.size() != data.rows() || data.rows() == 0) {
    return Status::InvalidArgument("profile needs a labelled, non-empty flow table",
                                   "pass CICFlowMeter CSV files with a label column (--label-column)");
  }
  if (!data.cic_flow_meter) {
    return Status::InvalidArgument("profile needs CICFlowMeter flow data (canonical feature names)",
                                   "see docs/formats/flows.md for the supported dialects");
  }
  TrafficProfile p;
  p.created_at = o.created_at;
  p.features = data.feature_names;
  for (const auto& f : data.source_files) p.source_files.push_back(std::filesystem::path(f).filename().string());
  std::map<std::string, std::vector<size_t>> rows_by_class;
  for (size_t i = 0; i < data.rows(); ++i) rows_by_class[data.labels[i]].push_back(i);
  const size_t d = data.cols();
  for (const auto& [label, rows] : rows_by_class) {
    if (rows.size() < o.min_class_rows) {
      if (report) report->skipped_classes.push_back(fmt::format("{} ({} rows)", label, rows.size()));
      continue;
    }
    ClassProfile c;
    c.label = label;
    c.rows = rows.size();
    // Cluster in the space of the class's normal scores (scale-free).
    std::vector<std::vector<double>> points(rows.size(), std::vector<double>(d));
    for (size_t j = 0; j < d; ++j) {
      std::vector<double> column(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) column[i] = data.row(rows[i])[j];
      const std::vector<double> z = NormalScores(column);
      for (size_t i = 0; i < rows.size(); ++i) points[i][j] = z[i];
    }
    const size_t k = std::clamp<size_t>(rows.size() / std::max<size_t>(o.min_component_rows, 1), 1,
                                        std::max<size_t>(o.max_components, 1));
    const std::vector<size_t> cluster = Cluster(points, k, o.min_component_rows);
    const size_t clusters = *std::max_element(cluster.begin(), cluster.end()) + 1;
    for (size_t m = 0; m < clusters; ++m) {
      std::vector<size_t> members;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (cluster[i] == m) members.push_back(rows[i]);
      }
      Component component = BuildComponent(data, members, o);
      component.weight = static_cast<double>(members.size()) / static_cast<double>(rows.size());
      if (data.identifiers.size() == data.rows()) {
        size_t known = 0;
        for (size_t i : members) {
          if (data.identifiers[i].protocol >= 0) {
            component.protocols[data.identifiers[i].protocol] += 1;
            ++known;
          }
        }
        for (auto& [proto, share] : component.protocols) share /= static_cast<double>(known);
      }
      c.components.push_back(std::move(component));
    }
    p.classes.push_back(std::move(c));
  }
  THREATD_RETURN_IF_ERROR(ValidateTrafficProfile(p));
  return p;
}

}  // namespace threatd::sim
