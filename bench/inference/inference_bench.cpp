// Inference: threatd's engine vs XGBoosterPredictFromDense on the same trees
// (the bundle exported back to XGBoost JSON) and the same rows, one thread.
//
// Models: models/threat_detector.json.gz and models/attack_classifier.json.gz
// when present, else models trained here on generated data. Rows: the shared
// CIC-IDS2017 file when ../shared exists, else generated rows.
// Batch: the engine as built (the AVX2 kernel on AVX2 CPUs, counter avx2=1),
// its portable kernels (ThreatdPortable) and XGBoost.
// Single-row latency p99 comes from a manual timing loop (reported as
// counters p50_ns / p99_ns), since Google Benchmark reports means.
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "flow/table_loader.h"
#include "ml/chained_scorer.h"
#include "ml/inference.h"
#include "ml/trainer.h"
#include "ml/xgboost_export.h"

namespace threatd::ml {
namespace {

flow::Dataset Generated(size_t n, size_t features, size_t classes) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> noise;
  flow::Dataset d;
  for (size_t f = 0; f < features; ++f) d.feature_names.push_back(fmt::format("f{}", f));
  for (size_t i = 0; i < n; ++i) {
    const size_t c = i % classes;
    d.labels.push_back(c == 0 ? std::string("BENIGN") : fmt::format("A{}", c));
    for (size_t f = 0; f < features; ++f) d.values.push_back(noise(rng) + (f % classes == c ? 1.0f : 0.0f));
    d.identifiers.push_back({.timestamp_us = static_cast<int64_t>(i + 1)});
  }
  return d;
}

struct Model {
  ModelBundle bundle;
  std::unique_ptr<InferenceEngine> engine;
  std::unique_ptr<InferenceEngine> portable;  // without the AVX2 kernel
  BoosterHandle xgb = nullptr;
  std::vector<float> rows;  // in the model's feature order
  size_t n = 0;
};

Model Prepare(const std::string& file, Task task) {
  Model m;
  const std::filesystem::path src(THREATD_SOURCE_DIR);
  auto loaded = ReadBundleFile((src / "models" / file).string());
  if (loaded.ok()) {
    m.bundle = std::move(loaded).value();
  } else {
    TrainOptions o;
    o.task = task;
    o.created_at = "2026-01-01T00:00:00.000Z";
    m.bundle = std::move(Train(Generated(20000, 77, task == Task::kBinary ? 2 : 16), o)).value();
  }
  m.engine = std::make_unique<InferenceEngine>(std::move(InferenceEngine::Create(m.bundle)).value());
  m.portable = std::make_unique<InferenceEngine>(
      std::move(InferenceEngine::Create(m.bundle, {.vectorise = false})).value());
  const std::string json = ExportXgboostJson(m.bundle);
  XGBoosterCreate(nullptr, 0, &m.xgb);
  XGBoosterLoadModelFromBuffer(m.xgb, json.data(), json.size());
  XGBoosterSetParam(m.xgb, "nthread", "1");
  const size_t f = m.bundle.features.size();
  const auto shared = src / ".." / "shared" / "datasets" / "cicids2017-improved-train.csv.gz";
  flow::Dataset data;
  if (std::filesystem::exists(shared)) {
    flow::LoadOptions lo;
    lo.max_rows = 8192;
    for (const auto& feat : m.bundle.features) lo.required_features.push_back(feat.name);
    auto d = flow::LoadDataset({shared.string()}, lo);
    if (d.ok()) data = std::move(d).value();
  }
  auto mapping = ResolveFeatures(m.bundle, data.feature_names);
  if (data.rows() == 0 || !mapping.ok()) {
    data = Generated(8192, f, 4);
    std::vector<size_t> identity(f);
    for (size_t i = 0; i < f; ++i) identity[i] = i;
    mapping = identity;
  }
  m.n = data.rows();
  m.rows.resize(m.n * f);
  for (size_t r = 0; r < m.n; ++r) {
    for (size_t c = 0; c < f; ++c) m.rows[r * f + c] = data.row(r)[(*mapping)[c]];
  }
  return m;
}

Model& Detector() {
  static Model m = Prepare("threat_detector.json.gz", Task::kBinary);
  return m;
}
Model& Classifier() {
  static Model m = Prepare("attack_classifier.json.gz", Task::kMulticlass);
  return m;
}

void XgbPredict(const Model& m, const float* rows, size_t n) {
  const std::string iface =
      fmt::format(R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}})",
                  reinterpret_cast<uintptr_t>(rows), n, m.bundle.features.size());
  const char* config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  XGBoosterPredictFromDense(m.xgb, iface.c_str(), config, nullptr, &shape, &dim, &out);
  benchmark::DoNotOptimize(out);
}

