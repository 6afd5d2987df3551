#include "ml/xgboost_import.h"

#include <cmath>
#include <cstdlib>
#include <deque>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace threatd::ml {
namespace {

using nlohmann::json;

const char* const kHint = "expected an XGBoost 1.x JSON model (save_model with a .json name)";

// XGBoost stores scalar parameters as strings ("5E-1").
Result<double> NumberParam(const json& j, const char* key) {
  if (!j.contains(key)) return Status::Validation(fmt::format("XGBoost model lacks '{}'", key), kHint);
  const json& v = j[key];
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return Status::Validation(fmt::format("XGBoost '{}' is not a number", key), kHint);
  const std::string s = v.get<std::string>();
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(d)) {
    return Status::Validation(fmt::format("XGBoost '{}' = '{}' is not a finite number", key, s), kHint);
  }
  return d;
}

// Copies one XGBoost tree, renumbering reachable nodes breadth-first so that
// deleted (pruned) nodes disappear.
Result<Tree> ConvertTree(const json& jt, size_t index, int32_t class_index) {
  const auto& left = jt.at("left_children");
  const auto& right = jt.at("right_children");
  const auto& cond = jt.at("split_conditions");
  const auto& feat = jt.at("split_indices");
  const auto& dflt = jt.at("default_left");
  const size_t n = left.size();
  if (right.size() != n || cond.size() != n || feat.size() != n || dflt.size() != n || n == 0) {
    return Status::Validation(fmt::format("XGBoost tree {}: node arrays differ in length", index), kHint);
  }
  if (jt.contains("split_type")) {
    for (const auto& st : jt["split_type"]) {
      if (st.get<int>() != 0) {
        return Status::Validation(fmt::format("XGBoost tree {} uses categorical splits", index),
                                  "one-hot encode categorical columns before training");
      }
    }
  }
  Tree t;
  t.class_index = class_index;
  std::vector<int64_t> new_id(n, -1);
  std::deque<int64_t> queue{0};
  new_id[0] = 0;
  std::vector<int64_t> order;
  while (!queue.empty()) {
    const int64_t old = queue.front();
    queue.pop_front();
    order.push_back(old);
    const int64_t l = left[static_cast<size_t>(old)].get<int64_t>();
    const int64_t r = right[static_cast<size_t>(old)].get<int64_t>();
    for (int64_t c : {l, r}) {
      if (c < 0) continue;
      if (static_cast<size_t>(c) >= n || new_id[static_cast<size_t>(c)] >= 0) {
        return Status::Validation(fmt::format("XGBoost tree {}: bad child index {} at node {}", index, c, old), kHint);
      }
      new_id[static_cast<size_t>(c)] = static_cast<int64_t>(order.size() + queue.size());
      queue.push_back(c);
    }
  }
  for (int64_t old : order) {
    const auto o = static_cast<size_t>(old);
    const int64_t l = left[o].get<int64_t>();
    const bool leaf = l < 0;
    const double value = cond[o].get<double>();
    t.left.push_back(leaf ? -1 : static_cast<int32_t>(new_id[static_cast<size_t>(l)]));
    t.right.push_back(leaf ? -1 : static_cast<int32_t>(new_id[static_cast<size_t>(right[o].get<int64_t>())]));
    t.split_feature.push_back(leaf ? 0 : feat[o].get<int32_t>());
    t.threshold.push_back(leaf ? 0.0f : static_cast<float>(value));
    t.leaf_value.push_back(leaf ? static_cast<float>(value) : 0.0f);
    t.default_left.push_back(leaf ? 0 : static_cast<uint8_t>(dflt[o].get<int>() != 0));
  }
  return t;
}

Result<ModelBundle> Convert(const json& root, const ImportProfile& profile) {
  const json& learner = root.at("learner");
  const json& booster = learner.at("gradient_booster");
  const std::string booster_name = booster.at("name").get<std::string>();
  if (booster_name != "gbtree") {
    return Status::Validation(fmt::format("unsupported booster '{}' (only gbtree)", booster_name), kHint);
  }
  ModelBundle b = BundleFromProfile(profile);

  const std::string objective = learner.at("objective").at("name").get<std::string>();
  const json& params = learner.at("learner_model_param");
  auto base_score = NumberParam(params, "base_score");
  if (!base_score.ok()) return base_score.status();
  auto num_feature = NumberParam(params, "num_feature");
  if (!num_feature.ok()) return num_feature.status();
  if (static_cast<size_t>(*num_feature) != profile.features.size()) {
    return Status::Validation(fmt::format("XGBoost model has {} features, the profile lists {}",
                                          static_cast<size_t>(*num_feature), profile.features.size()),
                              "list exactly the model's training columns, in order, in the profile");
  }
  if (objective == "binary:logistic") {
    b.objective = Objective::kBinaryLogistic;
    b.num_class = 2;
    const float p = static_cast<float>(*base_score);
    if (!(p > 0.0f && p < 1.0f)) return Status::Validation("binary:logistic base_score must be in (0, 1)", kHint);
    b.base_margin = -std::log(1.0f / p - 1.0f);  // XGBoost's ProbToMargin, in float
  } else if (objective == "multi:softprob" || objective == "multi:softmax") {
    b.objective = Objective::kMultiSoftprob;
    auto num_class = NumberParam(params, "num_class");
    if (!num_class.ok()) return num_class.status();
    b.num_class = static_cast<int>(*num_class);
    b.base_margin = static_cast<float>(*base_score);
  } else {
    return Status::Validation(fmt::format("unsupported objective '{}'", objective),
                              "train with binary:logistic or multi:softprob");
  }
  const json& model = booster.at("model");
  const json& trees = model.at("trees");
  const json& info = model.at("tree_info");
  if (info.size() != trees.size()) return Status::Validation("XGBoost tree_info and trees differ in length", kHint);
  for (size_t i = 0; i < trees.size(); ++i) {
    auto t = ConvertTree(trees[i], i, info[i].get<int32_t>());
    if (!t.ok()) return t.status();
    b.trees.push_back(std::move(t).value());
  }
  THREATD_RETURN_IF_ERROR(ValidateBundle(b));
  b.sha256 = ComputeBundleSha256(b);
  return b;
}

}  // namespace

ModelBundle BundleFromProfile(const ImportProfile& profile) {
  ModelBundle b;
  b.model_type = profile.model_type;
  b.version = profile.version;
  b.created_at = profile.created_at.empty() ? FormatIso8601(Clock::System().Now()) : profile.created_at;
  b.features = profile.features;
  b.classes = profile.classes;
  b.threshold = profile.threshold;
  b.card = profile.card;
  return b;
}

Result<ModelBundle> ImportXgboostJson(std::string_view xgboost_json, const ImportProfile& profile) {
  json root = json::parse(xgboost_json.begin(), xgboost_json.end(), nullptr, false);
  if (root.is_discarded()) return Status::Validation("XGBoost model is not valid JSON", kHint);
  try {
    return Convert(root, profile);
  } catch (const json::exception& e) {
    return Status::Validation(std::string("XGBoost model has an unexpected shape: ") + e.what(), kHint);
  }
}

}  // namespace threatd::ml
