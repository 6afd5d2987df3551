#include "sim/flow_generator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "flow/features.h"
#include "flow/labels.h"

namespace threatd::sim {
namespace {

constexpr double kBenignDefaultShare = 0.8;

std::string Ipv4(int a, int b, int c, int d) { return fmt::format("{}.{}.{}.{}", a, b, c, d); }

// A small deterministic hash to pick stable per-class hosts.
uint32_t Mix32(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::map<std::string, double>> ParseMix(std::string_view text) {
  std::map<std::string, double> mix;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.rfind('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("mix entry '{}' has no '=weight'", item),
                                     "write --mix \"BENIGN=0.7,DDoS=0.3\"");
    }
    const std::string value(Trim(item.substr(eq + 1)));
    char* end = nullptr;
    const double weight = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(weight) || weight < 0) {
      return Status::InvalidArgument(fmt::format("mix entry '{}': weight '{}' is not a non-negative number", item, value),
                                     "write --mix \"BENIGN=0.7,DDoS=0.3\"");
    }
    mix[flow::NormaliseLabel(Trim(item.substr(0, eq)))] += weight;
  }
  if (mix.empty()) return Status::InvalidArgument("empty mix", "write --mix \"BENIGN=0.7,DDoS=0.3\"");
  return mix;
}

