// Fixture verbs for registry tests: a fresh in-memory SQLite catalogue, a
// temp directory holding the models dir and a defaults dir with two small
// shipped bundles (version "default"), and helpers to upload and score.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/metrics.h"
#include "registry/model_registry.h"
#include "storage/database.h"
#include "unit/registry/test_bundles.h"

namespace threatd::registry::testing {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  RegistryOptions Options() const;
  // Constructs and starts a registry (replacing any previous one).
  ModelRegistry& StartRegistry(RegistryOptions options);
  ModelRegistry& StartRegistry() { return StartRegistry(Options()); }
  Result<storage::ModelRecord> UploadBundle(const ml::ModelBundle& bundle, const std::string& filename = "m.json.gz");
  // Version of the detector in the current set, or "" when none.
  std::string DetectorVersion() const;
  // P(attack) the model gives an all-zero row.
  static float Score(const ml::LoadedModel& model);

  std::filesystem::path dir_;
  metrics::Registry metrics_;
  FakeClock clock_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<ModelRegistry> registry_;
};

}  // namespace threatd::registry::testing
