// Migrations against both backends: from empty, idempotent re-runs, the
// schema_migrations record, seeds, failure rollback and checksum mismatches.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/storage/storage_fixture.h"

namespace threatd::storage::testing {
namespace {

Migration Make(const std::string& name, const std::string& sql) {
  auto m = MakeMigration(name, sql);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.value();
}

using MigrationTest = StorageTest;

TEST_P(MigrationTest, MigratesAnEmptyDatabaseAndRecordsEachFile) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  auto before = db->MigrationStatus();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(before->empty());

  auto report = db->Migrate();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const auto& embedded = EmbeddedMigrations(db->Dialect());
  ASSERT_FALSE(embedded.empty());
  EXPECT_EQ(report->applied.size(), embedded.size());
  EXPECT_EQ(report->current_version, embedded.back().version);

  auto status = db->MigrationStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_EQ(status->size(), embedded.size());
  EXPECT_EQ((*status)[0].version, 1);
  EXPECT_EQ((*status)[0].name, "0001_initial.sql");
  EXPECT_EQ((*status)[0].checksum, embedded[0].checksum);
}

TEST_P(MigrationTest, ReRunningIsANoOp) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto again = db->Migrate();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->applied.empty());
  EXPECT_EQ(again->current_version, EmbeddedMigrations(db->Dialect()).back().version);
  EXPECT_EQ(db->MigrationStatus()->size(), EmbeddedMigrations(db->Dialect()).size());
}

TEST_P(MigrationTest, SeedsTheOriginalDataSources) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto sources = db->ListDataSources();
  ASSERT_TRUE(sources.ok()) << sources.status().ToString();
  ASSERT_EQ(sources->size(), 3u);
  // Ordered by name.
  EXPECT_EQ((*sources)[0].name, "external_kafka");
  EXPECT_FALSE((*sources)[0].enabled);
  EXPECT_EQ((*sources)[0].description, "External data providers via Kafka");
  EXPECT_EQ(nlohmann::json::parse(*(*sources)[0].config_json), nlohmann::json({{"topic", "external-traffic"}}));
  EXPECT_EQ((*sources)[1].name, "internal_kafka");
  EXPECT_TRUE((*sources)[1].enabled);
  EXPECT_EQ((*sources)[1].description, "Internal test data stream");
  EXPECT_EQ(nlohmann::json::parse(*(*sources)[1].config_json), nlohmann::json({{"topic", "network-traffic"}}));
  EXPECT_EQ((*sources)[2].name, "packet_capture");
  EXPECT_FALSE((*sources)[2].enabled);
  EXPECT_EQ((*sources)[2].description, "Network packet capture from server interface");
  EXPECT_EQ(nlohmann::json::parse(*(*sources)[2].config_json),
            nlohmann::json({{"interface", "any"}, {"buffer_size", 1000}}));
}

TEST_P(MigrationTest, AFailingMigrationRollsBackCompletelyAndNamesTheFile) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> list = EmbeddedMigrations(db->Dialect());
  list.push_back(Make("0900_bad.sql",
                      "CREATE TABLE canary (id integer);\n"
                      "UPDATE data_source_config SET is_enabled = NOT is_enabled;\n"
                      "INSERT INTO no_such_table VALUES (1);\n"));
  auto failed = db->Migrate(list);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("0900_bad.sql"), std::string::npos) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("no_such_table"), std::string::npos) << failed.status().ToString();

  // The earlier migrations stay applied; the bad one left no trace.
  auto status = db->MigrationStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->size(), EmbeddedMigrations(db->Dialect()).size());
  auto internal = db->GetDataSource("internal_kafka");
  ASSERT_TRUE(internal.ok() && internal->has_value());
  EXPECT_TRUE((*internal)->enabled);
  // `canary` does not exist: creating it in a later migration succeeds.
  std::vector<Migration> probe = EmbeddedMigrations(db->Dialect());
  probe.push_back(Make("0901_probe.sql", "CREATE TABLE canary (id integer);"));
  auto ok = db->Migrate(probe);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->applied.size(), 1u);
}

TEST_P(MigrationTest, AChangedAppliedMigrationIsAnError) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> edited = EmbeddedMigrations(db->Dialect());
  edited[0] = Make(edited[0].name, edited[0].sql + "\n-- edited\n");
  auto result = db->Migrate(edited);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kConflict);
  EXPECT_NE(result.status().message().find("0001_initial.sql"), std::string::npos);
}

TEST_P(MigrationTest, ADatabaseNewerThanTheBinaryIsAnError) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> newer = EmbeddedMigrations(db->Dialect());
  newer.push_back(Make("0902_future.sql", "CREATE TABLE future_table (id integer);"));
  ASSERT_TRUE(db->Migrate(newer).ok());
  auto result = db->Migrate();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kConflict);
}

INSTANTIATE_TEST_SUITE_P(Backends, MigrationTest, ::testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         BackendName);

TEST(MigrationFiles, NamesWithoutAVersionAreRejected) {
  EXPECT_EQ(MakeMigration("initial.sql", "").status().code(), ErrorCode::kInvalidArgument);
  auto m = MakeMigration("0012_x.sql", "SELECT 1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->version, 12);
  EXPECT_EQ(m->checksum.size(), 64u);
}

TEST(MigrationFiles, BothDialectsEmbedTheSameVersions) {
  const auto& a = EmbeddedMigrations("sqlite");
  const auto& b = EmbeddedMigrations("postgresql");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].name, b[i].name);
  EXPECT_TRUE(EmbeddedMigrations("oracle").empty());
}

}  // namespace
}  // namespace threatd::storage::testing
