#include "unit/registry/registry_fixture.h"

#include <unistd.h>

#include <atomic>
#include <vector>

#include "flow/features.h"

namespace threatd::registry::testing {

void RegistryTest::SetUp() {
  static std::atomic<int> counter{0};
  dir_ = std::filesystem::temp_directory_path() /
         ("threatd_registry_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(dir_ / "defaults");
  ASSERT_TRUE(ml::WriteBundleFile(TestDetector("default", -2.0f), (dir_ / "defaults/threat_detector.json.gz").string()).ok());
  ASSERT_TRUE(
      ml::WriteBundleFile(TestClassifier("default", 1.0f), (dir_ / "defaults/attack_classifier.json.gz").string()).ok());
  storage::StorageOptions so;
  so.url = "sqlite::memory:";
  auto db = storage::OpenDatabase(so, metrics_, clock_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
  auto migrated = db_->Migrate();
  ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
}

void RegistryTest::TearDown() {
  registry_.reset();
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

RegistryOptions RegistryTest::Options() const {
  return {(dir_ / "models").string(), (dir_ / "defaults").string()};
}

ModelRegistry& RegistryTest::StartRegistry(RegistryOptions options) {
  registry_.reset();
  registry_ = std::make_unique<ModelRegistry>(std::move(options), db_->Models(), clock_, metrics_);
  const Status s = registry_->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return *registry_;
}

Result<storage::ModelRecord> RegistryTest::UploadBundle(const ml::ModelBundle& bundle, const std::string& filename) {
  clock_.Advance(std::chrono::milliseconds(1));
  UploadRequest req;
  req.bytes = BundleBytes(bundle);
  req.filename = filename;
  req.model_type = std::string(ml::ModelTypeName(bundle.model_type));
  req.uploaded_by = "test";
  return registry_->Upload(req);
}

std::string RegistryTest::DetectorVersion() const {
  auto set = registry_->Current();
  return set && set->detector ? set->detector->version : "";
}

float RegistryTest::Score(const ml::LoadedModel& model) {
  std::vector<float> canonical(flow::kFeatureCount, 0.0f);
  std::vector<float> row(model.NumFeatures());
  model.Project(canonical.data(), 1, row.data());
  return model.engine->PredictPositive(row.data());
}

}  // namespace threatd::registry::testing
