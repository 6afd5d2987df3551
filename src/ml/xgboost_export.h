// ExportXgboostJson: the inverse of ImportXgboostJson - a bundle's trees as
// an XGBoost 1.7 JSON model that XGBoosterLoadModelFromBuffer accepts. Used
// to compare our engine with XGBoost on the very same trees (bench, tests)
// and to hand a threatd model to XGBoost tooling. Profile data (feature
// aliases, threshold, model card) is not part of XGBoost's format.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "ml/bundle.h"

namespace threatd::ml {

std::string ExportXgboostJson(const ModelBundle& bundle);

}  // namespace threatd::ml
