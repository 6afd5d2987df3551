#include "unit/ml/xgboost_reference.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace threatd::ml::testing {
namespace {

void Check(int rc) {
  if (rc != 0) throw std::runtime_error(XGBGetLastError());
}

}  // namespace

std::vector<float> PredictBooster(void* b, const std::vector<float>& rows, size_t cols);

flow::Dataset SyntheticDataset(size_t n, size_t features, size_t num_classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  flow::Dataset d;
  for (size_t f = 0; f < features; ++f) d.feature_names.push_back("f" + std::to_string(f));
  for (size_t i = 0; i < n; ++i) {
    size_t c = u(rng) < 0.5f ? 0 : 1 + static_cast<size_t>(u(rng) * static_cast<float>(num_classes - 1)) % (num_classes - 1);
    d.labels.push_back(c == 0 ? "BENIGN" : "A" + std::to_string(c));
    for (size_t f = 0; f < features; ++f) {
      float v = noise(rng) + (f % num_classes == c ? 1.5f : 0.0f) + (f == 0 ? static_cast<float>(c) * 0.3f : 0.0f);
      if (u(rng) < 0.05f) v = std::nanf("");
      d.values.push_back(v);
    }
    flow::RowIdentifiers id;
    id.timestamp_us = 1'000'000 + static_cast<int64_t>(i) * 1000;
    d.identifiers.push_back(id);
  }
  d.source_files = {"synthetic"};
  return d;
}

ReferenceModel TrainReference(const std::vector<float>& values, const std::vector<float>& labels, size_t cols,
                              int num_class, int rounds, const std::vector<float>& rows,
                              int max_depth) {
  DMatrixHandle m = nullptr;
  Check(XGDMatrixCreateFromMat(values.data(), labels.size(), cols, std::nanf(""), &m));
  Check(XGDMatrixSetFloatInfo(m, "label", labels.data(), labels.size()));
  BoosterHandle b = nullptr;
  Check(XGBoosterCreate(&m, 1, &b));
  Check(XGBoosterSetParam(b, "tree_method", "hist"));
  Check(XGBoosterSetParam(b, "max_depth", std::to_string(max_depth).c_str()));
  Check(XGBoosterSetParam(b, "nthread", "1"));
  Check(XGBoosterSetParam(b, "objective", num_class == 2 ? "binary:logistic" : "multi:softprob"));
  if (num_class > 2) Check(XGBoosterSetParam(b, "num_class", std::to_string(num_class).c_str()));
  for (int i = 0; i < rounds; ++i) Check(XGBoosterUpdateOneIter(b, i, m));
  ReferenceModel ref;
  bst_ulong len = 0;
  const char* buf = nullptr;
  Check(XGBoosterSaveModelToBuffer(b, R"({"format": "json"})", &len, &buf));
  ref.json.assign(buf, len);
  ref.predictions = PredictBooster(b, rows, cols);
  XGBoosterFree(b);
  XGDMatrixFree(m);
  return ref;
}

std::vector<float> PredictWithXgboost(const std::string& model_json, const std::vector<float>& rows, size_t cols) {
  BoosterHandle b = nullptr;
  Check(XGBoosterCreate(nullptr, 0, &b));
  Check(XGBoosterLoadModelFromBuffer(b, model_json.data(), model_json.size()));
  auto out = PredictBooster(b, rows, cols);
  XGBoosterFree(b);
  return out;
}

std::vector<float> PredictBooster(void* b, const std::vector<float>& rows, size_t cols) {
  const size_t n = rows.size() / cols;
  const std::string shape = "[" + std::to_string(n) + "," + std::to_string(cols) + "]";
  const std::string iface = R"({"data": [)" + std::to_string(reinterpret_cast<uintptr_t>(rows.data())) +
                            R"(, true], "shape": )" + shape + R"(, "typestr": "<f4", "version": 3})";
  const char* config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})";
  const bst_ulong* out_shape = nullptr;
  bst_ulong out_dim = 0;
  const float* out = nullptr;
  Check(XGBoosterPredictFromDense(b, iface.c_str(), config, nullptr, &out_shape, &out_dim, &out));
  size_t total = 1;
  for (bst_ulong i = 0; i < out_dim; ++i) total *= out_shape[i];
  return std::vector<float>(out, out + total);
}

}  // namespace threatd::ml::testing
