// BuildTrafficProfile: derives a TrafficProfile (per-class statistics, never
// rows) from a labelled flow::Dataset - the engine of `threatd profile`.
//
// Per class: up to max_components components, found by k-means
// (deterministic k-means++ seeding) on the class's normal scores, each with at
// least min_component_rows rows (smaller clusters are folded into the nearest
// large one). Per component: the protocol shares (from the identifiers, when
// the data carries them); per component and feature: fraction missing, and either the
// distinct values with their CDF (at most max_discrete_values of them) or
// quantiles + 1 evenly spaced quantiles; per component the correlation of the
// features' normal scores (mid-ranks, missing lowest).
// Classes with fewer than min_class_rows rows are left out (reported in
// ProfileReport::skipped_classes).
//
// Thread-safety: pure function. Memory: one class's column copy at a time.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "flow/dataset.h"
#include "sim/traffic_profile.h"

namespace threatd::sim {

struct ProfileOptions {
  size_t quantiles = 32;            // intervals of the quantile sketch (values has quantiles + 1 points)
  size_t max_discrete_values = 32;  // at most this many distinct values: stored exactly with their CDF
  size_t min_class_rows = 5;        // smaller classes are skipped (too few rows to be statistics)
  size_t max_components = 8;        // copula components per class
  size_t min_component_rows = 40;   // rows per component (so a class has rows / 40 at most)
  std::string created_at;           // ISO-8601, copied into the profile
};

struct ProfileReport {
  std::vector<std::string> skipped_classes;  // "Label (n rows)"
};

// dataset: labelled, cic_flow_meter (canonical feature names).
Result<TrafficProfile> BuildTrafficProfile(const flow::Dataset& dataset, const ProfileOptions& options,
                                           ProfileReport* report = nullptr);

}  // namespace threatd::sim
