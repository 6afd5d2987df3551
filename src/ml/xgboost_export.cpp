#include "ml/xgboost_export.h"

#include <cmath>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace threatd::ml {
namespace {

using nlohmann::json;

json TreeJson(const Tree& t, size_t id, size_t num_feature) {
  const size_t n = t.size();
  std::vector<int> parents(n, 2147483647);
  std::vector<float> cond(n);
  std::vector<int> dl(n), left(n), right(n), feat(n), split_type(n, 0);
  for (size_t i = 0; i < n; ++i) {
    left[i] = t.left[i];
    right[i] = t.right[i];
    if (!t.IsLeaf(i)) {
      parents[static_cast<size_t>(t.left[i])] = static_cast<int>(i);
      parents[static_cast<size_t>(t.right[i])] = static_cast<int>(i);
    }
    cond[i] = t.IsLeaf(i) ? t.leaf_value[i] : t.threshold[i];
    feat[i] = t.IsLeaf(i) ? 0 : t.split_feature[i];
    dl[i] = t.IsLeaf(i) ? 0 : t.default_left[i];
  }
  return json{{"base_weights", std::vector<float>(n, 0.0f)},
              {"categories", json::array()},
              {"categories_nodes", json::array()},
              {"categories_segments", json::array()},
              {"categories_sizes", json::array()},
              {"default_left", dl},
              {"id", id},
              {"left_children", left},
              {"right_children", right},
              {"loss_changes", std::vector<float>(n, 0.0f)},
              {"parents", parents},
              {"split_conditions", cond},
              {"split_indices", feat},
              {"split_type", split_type},
              {"sum_hessian", std::vector<float>(n, 1.0f)},
              {"tree_param", {{"num_deleted", "0"}, {"num_feature", std::to_string(num_feature)},
                              {"num_nodes", std::to_string(n)}, {"size_leaf_vector", "0"}}}};
}

}  // namespace

std::string ExportXgboostJson(const ModelBundle& b) {
  const bool binary = b.objective == Objective::kBinaryLogistic;
  const size_t nf = b.features.size();
  json trees = json::array();
  std::vector<int> info;
  for (size_t i = 0; i < b.trees.size(); ++i) {
    trees.push_back(TreeJson(b.trees[i], i, nf));
    info.push_back(b.trees[i].class_index);
  }
  // XGBoost keeps base_score in probability space for logistic models.
  const double base_score = binary ? 1.0 / (1.0 + std::exp(-static_cast<double>(b.base_margin)))
                                   : static_cast<double>(b.base_margin);
  json objective = binary ? json{{"name", "binary:logistic"}, {"reg_loss_param", {{"scale_pos_weight", "1"}}}}
                          : json{{"name", "multi:softprob"},
                                 {"softmax_multiclass_param", {{"num_class", std::to_string(b.num_class)}}}};
  json learner = {
      {"attributes", json::object()},
      {"feature_names", json::array()},
      {"feature_types", json::array()},
      {"gradient_booster",
       {{"name", "gbtree"},
        {"model",
         {{"gbtree_model_param", {{"num_parallel_tree", "1"}, {"num_trees", std::to_string(b.trees.size())},
                                  {"size_leaf_vector", "0"}}},
          {"tree_info", info},
          {"trees", trees}}}}},
      {"learner_model_param", {{"base_score", fmt::format("{:.9g}", base_score)},
                               {"boost_from_average", "1"},
                               {"num_class", binary ? "0" : std::to_string(b.num_class)},
                               {"num_feature", std::to_string(nf)},
                               {"num_target", "1"}}},
      {"objective", objective}};
  return json{{"learner", learner}, {"version", {1, 7, 4}}}.dump();
}

}  // namespace threatd::ml
