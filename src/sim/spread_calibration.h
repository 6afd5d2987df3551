// CalibrateSpread: picks each class's sampling spread (TrafficProfile) so
// that a detector -> classifier chain recognises generated flows of the
// class: the largest spread on CalibrationOptions::ladder whose flows reach
// `target` accuracy (BENIGN: the detector says benign; an attack: the
// detector says attack and the classifier names the class). When no spread
// reaches it, the most accurate one (ties: the larger). Used by
// `threatd profile --calibrate-with DETECTOR CLASSIFIER`.
//
// Why: a copula fitted to a handful of rows (Heartbleed: 8) spreads samples
// into regions the models never saw; a smaller spread keeps them typical.
// Honest limit: a class the models themselves confuse on real data (their
// model card's recall) stays below target whatever the spread.
//
// Thread-safety: pure function of its inputs; CPU only (ladder x flows
// per class).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "ml/bundle.h"
#include "sim/traffic_profile.h"

namespace threatd::sim {

struct CalibrationOptions {
  std::vector<double> ladder = {1.0, 0.85, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1};  // descending, in (0, 1]
  double target = 0.97;
  int flows_per_class = 1000;
  uint64_t seed = 7;
};

struct ClassCalibration {
  std::string label;
  double spread = 1;
  double accuracy = 0;  // at that spread
};

// Sets profile.classes[i].spread. The bundles' features must be canonical
// flow feature names the profile provides.
Result<std::vector<ClassCalibration>> CalibrateSpread(TrafficProfile& profile, const ml::ModelBundle& detector,
                                                      const ml::ModelBundle& classifier,
                                                      const CalibrationOptions& options = {});

}  // namespace threatd::sim
