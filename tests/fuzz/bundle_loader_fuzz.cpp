// libFuzzer target for the bundle loader: any bytes must yield a bundle or a
// Status, never a crash, hang or sanitizer report. Accepted bundles must also
// survive engine construction and one prediction.
//
// Built with clang as `bundle_loader_fuzzer` when THREATD_FUZZ=ON (`make fuzz`,
// cmake/ThreatdFuzz.cmake); tests/fuzz/corpus_replay_test.cpp replays tests/fuzz/corpus/bundle/ through
// this entry point as a unit test, including kept crashers.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ml/bundle.h"
#include "ml/inference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bundle = threatd::ml::ParseBundle(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!bundle.ok()) return 0;
  auto engine = threatd::ml::InferenceEngine::Create(*bundle);
  if (!engine.ok()) return 0;
  std::vector<float> row(engine->NumFeatures(), 0.5f);
  std::vector<float> out(engine->NumOutputs());
  engine->PredictProba(row.data(), 1, out.data());
  return 0;
}
