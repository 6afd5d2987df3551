// The shipped default models (models/*.json.gz) for tests that score flows
// through a real pipeline, and the ModelProvider that serves them.
// Header-only; the test links threatd_ml and threatd_pipeline.
//
// Thread-safety: ShippedModelProvider::Set/Current from any thread.
// Errors: a bundle that does not load is a test failure (ADD_FAILURE) and a
// null model.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "ml/bundle.h"
#include "ml/loaded_model.h"
#include "pipeline/pipeline.h"

namespace threatd::testing {

// THREATD_SOURCE_DIR (set by CTest for every test), else ".".
inline std::string SourceDir() {
  const char* dir = std::getenv("THREATD_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

inline std::shared_ptr<const ml::LoadedModel> LoadShippedModel(const std::string& name) {
  auto bundle = ml::ReadBundleFile(SourceDir() + "/models/" + name);
  if (!bundle.ok()) {
    ADD_FAILURE() << name << ": " << bundle.status().ToString();
    return nullptr;
  }
  auto m = ml::LoadModel(*bundle);
  if (!m.ok()) {
    ADD_FAILURE() << name << ": " << m.status().ToString();
    return nullptr;
  }
  return *m;
}

// The shipped threat detector and attack classifier.
inline std::shared_ptr<const ml::ModelSet> ShippedModels() {
  return std::make_shared<ml::ModelSet>(
      ml::ModelSet{LoadShippedModel("threat_detector.json.gz"), LoadShippedModel("attack_classifier.json.gz")});
}

// A ModelProvider whose set a test can swap (or clear) at any time.
class ShippedModelProvider final : public pipeline::ModelProvider {
 public:
  explicit ShippedModelProvider(std::shared_ptr<const ml::ModelSet> s = ShippedModels()) : set_(std::move(s)) {}
  std::shared_ptr<const ml::ModelSet> Current() const override { return std::atomic_load(&set_); }
  void Set(std::shared_ptr<const ml::ModelSet> s) { std::atomic_store(&set_, std::move(s)); }

 private:
  std::shared_ptr<const ml::ModelSet> set_;
};

}  // namespace threatd::testing
