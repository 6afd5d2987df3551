// ModelRegistry: defaults on first start, upload -> activate -> rollback,
// refusal of unsafe/changed files, restart and reload.
#include <cstdlib>
#include <fstream>

#include "common/sha256.h"
#include "unit/registry/registry_fixture.h"

namespace threatd::registry::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(RegistryTest, FirstStartRegistersAndActivatesTheShippedDefaults) {
  auto& reg = StartRegistry();
  auto set = reg.Current();
  ASSERT_TRUE(set->detector && set->classifier);
  EXPECT_EQ(set->detector->version, "default");
  auto rows = db_->Models().List(std::nullopt, true);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  for (const auto& r : *rows) {
    EXPECT_TRUE(r.is_active);
    EXPECT_EQ(r.uploaded_by.value_or(""), "system");
    ASSERT_TRUE(r.sha256.has_value());
    EXPECT_EQ(Sha256Hex(ReadFile(r.file_path)), *r.sha256) << "the catalogue holds the file's SHA-256";
    EXPECT_EQ(r.file_path.find((dir_ / "models" / r.model_type).string()), 0u) << r.file_path;
  }
  const auto health = reg.HealthCheck();
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["threat_detector"]["loaded"], true);
  EXPECT_EQ(health["threat_detector"]["id"], set->detector->id);
}

TEST_F(RegistryTest, WithoutDefaultsTheServiceStartsAndHealthSaysWhy) {
  auto& reg = StartRegistry({(dir_ / "models").string(), (dir_ / "nowhere").string()});
  EXPECT_EQ(reg.Current()->detector, nullptr);
  const auto health = reg.HealthCheck();
  EXPECT_EQ(health["status"], "error");
  EXPECT_NE(health["threat_detector"]["error"].get<std::string>().find("default"), std::string::npos);
}

TEST_F(RegistryTest, UploadIsStoredInactiveAndActivationSwapsBeforeReturning) {
  auto& reg = StartRegistry();
  auto up = UploadBundle(TestDetector("v2", 2.0f));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_FALSE(up->is_active);
  EXPECT_EQ(up->file_format, "bundle");
  EXPECT_EQ(DetectorVersion(), "default");
  auto act = reg.Activate(up->id);
  ASSERT_TRUE(act.ok()) << act.status().ToString();
  EXPECT_TRUE(act->is_active);
  EXPECT_EQ(DetectorVersion(), "v2");
  EXPECT_EQ(reg.Current()->detector->id, up->id);
  EXPECT_GT(Score(*reg.Current()->detector), 0.8f);
  auto active = db_->Models().List(std::string("threat_detector"), false);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().id, up->id);
}

TEST_F(RegistryTest, ATakenVersionGetsASuffix) {
  StartRegistry();
  auto a = UploadBundle(TestDetector("v2"));
  auto b = UploadBundle(TestDetector("v2"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->version, "v2");
  EXPECT_EQ(b->version, "v2-2");
  EXPECT_NE(a->file_path, b->file_path);
}

TEST_F(RegistryTest, RollbackReturnsToThePreviouslyActiveModel) {
  auto& reg = StartRegistry();
  const int64_t default_id = reg.Current()->detector->id;
  EXPECT_EQ(reg.Rollback(ml::ModelType::kThreatDetector).status().code(), ErrorCode::kNotFound);
  auto up = UploadBundle(TestDetector("v2"));
  ASSERT_TRUE(up.ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(reg.Activate(up->id).ok());
  clock_.Advance(std::chrono::seconds(1));
  auto back = reg.Rollback(ml::ModelType::kThreatDetector);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, default_id);
  EXPECT_EQ(DetectorVersion(), "default");
  auto again = reg.Rollback(ml::ModelType::kThreatDetector);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, up->id);
  EXPECT_EQ(DetectorVersion(), "v2");
}

TEST_F(RegistryTest, DeletingTheActiveModelIsAConflictAnInactiveOneGoesWithItsFile) {
  auto& reg = StartRegistry();
  const int64_t active_id = reg.Current()->detector->id;
  EXPECT_EQ(reg.Delete(active_id, true).code(), ErrorCode::kConflict);
  auto up = UploadBundle(TestDetector("v2"));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(std::filesystem::exists(up->file_path));
  ASSERT_TRUE(reg.Delete(up->id, true).ok());
  EXPECT_FALSE(std::filesystem::exists(up->file_path));
  EXPECT_EQ(db_->Models().Get(up->id).status().code(), ErrorCode::kNotFound);
}