double SampleMarginal(const Marginal& m, double u) {
  if (u < m.missing || m.values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double v = std::clamp((u - m.missing) / (1.0 - m.missing), 0.0, 1.0);
  double x;
  if (m.kind == Marginal::Kind::kDiscrete) {
    const auto it = std::lower_bound(m.cdf.begin(), m.cdf.end(), v);
    x = m.values[std::min<size_t>(static_cast<size_t>(it - m.cdf.begin()), m.values.size() - 1)];
  } else {
    const double h = v * static_cast<double>(m.values.size() - 1);
    const size_t lo = std::min(static_cast<size_t>(h), m.values.size() - 1);
    const size_t hi = std::min(lo + 1, m.values.size() - 1);
    x = m.values[lo] + (h - static_cast<double>(lo)) * (m.values[hi] - m.values[lo]);
  }
  return m.integral ? std::round(x) : x;
}

Result<std::vector<double>> CholeskyOfCorrelation(const std::vector<double>& r, size_t d) {
  for (double v : r) {
    if (std::isnan(v)) return Status::Validation("correlation contains NaN", "regenerate the profile with `threatd profile`");
  }
  // Semidefinite Cholesky: a correlation estimated from fewer rows than
  // features is singular (and rounding makes it slightly indefinite); a pivot
  // at or below kPivotFloor marks a direction the data does not span, and its
  // column is left zero, so samples stay in the span of the observed scores.
  constexpr double kPivotFloor = 1e-6;
  std::vector<double> l(d * d, 0.0);
  for (size_t j = 0; j < d; ++j) {
    double pivot = 1.0;
    for (size_t k = 0; k < j; ++k) pivot -= l[j * d + k] * l[j * d + k];
    if (pivot <= kPivotFloor) continue;
    l[j * d + j] = std::sqrt(pivot);
    for (size_t i = j + 1; i < d; ++i) {
      double s = r[i * d + j];
      for (size_t k = 0; k < j; ++k) s -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = s / l[j * d + j];
    }
  }
  // Rows whose norm drifted above 1 (rounding of an indefinite input) are
  // rescaled so each z stays standard normal.
  for (size_t i = 0; i < d; ++i) {
    double norm = 0;
    for (size_t k = 0; k <= i; ++k) norm += l[i * d + k] * l[i * d + k];
    if (norm > 1.0) {
      for (size_t k = 0; k <= i; ++k) l[i * d + k] /= std::sqrt(norm);
    }
  }
  return l;
}

FlowGenerator::FlowGenerator(std::shared_ptr<const TrafficProfile> profile, GeneratorOptions options)
    : profile_(std::move(profile)), options_(std::move(options)), rng_(options_.seed) {}

Result<FlowGenerator> FlowGenerator::Create(std::shared_ptr<const TrafficProfile> profile, GeneratorOptions options) {
  if (!profile) return Status::InvalidArgument("no traffic profile");
  THREATD_RETURN_IF_ERROR(ValidateTrafficProfile(*profile));
  if (!(options.rate_per_second > 0) || !std::isfinite(options.rate_per_second)) {
    return Status::InvalidArgument(fmt::format("rate must be a positive number of flows per second, got {}",
                                               options.rate_per_second));
  }
  if (!(options.spread > 0 && options.spread <= 1)) {
    return Status::InvalidArgument(fmt::format("spread must be in (0, 1], got {}", options.spread));
  }
  std::map<std::string, double> mix = options.mix;
  if (mix.empty()) {
    const bool has_benign = profile->FindClass(flow::kBenignLabel) != nullptr;
    const size_t attacks = profile->classes.size() - (has_benign ? 1 : 0);
    for (const auto& c : profile->classes) {
      if (c.label == flow::kBenignLabel) {
        mix[c.label] = attacks ? kBenignDefaultShare : 1.0;
      } else {
        mix[c.label] = (has_benign ? 1.0 - kBenignDefaultShare : 1.0) / static_cast<double>(attacks);
      }
    }
  }
  std::string available;
  for (const auto& c : profile->classes) available += (available.empty() ? "" : ", ") + c.label;
  double total = 0;
  for (const auto& [label, weight] : mix) {
    if (!profile->FindClass(label)) {
      return Status::InvalidArgument(fmt::format("mix names class '{}' that the profile does not have", label),
                                     fmt::format("the profile's classes: {}", available));
    }
    if (weight < 0 || !std::isfinite(weight)) return Status::InvalidArgument(fmt::format("mix weight of '{}' is negative", label));
    total += weight;
  }
  if (!(total > 0)) return Status::InvalidArgument("mix weights sum to zero", "give at least one class a positive weight");

  FlowGenerator g(profile, std::move(options));
  const size_t d = profile->features.size();
  for (const auto& f : profile->features) g.feature_index_.push_back(*flow::FindFeature(f));
  g.normals_.resize(d);
  double cumulative = 0;
  for (const auto& c : profile->classes) {
    const auto it = mix.find(c.label);
    if (it == mix.end() || it->second == 0) continue;
    ClassSampler s;
    s.profile = &c;
    s.spread = c.spread * g.options_.spread;
    double weights = 0;
    for (const auto& k : c.components) {
      auto l = CholeskyOfCorrelation(k.correlation, d);
      if (!l.ok()) return l.status().WithContext(fmt::format("class '{}'", c.label));
      ComponentSampler cs{&k, std::move(*l), {}};
      double pc = 0;
      for (const auto& [proto, share] : k.protocols) cs.protocol_cdf.emplace_back(proto, pc += share);
      s.components.push_back(std::move(cs));
      s.component_cdf.push_back(weights += k.weight);
    }
    for (double& w : s.component_cdf) w /= weights > 0 ? weights : 1.0;
    g.samplers_.push_back(std::move(s));
    cumulative += it->second / total;
    g.class_cdf_.push_back(cumulative);
    g.shares_.emplace_back(c.label, it->second / total);
  }
  g.class_cdf_.back() = 1.0;
  g.time_us_ = static_cast<double>(g.options_.start_time_us);
  return g;
}

void FlowGenerator::SampleFeatures(const ComponentSampler& s, double spread, flow::FlowRecord& record) {
  const size_t d = normals_.size();
  for (auto& z : normals_) z = rng_.Normal();
  for (size_t i = d; i-- > 0;) {  // z = L g, in place from the bottom row up
    double v = 0;
    for (size_t k = 0; k <= i; ++k) v += s.cholesky[i * d + k] * normals_[k];
    normals_[i] = v * spread;
  }
  for (size_t j = 0; j < d; ++j) {
    const double u = std::clamp(NormalCdf(normals_[j]), 1e-12, 1.0 - 1e-12);
    record.features[feature_index_[j]] = static_cast<float>(SampleMarginal(s.component->marginals[j], u));
  }
}

void FlowGenerator::SampleIdentifiers(const ClassSampler& s, const ComponentSampler& component,
                                      flow::FlowRecord& record) {
  auto& ids = record.ids;
  const std::string& label = s.profile->label;
  uint64_t class_key = 0xCBF29CE484222325ull ^ options_.seed;  // FNV-1a: stable everywhere
  for (char ch : label) class_key = (class_key ^ static_cast<unsigned char>(ch)) * 0x100000001B3ull;
  int protocol = 6;
  if (!component.protocol_cdf.empty()) {
    const double u = rng_.Uniform();
    protocol = component.protocol_cdf.back().first;
    for (const auto& [proto, cdf] : component.protocol_cdf) {
      if (u < cdf) {
        protocol = proto;
        break;
      }
    }
  }
  if (const auto p = flow::FindFeature("protocol")) record.features[*p] = static_cast<float>(protocol);
  if (label == flow::kBenignLabel) {
    ids.src_ip = Ipv4(192, 168, 10, 2 + static_cast<int>(rng_.Below(253)));
    ids.dst_ip = rng_.Uniform() < 0.6 ? Ipv4(192, 0, 2, 1 + static_cast<int>(rng_.Below(254)))
                                      : Ipv4(192, 168, 10, 1 + static_cast<int>(rng_.Below(20)));
  } else {
    const bool distributed = label.find("DDoS") != std::string::npos;
    const bool scan = label.find("Portscan") != std::string::npos;
    const uint64_t host = rng_.Below(distributed ? 500 : 3);
    const uint32_t h = Mix32(class_key * 1000003 + host);
    ids.src_ip = (h & 1) ? Ipv4(203, 0, 113, 1 + static_cast<int>((h >> 1) % 254))
                         : Ipv4(198, 51, 100, 1 + static_cast<int>((h >> 1) % 254));
    const int victim = scan ? 1 + static_cast<int>(rng_.Below(254))
                            : 50 + static_cast<int>(Mix32(class_key + rng_.Below(2)) % 20);
    ids.dst_ip = Ipv4(192, 168, 10, victim);
  }
  ids.src_port = 32768 + static_cast<int32_t>(rng_.Below(28232));  // Linux ephemeral range
  const size_t dst_port_index = *flow::FindFeature("dst_port");
  const float dst_port = record.features[dst_port_index];
  ids.dst_port = std::isnan(dst_port) ? 0 : std::clamp(static_cast<int32_t>(dst_port), 0, 65535);
  if (!std::isnan(dst_port)) record.features[dst_port_index] = static_cast<float>(ids.dst_port);
  ids.protocol = protocol;
  time_us_ += rng_.Exponential(options_.rate_per_second) * 1e6;
  ids.timestamp_us = static_cast<int64_t>(time_us_);
  ids.flow_id = fmt::format("{}-{}-{}-{}-{}", ids.src_ip, ids.dst_ip, ids.src_port, ids.dst_port, protocol);
}

flow::FlowRecord FlowGenerator::Next() {
  flow::FlowRecord record;
  record.features.fill(std::numeric_limits<float>::quiet_NaN());
  const double u = rng_.Uniform();
  const size_t c = std::min<size_t>(
      static_cast<size_t>(std::upper_bound(class_cdf_.begin(), class_cdf_.end(), u) - class_cdf_.begin()),
      samplers_.size() - 1);
  const ClassSampler& sampler = samplers_[c];
  const double v = rng_.Uniform();
  const size_t k = std::min<size_t>(static_cast<size_t>(std::upper_bound(sampler.component_cdf.begin(),
                                                                         sampler.component_cdf.end(), v) -
                                                        sampler.component_cdf.begin()),
                                    sampler.components.size() - 1);
  SampleFeatures(sampler.components[k], sampler.spread, record);
  SampleIdentifiers(sampler, sampler.components[k], record);
  record.label = samplers_[c].profile->label;
  record.row = ++sequence_;
  return record;
}

}  // namespace threatd::sim