enum class Engine { kThreatd, kThreatdPortable, kXgboost };

void Batch(benchmark::State& state, Model& m, Engine engine) {
  std::vector<float> out(m.n * m.engine->NumOutputs());
  for (auto _ : state) {
    if (engine == Engine::kThreatd) m.engine->PredictProba(m.rows.data(), m.n, out.data());
    else if (engine == Engine::kThreatdPortable) m.portable->PredictProba(m.rows.data(), m.n, out.data());
    else XgbPredict(m, m.rows.data(), m.n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * m.n));
  state.counters["trees"] = static_cast<double>(m.bundle.trees.size());
  if (engine == Engine::kThreatd) state.counters["avx2"] = m.engine->vectorised() ? 1 : 0;
}

// Manual timing loop: per-call latencies over all rows, p50/p99 as counters.
template <typename Fn>
void Latency(benchmark::State& state, size_t n, Fn fn) {
  std::vector<double> ns;
  ns.reserve(n * 4);
  size_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    fn(i % n);
    const auto t1 = std::chrono::steady_clock::now();
    ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    ++i;
  }
  std::sort(ns.begin(), ns.end());
  state.counters["p50_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
}

void BM_DetectorBatch_Threatd(benchmark::State& s) { Batch(s, Detector(), Engine::kThreatd); }
void BM_DetectorBatch_ThreatdPortable(benchmark::State& s) { Batch(s, Detector(), Engine::kThreatdPortable); }
void BM_DetectorBatch_Xgboost(benchmark::State& s) { Batch(s, Detector(), Engine::kXgboost); }
void BM_ClassifierBatch_Threatd(benchmark::State& s) { Batch(s, Classifier(), Engine::kThreatd); }
void BM_ClassifierBatch_ThreatdPortable(benchmark::State& s) { Batch(s, Classifier(), Engine::kThreatdPortable); }
void BM_ClassifierBatch_Xgboost(benchmark::State& s) { Batch(s, Classifier(), Engine::kXgboost); }

void BM_DetectorSingleRow_Threatd(benchmark::State& s) {
  Model& m = Detector();
  const size_t f = m.bundle.features.size();
  Latency(s, m.n, [&](size_t r) { benchmark::DoNotOptimize(m.engine->PredictPositive(m.rows.data() + r * f)); });
}
void BM_DetectorSingleRow_Xgboost(benchmark::State& s) {
  Model& m = Detector();
  const size_t f = m.bundle.features.size();
  Latency(s, m.n, [&](size_t r) { XgbPredict(m, m.rows.data() + r * f, 1); });
}
void BM_ChainedSingleRow_Threatd(benchmark::State& s) {
  Model& d = Detector();
  Model& c = Classifier();
  auto chain = ChainedScorer::Create(std::shared_ptr<const InferenceEngine>(d.engine.get(), [](const InferenceEngine*) {}),
                                     std::shared_ptr<const InferenceEngine>(c.engine.get(), [](const InferenceEngine*) {}),
                                     ChainOptions{.classify_always = true});
  const size_t fd = d.bundle.features.size(), fc = c.bundle.features.size();
  const size_t n = std::min(d.n, c.n);
  Latency(s, n, [&](size_t r) { benchmark::DoNotOptimize(chain->Score(d.rows.data() + r * fd, c.rows.data() + r * fc)); });
}

BENCHMARK(BM_DetectorBatch_Threatd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DetectorBatch_ThreatdPortable)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DetectorBatch_Xgboost)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClassifierBatch_Threatd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClassifierBatch_ThreatdPortable)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClassifierBatch_Xgboost)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DetectorSingleRow_Threatd);
BENCHMARK(BM_DetectorSingleRow_Xgboost);
BENCHMARK(BM_ChainedSingleRow_Threatd);

}  // namespace
}  // namespace threatd::ml

BENCHMARK_MAIN();
