// ModelRepository on SQLite and PostgreSQL: insert/list/get, one active row
// per type, rollback target, delete rules, storage stats, NotFound.
#include <nlohmann/json.hpp>

#include "integration/storage/storage_fixture.h"

namespace threatd::storage::testing {
namespace {

class ModelRepositoryTest : public StorageTest {
 protected:
  NewModelRecord Model(const std::string& type, const std::string& version, int64_t size = 100) {
    NewModelRecord m;
    m.model_type = type;
    m.version = version;
    m.file_path = "/models/" + type + "/" + version + ".json.gz";
    m.file_format = "bundle";
    m.original_filename = version + ".json.gz";
    m.model_metadata = R"({"trees": 3, "card": {"train_rows": 10}})";
    m.validation_results = R"({"is_valid": true})";
    m.file_size_bytes = size;
    m.expected_features = R"(["flow_duration"])";
    m.class_labels = R"(["BENIGN", "ATTACK"])";
    m.preprocessing_notes = "notes";
    m.uploaded_by = "tester";
    m.description = "d";
    m.sha256 = std::string(64, 'a');
    m.created_at = NextTime();
    return m;
  }
};

TEST_P(ModelRepositoryTest, InsertGetAndListNewestFirstWithFilters) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Models();
  auto a = repo.Insert(Model("threat_detector", "1"));
  auto b = repo.Insert(Model("attack_classifier", "1"));
  auto c = repo.Insert(Model("threat_detector", "2"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status().ToString() << b.status().ToString();
  EXPECT_FALSE(a->is_active);
  EXPECT_FALSE(a->activated_at.has_value());
  EXPECT_EQ(a->file_size_bytes, 100);
  EXPECT_EQ(nlohmann::json::parse(*a->model_metadata)["trees"], 3);
  EXPECT_EQ(a->sha256, std::string(64, 'a'));

  auto got = repo.Get(a->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->version, "1");
  EXPECT_EQ(got->created_at, a->created_at);

  auto all = repo.List(std::nullopt, true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, c->id);
  EXPECT_EQ((*all)[2].id, a->id);
  auto detectors = repo.List(std::string("threat_detector"), true);
  ASSERT_TRUE(detectors.ok());
  EXPECT_EQ(detectors->size(), 2u);
  EXPECT_TRUE(repo.List(std::string("threat_detector"), false)->empty()) << "nothing active yet";
}

TEST_P(ModelRepositoryTest, DuplicateVersionIsAConflictAndUnknownIdsAreNotFound) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Models();
  ASSERT_TRUE(repo.Insert(Model("threat_detector", "1")).ok());
  EXPECT_EQ(repo.Insert(Model("threat_detector", "1")).status().code(), ErrorCode::kConflict);
  EXPECT_TRUE(repo.Insert(Model("attack_classifier", "1")).ok()) << "versions are per type";
  EXPECT_EQ(repo.Get(999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo.Activate(999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo.Deactivate(999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo.Delete(999).code(), ErrorCode::kNotFound);
}

TEST_P(ModelRepositoryTest, ActivateKeepsOneActiveRowPerTypeAndRollbackTargetIsThePreviousOne) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Models();
  auto a = repo.Insert(Model("threat_detector", "1"));
  auto b = repo.Insert(Model("threat_detector", "2"));
  auto k = repo.Insert(Model("attack_classifier", "1"));
  ASSERT_TRUE(a.ok() && b.ok() && k.ok());
  EXPECT_FALSE(repo.PreviouslyActive("threat_detector")->has_value());

  auto act = repo.Activate(a->id);
  ASSERT_TRUE(act.ok()) << act.status().ToString();
  EXPECT_TRUE(act->is_active);
  EXPECT_EQ(act->activated_at, clock_.Now());
  ASSERT_TRUE(repo.Activate(k->id).ok());
  ASSERT_TRUE(repo.Activate(b->id).ok());  // same clock time: still ordered after a

  auto active = repo.List(std::string("threat_detector"), false);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().id, b->id);
  EXPECT_TRUE(repo.Get(k->id)->is_active) << "other types are untouched";
  auto prev = repo.PreviouslyActive("threat_detector");
  ASSERT_TRUE(prev.ok() && prev->has_value());
  EXPECT_EQ((*prev)->id, a->id);
  EXPECT_GT(*repo.Get(b->id)->activated_at, *(*prev)->activated_at);

  auto off = repo.Deactivate(b->id);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->is_active);
  EXPECT_TRUE(off->activated_at.has_value()) << "kept for rollback";
  EXPECT_TRUE(repo.List(std::string("threat_detector"), false)->empty());
  EXPECT_EQ((*repo.PreviouslyActive("threat_detector"))->id, b->id);
}

TEST_P(ModelRepositoryTest, TheActiveModelCannotBeDeleted) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Models();
  auto a = repo.Insert(Model("threat_detector", "1"));
  auto b = repo.Insert(Model("threat_detector", "2"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(repo.Activate(a->id).ok());
  const Status s = repo.Delete(a->id);
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_NE(s.hint().find("deactivate"), std::string::npos);
  EXPECT_TRUE(repo.Delete(b->id).ok());
  EXPECT_EQ(repo.Get(b->id).status().code(), ErrorCode::kNotFound);
}

TEST_P(ModelRepositoryTest, StorageStatsCountByTypeAndListTheActiveModels) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& repo = db->Models();
  auto empty = repo.StorageStats();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->total_models, 0);
  auto a = repo.Insert(Model("threat_detector", "1", 100));
  ASSERT_TRUE(repo.Insert(Model("threat_detector", "2", 50)).ok());
  ASSERT_TRUE(repo.Insert(Model("attack_classifier", "1", 7)).ok());
  ASSERT_TRUE(a.ok() && repo.Activate(a->id).ok());
  auto stats = repo.StorageStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_models, 3);
  EXPECT_EQ(stats->total_size_bytes, 157);
  EXPECT_EQ(stats->by_type["threat_detector"].count, 2);
  EXPECT_EQ(stats->by_type["threat_detector"].size_bytes, 150);
  EXPECT_EQ(stats->by_type["threat_detector"].active_count, 1);
  EXPECT_EQ(stats->by_type["attack_classifier"].active_count, 0);
  ASSERT_EQ(stats->active_models.size(), 1u);
  EXPECT_EQ(stats->active_models[0].id, a->id);
  EXPECT_EQ(stats->active_models[0].version, "1");
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelRepositoryTest, ::testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         BackendName);

}  // namespace
}  // namespace threatd::storage::testing
