// FlowGenerator: an endless, deterministic stream of labelled synthetic flow
// records sampled from a TrafficProfile (per-class Gaussian copula), with
// plausible identifiers - what `threatd simulate`, the test stream (issue 4),
// demos and the tests that cannot read ../shared use.
//
// Per record: a class is drawn from the mix, a component of that class by its
// weight; the features from the component's copula (correlated normals ->
// uniforms -> each feature's inverse marginal, missing below every value); the protocol from the component's protocol shares.
// Identifiers: attacks come from external addresses (RFC 5737 documentation
// ranges, a few attacker hosts per class, many for DDoS) against victims in
// 192.168.10.0/24; BENIGN flows are internal hosts talking to internal
// servers or external addresses. Source ports are ephemeral; dst_port is the
// sampled feature; timestamps advance by exponential gaps at `rate_per_second`
// from `start_time_us`; the flow id is CICFlowMeter's
// "src-dst-srcport-dstport-protocol".
//
// Determinism: the same profile, options and seed give the same records.
// Ownership: shares the profile (shared_ptr to const).
// Thread-safety: not thread-safe (it owns its random state); use one
// generator per thread. Next() never blocks and allocates only the record's
// strings.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "flow/flow_csv_stream.h"
#include "sim/random.h"
#include "sim/traffic_profile.h"

namespace threatd::sim {

// 2026-01-01T00:00:00Z in microseconds.
inline constexpr int64_t kDefaultStartTimeUs = 1767225600LL * 1000000;

struct GeneratorOptions {
  uint64_t seed = 1;
  // Class label -> weight (normalised; labels through flow::NormaliseLabel).
  // Empty: BENIGN 0.8 and the rest shared equally by the profile's attacks.
  std::map<std::string, double> mix;
  double rate_per_second = 100;  // mean flows per second of simulated time (> 0)
  int64_t start_time_us = kDefaultStartTimeUs;
  // Scales the copula's latent normals, on top of each class's own spread
  // (TrafficProfile): below 1 concentrates flows towards each component's
  // median (more typical flows, less variety). In (0, 1].
  double spread = 1.0;
};

// "BENIGN=0.7,DDoS=0.1,Portscan=0.2" -> weights. Fails naming the bad entry.
Result<std::map<std::string, double>> ParseMix(std::string_view text);

class FlowGenerator {
 public:
  // Fails when the mix names a class the profile lacks (listing the classes it
  // has), has a negative weight, or sums to zero; or when a class's
  // correlation cannot be factorised.
  static Result<FlowGenerator> Create(std::shared_ptr<const TrafficProfile> profile, GeneratorOptions options);

  // The next record: features in canonical order (flow::FlowRecord), NaN for
  // features the profile does not model; label set; row = 1-based sequence.
  flow::FlowRecord Next();

  const TrafficProfile& profile() const { return *profile_; }
  // Class labels with their normalised mix shares, in profile order.
  const std::vector<std::pair<std::string, double>>& mix() const { return shares_; }

 private:
  struct ComponentSampler {
    const Component* component = nullptr;
    std::vector<double> cholesky;  // lower triangular, d x d row-major
    std::vector<std::pair<int, double>> protocol_cdf;
  };
  struct ClassSampler {
    const ClassProfile* profile = nullptr;
    std::vector<ComponentSampler> components;
    std::vector<double> component_cdf;
    double spread = 1.0;  // class spread x GeneratorOptions::spread
  };

  FlowGenerator(std::shared_ptr<const TrafficProfile> profile, GeneratorOptions options);
  void SampleFeatures(const ComponentSampler& sampler, double spread, flow::FlowRecord& record);
  void SampleIdentifiers(const ClassSampler& sampler, const ComponentSampler& component, flow::FlowRecord& record);

  std::shared_ptr<const TrafficProfile> profile_;
  GeneratorOptions options_;
  Rng rng_;
  std::vector<ClassSampler> samplers_;
  std::vector<std::pair<std::string, double>> shares_;
  std::vector<double> class_cdf_;       // over samplers_
  std::vector<size_t> feature_index_;   // profile feature -> canonical index
  std::vector<double> normals_;         // scratch, d
  double time_us_ = 0;
  uint64_t sequence_ = 0;
};

// Inverse of one marginal at u in (0, 1) (missing included): NaN or a value.
double SampleMarginal(const Marginal& marginal, double u);

// Lower Cholesky factor of a (possibly singular) correlation matrix:
// semidefinite, directions the data does not span get zero columns, rows
// rescaled to unit norm when rounding pushed them above. Fails only on NaN.
Result<std::vector<double>> CholeskyOfCorrelation(const std::vector<double>& correlation, size_t d);

}  // namespace threatd::sim
