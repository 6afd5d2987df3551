// ImportXgboostJson: converts a raw XGBoost model saved as JSON
// (Booster.save_model("m.json") / XGBoosterSaveModelToBuffer "json", format
// of XGBoost 1.7) plus a profile (features, classes, threshold) into a
// validated ModelBundle. The only path from XGBoost to threatd: training
// uses it too. Supported: gbtree boosters with numerical splits and the
// objectives binary:logistic, multi:softprob and multi:softmax (scored as
// softprob). Pickle/joblib files are never read.
//
// Thread-safety: pure function. No I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ml/bundle.h"

namespace threatd::ml {

struct ImportProfile {
  ModelType model_type = ModelType::kThreatDetector;
  std::vector<FeatureSpec> features;  // model column order, == num_feature
  std::vector<std::string> classes;   // binary: {negative, positive}
  float threshold = 0.5f;
  std::string version;
  std::string created_at;             // ISO-8601; empty: now
  ModelCard card;
};

// A bundle with the profile's metadata (type, version, created_at — now when
// empty —, features, classes, threshold, card) and no trees yet: the common
// start of every importer.
ModelBundle BundleFromProfile(const ImportProfile& profile);

Result<ModelBundle> ImportXgboostJson(std::string_view xgboost_json, const ImportProfile& profile);

}  // namespace threatd::ml
