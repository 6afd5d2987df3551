// libFuzzer target for the ONNX importer (ml/onnx_import.h): any bytes must
// yield a validated bundle or a Status, never a crash, hang or sanitizer
// report; accepted bundles must survive engine construction and a prediction.
// Built with clang as `onnx_import_fuzzer` when THREATD_FUZZ=ON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ml/inference.h"
#include "ml/onnx_import.h"

namespace {

const threatd::ml::ImportProfile& Profile() {
  static const threatd::ml::ImportProfile profile = [] {
    threatd::ml::ImportProfile p;
    for (int i = 0; i < 4; ++i) p.features.push_back({"f" + std::to_string(i), {}});
    p.created_at = "2026-01-01T00:00:00.000Z";
    return p;
  }();
  return profile;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bundle = threatd::ml::ImportOnnx(std::string_view(reinterpret_cast<const char*>(data), size), Profile());
  if (!bundle.ok()) return 0;
  auto engine = threatd::ml::InferenceEngine::Create(*bundle);
  if (!engine.ok()) __builtin_trap();  // ImportOnnx promised a valid bundle
  std::vector<float> row(engine->NumFeatures(), 0.5f);
  std::vector<float> out(engine->NumOutputs());
  engine->PredictProba(row.data(), 1, out.data());
  return 0;
}
