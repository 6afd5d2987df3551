// Fixtures for the sim tests: a tiny hand-made profile and the committed
// default profile/models (found through THREATD_SOURCE_DIR).
#pragma once

#include <memory>
#include <string>

#include "sim/traffic_profile.h"

namespace threatd::sim::testing {

// Two classes (BENIGN: web 0.7 (ports 80/443), DNS 0.3 (port 53); DDoS) over three canonical features; DDoS has a
// strong correlation between its two continuous features.
std::shared_ptr<const TrafficProfile> TinyProfile();

// <source dir>/<relative>; the source dir from THREATD_SOURCE_DIR, else the
// compile-time project directory.
std::string SourcePath(const std::string& relative);

}  // namespace threatd::sim::testing
