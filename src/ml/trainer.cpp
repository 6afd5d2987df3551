#include "ml/trainer.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>

#include <fmt/format.h>

#include "common/clock.h"
#include "ml/inference.h"
#include "ml/stump.h"
#include "ml/xgboost_import.h"

namespace threatd::ml {
namespace {

// Move-only owners of XGBoost's C handles (never leave this file).
struct DMatrixDeleter {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterDeleter {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrix = std::unique_ptr<void, DMatrixDeleter>;
using Booster = std::unique_ptr<void, BoosterDeleter>;

Status XgbCheck(int rc, const char* what) {
  if (rc == 0) return Status::Ok();
  return Status::Internal(fmt::format("XGBoost {} failed: {}", what, XGBGetLastError()));
}

Result<DMatrix> MakeMatrix(const std::vector<float>& x, size_t rows, size_t cols, const std::vector<float>& label,
                           const std::vector<float>* weight) {
  DMatrixHandle h = nullptr;
  THREATD_RETURN_IF_ERROR(XgbCheck(
      XGDMatrixCreateFromMat(x.data(), rows, cols, std::nanf(""), &h), "XGDMatrixCreateFromMat"));
  DMatrix m(h);
  THREATD_RETURN_IF_ERROR(XgbCheck(XGDMatrixSetFloatInfo(h, "label", label.data(), rows), "set label"));
  if (weight) THREATD_RETURN_IF_ERROR(XgbCheck(XGDMatrixSetFloatInfo(h, "weight", weight->data(), rows), "set weight"));
  return m;
}

struct Matrix {
  std::vector<float> x;
  std::vector<float> y;
  std::vector<int> yi;
};

Matrix Gather(const std::vector<float>& values, size_t cols, const std::vector<int>& y, const std::vector<size_t>& rows) {
  Matrix m;
  m.x.reserve(rows.size() * cols);
  for (size_t r : rows) {
    m.x.insert(m.x.end(), values.begin() + static_cast<std::ptrdiff_t>(r * cols),
               values.begin() + static_cast<std::ptrdiff_t>((r + 1) * cols));
    m.y.push_back(static_cast<float>(y[r]));
    m.yi.push_back(y[r]);
  }
  return m;
}

// "[3]\tval-mlogloss:0.1234" -> 0.1234
double ParseEvalScore(const char* text) {
  const std::string s(text);
  const size_t colon = s.rfind(':');
  return colon == std::string::npos ? INFINITY : std::strtod(s.c_str() + colon + 1, nullptr);
}

float ChooseThreshold(const std::vector<float>& proba, const std::vector<int>& y, double max_fpr) {
  std::vector<float> benign, all;
  for (size_t i = 0; i < y.size(); ++i) {
    const float p = proba[i * 2 + 1];
    all.push_back(p);
    if (y[i] == 0) benign.push_back(p);
  }
  if (benign.empty()) return 0.5f;
  std::sort(benign.begin(), benign.end(), std::greater<>());
  const auto allowed = static_cast<size_t>(std::floor(max_fpr * static_cast<double>(benign.size())));
  if (allowed >= benign.size()) return 0.0f;
  const float bar = benign[allowed];  // must score below the threshold
  float next = INFINITY;
  for (float p : all) {
    if (p > bar) next = std::min(next, p);
  }
  float t = std::isinf(next) ? std::nextafter(bar, 2.0f) : bar + (next - bar) / 2;
  if (!(t > bar)) t = next;
  return std::clamp(t, 0.0f, 1.0f);
}

EvaluationReport Score(const InferenceEngine& engine, const Matrix& m, const std::vector<std::string>& classes,
                       const std::string& benign) {
  std::vector<float> proba(m.yi.size() * engine.NumOutputs());
  engine.PredictProba(m.x.data(), m.yi.size(), proba.data());
  std::vector<int> pred(m.yi.size());
  for (size_t i = 0; i < pred.size(); ++i) {
    pred[i] = engine.Decide(std::span<const float>(proba.data() + i * engine.NumOutputs(), engine.NumOutputs()));
  }
  return Evaluate(classes, m.yi, pred, benign);
}

}  // namespace

std::vector<int> EncodeLabels(const std::vector<std::string>& labels, const std::vector<std::string>& classes,
                              bool binary, const std::string& benign_label) {
  std::vector<int> y(labels.size(), -1);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (binary) {
      y[i] = labels[i] == benign_label ? 0 : 1;
      continue;
    }
    auto it = std::find(classes.begin(), classes.end(), labels[i]);
    if (it != classes.end()) y[i] = static_cast<int>(it - classes.begin());
  }
  return y;
}

Result<ModelBundle> Train(const flow::Dataset& data, const TrainOptions& o) {
  const bool binary = o.task == Task::kBinary;
  if (data.rows() == 0) return Status::InvalidArgument("no rows to train on", "check --data");
  if (data.labels.size() != data.rows()) {
    return Status::InvalidArgument("training data has no labels", "pass --label-column naming the class column");
  }
  // Features: every dataset column except the excluded ones.
  std::set<std::string> excluded;
  for (const auto& e : o.exclude_columns) excluded.insert(NormalizeFeatureName(e));
  std::vector<size_t> keep;
  std::vector<FeatureSpec> features;
  for (size_t c = 0; c < data.cols(); ++c) {
    if (excluded.count(NormalizeFeatureName(data.feature_names[c]))) continue;
    keep.push_back(c);
    features.push_back({data.feature_names[c], {}});
  }
  if (keep.empty()) return Status::InvalidArgument("every feature column was excluded");
  const size_t cols = keep.size();
  std::vector<float> values(data.rows() * cols);
  for (size_t r = 0; r < data.rows(); ++r) {
    for (size_t c = 0; c < cols; ++c) values[r * cols + c] = data.values[r * data.cols() + keep[c]];
  }

  std::vector<std::string> classes;
  if (binary) {
    classes = {o.benign_label, "ATTACK"};
  } else {
    std::set<std::string> distinct(data.labels.begin(), data.labels.end());
    classes.assign(distinct.begin(), distinct.end());
  }
  if (classes.size() < 2 || (binary && std::count(data.labels.begin(), data.labels.end(), o.benign_label) == 0)) {
    return Status::InvalidArgument(binary ? fmt::format("no '{}' rows: a detector needs benign traffic", o.benign_label)
                                          : std::string("multiclass training needs at least two labels"));
  }
  const std::vector<int> y = EncodeLabels(data.labels, classes, binary, o.benign_label);
  auto split = SplitPerClass(y, classes.size(), data.identifiers, o.validation, o.validation_fraction, o.seed);
  if (!split.ok()) return split.status();
  if (split->validation.empty()) return Status::InvalidArgument("too few rows for a validation split");
  Matrix train = Gather(values, cols, y, split->train);
  Matrix valid = Gather(values, cols, y, split->validation);
  const std::vector<float> class_w = ClassWeights(y, split->train, classes.size(), o.max_class_weight);
  std::vector<float> weights;
  for (int c : train.yi) weights.push_back(class_w[static_cast<size_t>(c)]);

  auto dtrain = MakeMatrix(train.x, train.yi.size(), cols, train.y, &weights);
  if (!dtrain.ok()) return dtrain.status();
  auto dvalid = MakeMatrix(valid.x, valid.yi.size(), cols, valid.y, nullptr);
  if (!dvalid.ok()) return dvalid.status();
  DMatrixHandle cache[] = {dtrain->get(), dvalid->get()};
  BoosterHandle bh = nullptr;
  THREATD_RETURN_IF_ERROR(XgbCheck(XGBoosterCreate(cache, 2, &bh), "XGBoosterCreate"));
  Booster booster(bh);
  const int rounds = o.max_rounds > 0 ? o.max_rounds : (binary ? 300 : 50);
  const double eta = o.eta > 0 ? o.eta : (binary ? 0.15 : 0.3);
  const int max_depth = o.max_depth > 0 ? o.max_depth : (binary ? 7 : 6);
  const int patience = o.early_stopping_rounds > 0 ? o.early_stopping_rounds : (binary ? 40 : 20);
  std::map<std::string, std::string> params = {
      {"tree_method", "hist"}, {"max_depth", std::to_string(max_depth)}, {"eta", fmt::format("{}", eta)},
      {"subsample", fmt::format("{}", o.subsample)}, {"colsample_bytree", fmt::format("{}", o.colsample_bytree)},
      {"nthread", std::to_string(o.nthread)}, {"seed", std::to_string(o.seed)}, {"verbosity", "0"},
      {"objective", binary ? "binary:logistic" : "multi:softprob"},
      {"eval_metric", binary ? "logloss" : "mlogloss"}};
  if (!binary) params["num_class"] = std::to_string(classes.size());
  for (const auto& [k, v] : params) THREATD_RETURN_IF_ERROR(XgbCheck(XGBoosterSetParam(bh, k.c_str(), v.c_str()), k.c_str()));

  DMatrixHandle evals[] = {dvalid->get()};
  const char* eval_names[] = {"val"};
  double best_score = INFINITY;
  int best_iter = 0;
  for (int it = 0; it < rounds; ++it) {
    THREATD_RETURN_IF_ERROR(XgbCheck(XGBoosterUpdateOneIter(bh, it, dtrain->get()), "XGBoosterUpdateOneIter"));
    const char* eval = nullptr;
    THREATD_RETURN_IF_ERROR(XgbCheck(XGBoosterEvalOneIter(bh, it, evals, eval_names, 1, &eval), "XGBoosterEvalOneIter"));
    const double score = ParseEvalScore(eval);
    if (score < best_score) {
      best_score = score;
      best_iter = it;
    } else if (it - best_iter >= patience) {
      break;
    }
  }
  BoosterHandle sliced_h = nullptr;
  THREATD_RETURN_IF_ERROR(XgbCheck(XGBoosterSlice(bh, 0, best_iter + 1, 1, &sliced_h), "XGBoosterSlice"));
  Booster sliced(sliced_h);
  bst_ulong len = 0;
  const char* raw = nullptr;
  THREATD_RETURN_IF_ERROR(XgbCheck(XGBoosterSaveModelToBuffer(sliced_h, R"({"format": "json"})", &len, &raw),
                                   "XGBoosterSaveModelToBuffer"));

  ImportProfile profile;
  profile.model_type = binary ? ModelType::kThreatDetector : ModelType::kAttackClassifier;
  profile.features = features;
  profile.classes = classes;
  profile.version = o.version;
  profile.created_at = o.created_at.empty() ? FormatIso8601(Clock::System().Now()) : o.created_at;
  auto bundle = ImportXgboostJson(std::string_view(raw, len), profile);
  if (!bundle.ok()) return bundle.status();
  ModelBundle& b = bundle.value();

  auto engine = InferenceEngine::Create(b);
  if (!engine.ok()) return engine.status();
  if (binary) {
    std::vector<float> proba(valid.yi.size() * 2);
    engine->PredictProba(valid.x.data(), valid.yi.size(), proba.data());
    b.threshold = ChooseThreshold(proba, valid.yi, o.max_benign_fpr);
    engine = InferenceEngine::Create(b);
    if (!engine.ok()) return engine.status();
  }

  ModelCard& card = b.card;
  card.data_sources = data.source_files;
  card.task = binary ? "binary" : "multiclass";
  card.validation_protocol = o.validation == ValidationMode::kTime
      ? fmt::format("time: latest {:.0f}% of each class by timestamp held out", o.validation_fraction * 100)
      : fmt::format("random: {:.0f}% of each class held out (seed {})", o.validation_fraction * 100, o.seed);
  if (binary) {
    card.threshold_rule = fmt::format("lowest threshold with validation benign FPR <= {:.2f}%", o.max_benign_fpr * 100);
  }
  card.train_rows = train.yi.size();
  card.validation_rows = valid.yi.size();
  for (const auto& l : data.labels) card.class_support[l]++;
  for (const auto& [k, v] : params) card.parameters[k] = v;
  card.parameters["max_rounds"] = std::to_string(rounds);
  card.parameters["early_stopping_rounds"] = std::to_string(patience);
  card.parameters["max_class_weight"] = fmt::format("{}", o.max_class_weight);
  card.best_iteration = best_iter;
  card.validation = Score(*engine, valid, classes, o.benign_label);
  const StumpFit stump = FitStump(values, cols, y, split->train, classes.size());
  card.stump.feature = features[stump.feature].name;
  card.stump.threshold = stump.threshold;
  card.stump.left_class = classes[static_cast<size_t>(stump.left_class)];
  card.stump.right_class = classes[static_cast<size_t>(stump.right_class)];
  std::vector<int> stump_pred;
  for (size_t i = 0; i < valid.yi.size(); ++i) stump_pred.push_back(stump.Predict(valid.x.data() + i * cols));
  card.stump.validation = Evaluate(classes, valid.yi, stump_pred, o.benign_label);
  b.sha256 = ComputeBundleSha256(b);
  return std::move(bundle).value();
}

}  // namespace threatd::ml
