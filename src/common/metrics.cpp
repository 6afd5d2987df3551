#include "common/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace threatd::metrics {

void Gauge::Add(double d) {
  double cur = v_.load(std::memory_order_relaxed);
  while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

namespace {
std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// Inserts an extra label into an already rendered label set.
std::string WithLabel(const std::string& rendered, const std::string& name, const std::string& value) {
  std::string extra = fmt::format("{}=\"{}\"", name, value);
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}
}  // namespace

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += Escape(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

Registry::Family& Registry::FamilyFor(const std::string& name, Kind kind, const std::string& help) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.kind = kind;
    it->second.help = help;
  } else if (it->second.kind != kind) {
    // A programming error: one metric name registered with two types.
    throw std::logic_error("metric " + name + " registered with two different types");
  }
  return it->second;
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
  const std::string key = RenderLabels(labels);
  {
    std::shared_lock lock(mu_);
    auto f = families_.find(name);
    if (f != families_.end()) {
      auto c = f->second.counters.find(key);
      if (c != f->second.counters.end()) return *c->second;
    }
  }
  std::unique_lock lock(mu_);
  auto& slot = FamilyFor(name, Kind::kCounter, help).counters[key];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  const std::string key = RenderLabels(labels);
  std::unique_lock lock(mu_);
  auto& slot = FamilyFor(name, Kind::kGauge, help).gauges[key];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help, const Labels& labels,
                                  std::vector<double> bounds) {
  const std::string key = RenderLabels(labels);
  {
    std::shared_lock lock(mu_);
    auto f = families_.find(name);
    if (f != families_.end()) {
      auto h = f->second.histograms.find(key);
      if (h != f->second.histograms.end()) return *h->second;
    }
  }
  std::unique_lock lock(mu_);
  auto& slot = FamilyFor(name, Kind::kHistogram, help).histograms[key];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help, const Labels& labels,
                                std::function<double()> read) {
  std::unique_lock lock(mu_);
  FamilyFor(name, Kind::kGauge, help).callbacks[RenderLabels(labels)] = std::move(read);
}

std::string Registry::Render() const {
  std::shared_lock lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter" : f.kind == Kind::kGauge ? "gauge" : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, type);
    for (const auto& [l, c] : f.counters) out += fmt::format("{}{} {}\n", name, l, c->Value());
    for (const auto& [l, g] : f.gauges) out += fmt::format("{}{} {}\n", name, l, FormatValue(g->Value()));
    for (const auto& [l, cb] : f.callbacks) out += fmt::format("{}{} {}\n", name, l, FormatValue(cb()));
    for (const auto& [l, h] : f.histograms) {
      const auto counts = h->BucketCounts();
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h->bounds().size(); ++i) {
        cumulative += counts[i];
        out += fmt::format("{}_bucket{} {}\n", name, WithLabel(l, "le", FormatValue(h->bounds()[i])), cumulative);
      }
      cumulative += counts.back();
      out += fmt::format("{}_bucket{} {}\n", name, WithLabel(l, "le", "+Inf"), cumulative);
      out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, l, FormatValue(h->Sum()), name, l, h->Count());
    }
  }
  return out;
}

}  // namespace threatd::metrics