TEST_F(RegistryTest, UnknownIdsAreNotFoundNot400) {
  auto& reg = StartRegistry();
  EXPECT_EQ(reg.Activate(999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(reg.Deactivate(999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(reg.Delete(999, true).code(), ErrorCode::kNotFound);
}

TEST_F(RegistryTest, DeactivatingTheDetectorLeavesThePipelineWithoutOne) {
  auto& reg = StartRegistry();
  const int64_t id = reg.Current()->detector->id;
  auto off = reg.Deactivate(id);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->is_active);
  EXPECT_EQ(reg.Current()->detector, nullptr);
  EXPECT_NE(reg.Current()->classifier, nullptr);
  EXPECT_EQ(reg.HealthCheck()["status"], "error");
  // The catalogue says so too, and a restart does not re-register defaults.
  StartRegistry();
  EXPECT_EQ(registry_->Current()->detector, nullptr);
  EXPECT_EQ(db_->Models().List(std::nullopt, true)->size(), 2u);
}

TEST_F(RegistryTest, AFileChangedOnDiskIsRefusedBySha256) {
  auto& reg = StartRegistry();
  auto up = UploadBundle(TestDetector("v2", 2.0f));
  ASSERT_TRUE(up.ok());
  // A valid bundle, but not the one registered.
  ASSERT_TRUE(ml::WriteBundleFile(TestDetector("v2", -5.0f), up->file_path).ok());
  auto act = reg.Activate(up->id);
  ASSERT_FALSE(act.ok());
  EXPECT_NE(act.status().message().find("SHA-256"), std::string::npos) << act.status().ToString();
  EXPECT_EQ(DetectorVersion(), "default") << "nothing changed";
  EXPECT_FALSE(db_->Models().Get(up->id)->is_active);
  EXPECT_EQ(metrics_.GetCounter("threatd_model_load_failures_total", "").Value(), 1u);
}

TEST_F(RegistryTest, ATamperedActiveModelIsReportedAtStartAndTheServiceStillStarts) {
  StartRegistry();
  const auto rec = db_->Models().Get(registry_->Current()->detector->id);
  ASSERT_TRUE(rec.ok());
  std::ofstream(rec->file_path, std::ios::binary | std::ios::trunc) << "garbage";
  auto& reg = StartRegistry();
  EXPECT_EQ(reg.Current()->detector, nullptr);
  EXPECT_EQ(reg.HealthCheck()["threat_detector"]["loaded"], false);
  EXPECT_TRUE(reg.HealthCheck()["threat_detector"].contains("error"));
}

TEST_F(RegistryTest, ActiveModelsSurviveARestart) {
  auto& reg = StartRegistry();
  auto up = UploadBundle(TestDetector("v2"));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(reg.Activate(up->id).ok());
  StartRegistry();
  EXPECT_EQ(DetectorVersion(), "v2");
  EXPECT_EQ(db_->Models().List(std::nullopt, true)->size(), 3u) << "no second default registration";
}

TEST_F(RegistryTest, ReloadPicksUpAnActivationByAnotherInstance) {
  auto& reg = StartRegistry();
  ModelRegistry other(Options(), db_->Models(), clock_, metrics_);
  ASSERT_TRUE(other.Start().ok());
  auto up = UploadBundle(TestDetector("v2"));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(other.Activate(up->id).ok());
  EXPECT_EQ(DetectorVersion(), "default");
  ASSERT_TRUE(reg.Reload().ok());
  EXPECT_EQ(DetectorVersion(), "v2");
}

TEST_F(RegistryTest, ProfileComesFromTheActiveModelOrTheDefault) {
  auto& reg = StartRegistry();
  auto p = reg.Profile(ml::ModelType::kAttackClassifier);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->source, "active_model");
  EXPECT_EQ(p->class_labels, (std::vector<std::string>{"BENIGN", "DoS", "PortScan"}));
  ASSERT_TRUE(reg.Deactivate(*p->model_id).ok());
  p = reg.Profile(ml::ModelType::kAttackClassifier);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->source, "default_bundle");
  EXPECT_EQ(reg.DefaultFeatures(ml::ModelType::kThreatDetector),
            (std::vector<std::string>{"flow_duration", "dst_port"}));
}

}  // namespace
}  // namespace threatd::registry::testing

namespace threatd::registry::testing {
namespace {

TEST_F(RegistryTest, TheRealShippedDefaultsLoadAndAreReal) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  if (src == nullptr) GTEST_SKIP() << "THREATD_SOURCE_DIR is not set (run through ctest)";
  auto& reg = StartRegistry({(dir_ / "models").string(), (std::filesystem::path(src) / "models").string()});
  const auto health = reg.HealthCheck();
  EXPECT_EQ(health["status"], "ok") << health.dump();
  EXPECT_EQ(health["threat_detector"]["is_real"], true) << health.dump();
  EXPECT_EQ(health["attack_classifier"]["is_real"], true) << health.dump();
  EXPECT_FALSE(reg.DefaultFeatures(ml::ModelType::kAttackClassifier).empty());
}

}  // namespace
}  // namespace threatd::registry::testing
