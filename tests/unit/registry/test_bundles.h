// Small valid bundles for registry tests: a binary detector and a 3-class
// classifier over canonical flow features, distinguishable by a constant
// leaf value (`bias`), so a test can tell which model scored a row.
#pragma once

#include <string>

#include "ml/bundle.h"

namespace threatd::registry::testing {

// Detector: P(attack) = sigmoid(bias) for every row.
ml::ModelBundle TestDetector(const std::string& version, float bias = 0.0f);
// Classifier over BENIGN/DoS/PortScan; class 0 gets `bias`.
ml::ModelBundle TestClassifier(const std::string& version, float bias = 0.0f);
// Serialised (gzip'ed when gz) bytes of a bundle, as a user would upload them.
std::string BundleBytes(const ml::ModelBundle& bundle, bool gz = true);

}  // namespace threatd::registry::testing
