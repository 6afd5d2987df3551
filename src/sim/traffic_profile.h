// TrafficProfile: per-class feature statistics of labelled flow data (never
// rows), from which sim::FlowGenerator samples plausible synthetic flows.
//
// Model: per class, a small mixture of Gaussian copulas (components found by
// k-means on the class's normal scores, each at least kMinComponentRows rows).
// In a component each feature has a marginal (a quantile sketch, or the
// distinct values with their CDF when there are few) and a fraction missing;
// features are coupled through the correlation matrix of their normal scores.
// Missing values sit below every value in the copula, so missingness stays
// correlated with the other features. File format:
// docs/formats/traffic-profile.md (JSON, gzip allowed).
//
// Ownership: plain values. Thread-safety: share read-only freely.
// Blocking: ReadTrafficProfile/WriteTrafficProfile do file I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace threatd::sim {

inline constexpr int kProfileFormatVersion = 1;
inline constexpr std::string_view kProfileFormatName = "threatd-traffic-profile";

struct Marginal {
  enum class Kind { kContinuous, kDiscrete };
  Kind kind = Kind::kContinuous;
  double missing = 0;          // fraction of the class's rows where the feature is missing
  bool integral = false;       // every observed value is an integer: samples are rounded
  // kContinuous: quantiles of the non-missing values at p = i / (values.size() - 1).
  // kDiscrete: the distinct non-missing values, ascending.
  std::vector<double> values;
  std::vector<double> cdf;     // kDiscrete only: P(X <= values[i] | not missing); last is 1
};

struct Component {
  double weight = 1;                // share of the class's flows (a class's weights sum to 1)
  uint64_t rows = 0;                // rows the statistics were derived from
  std::map<int, double> protocols;  // IP protocol number -> share of the component's flows (may be empty)
  std::vector<Marginal> marginals;  // one per TrafficProfile::features entry
  // Correlation of the normal scores, features.size()^2 row-major, symmetric,
  // unit diagonal (the JSON stores the strict upper triangle).
  std::vector<double> correlation;
};

struct ClassProfile {
  std::string label;                // normalised class label (flow/labels.h)
  uint64_t rows = 0;                // rows the statistics were derived from
  std::vector<Component> components;
  // Latent scale used when sampling this class (in (0, 1]): 1 reproduces the
  // statistics; below 1 draws more typical flows. Set by CalibrateSpread
  // (spread_calibration.h) so the default models recognise the class.
  double spread = 1.0;
};

struct TrafficProfile {
  int format_version = kProfileFormatVersion;
  std::string created_at;                 // ISO-8601 UTC
  std::vector<std::string> source_files;  // provenance (file names)
  std::vector<std::string> features;      // canonical flow feature names, in sampling order
  std::vector<ClassProfile> classes;

  const ClassProfile* FindClass(std::string_view label) const;
};

// Structural checks: sizes, monotone quantiles/CDFs, fractions in [0, 1],
// correlations in [-1, 1], known feature names. The message names the class
// and feature.
Status ValidateTrafficProfile(const TrafficProfile& profile);

std::string SerializeTrafficProfile(const TrafficProfile& profile);   // compact JSON
Result<TrafficProfile> ParseTrafficProfile(std::string_view json);    // validates
// Reads/writes a profile file; gzip when the path ends in .gz (read: detected).
Result<TrafficProfile> ReadTrafficProfile(const std::string& path);
Status WriteTrafficProfile(const TrafficProfile& profile, const std::string& path);

}  // namespace threatd::sim
