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

// Schema v7 on a database that already holds v6 rows: every prediction takes
// its flow's id, a decision follows its attack prediction, and the foreign
// keys still hold (SQLite: the rebuild runs with them off, then checks them;
// dropping attack_predictions with them on would have set the decision's
// attack_prediction_id to NULL).
TEST_P(MigrationTest, Version7GivesPredictionsTheirFlowsIdAndDecisionsFollow) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> v6 = EmbeddedMigrations(db->Dialect());
  ASSERT_EQ(v6.back().version, 7);
  v6.pop_back();
  ASSERT_TRUE(db->Migrate(v6).ok());
  const bool pg = GetParam() == Backend::kPostgresql;
  const std::string features = pg ? "'\\x00'::bytea" : "x'00'";
  // Ids as the v6 sequences gave them: predictions numbered apart from flows.
  ExecSql("INSERT INTO feature_schemas(id, checksum, names) VALUES (1, 'c', '[]')");
  ExecSql("INSERT INTO traffic_data(id, source, feature_schema_id, features) VALUES (10, 'realtime', 1, " + features +
          "), (11, 'realtime', 1, " + features + "), (12, 'realtime', 1, " + features + "), (13, 'realtime', 1, " +
          features + ")");
  ExecSql(std::string("INSERT INTO threat_predictions(id, traffic_data_id, prediction_score, is_attack, model_version) "
                      "VALUES (1, 12, 0.9, ") + (pg ? "true" : "1") + ", 'd'), (2, 10, 0.1, " + (pg ? "false" : "0") +
          ", 'd'), (3, 11, 0.8, " + (pg ? "true" : "1") + ", 'd')");
  ExecSql("INSERT INTO attack_predictions(id, traffic_data_id, attack_type_encoded, attack_type_name, model_version) "
          "VALUES (1, 11, 2, 'DDoS', 'c'), (2, 12, 3, 'PortScan', 'c')");
  ExecSql("INSERT INTO self_healing_actions(id, attack_prediction_id, action_type, action_description) "
          "VALUES (100, 1, 'block_ip', 'x'), (101, 2, 'alert_admin', 'y'), (102, NULL, 'log_only', 'z')");

  auto report = db->Migrate();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->current_version, 7);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM threat_predictions WHERE id = traffic_data_id"), 3);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM attack_predictions WHERE id = traffic_data_id"), 2);
  EXPECT_EQ(ScalarSql("SELECT round(prediction_score * 10) FROM threat_predictions WHERE id = 12"), 9);
  EXPECT_EQ(ScalarSql("SELECT attack_prediction_id FROM self_healing_actions WHERE id = 100"), 11);
  EXPECT_EQ(ScalarSql("SELECT attack_prediction_id FROM self_healing_actions WHERE id = 101"), 12);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_actions WHERE id = 102 AND attack_prediction_id IS NULL"), 1);
  // The constraints hold afterwards: a prediction's id is its flow's, and
  // deleting a flow takes its predictions and clears the decision's link.
  const std::string insert13 =
      "INSERT INTO threat_predictions(id, traffic_data_id, prediction_score, is_attack, model_version) VALUES (13, ";
  const std::string rest = std::string(", 0.5, ") + (pg ? "true" : "1") + ", 'd')";
  EXPECT_FALSE(TryExecSql(insert13 + "12" + rest).ok());
  EXPECT_TRUE(TryExecSql(insert13 + "13" + rest).ok());
  ExecSql("DELETE FROM traffic_data WHERE id = 11");
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM threat_predictions") + ScalarSql("SELECT count(*) FROM attack_predictions"),
            3 + 1);
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_actions WHERE id = 100 AND attack_prediction_id IS NULL"), 1);
}

// A migration that leaves a dangling foreign key is refused whole (SQLite
// runs migrations with foreign keys off, so it checks them before COMMIT).
TEST_P(MigrationTest, AMigrationThatBreaksAForeignKeyIsRolledBack) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> list = EmbeddedMigrations(db->Dialect());
  list.push_back(Make("0900_dangling.sql",
                      "INSERT INTO self_healing_actions(attack_prediction_id, action_type, action_description) "
                      "VALUES (424242, 'block_ip', 'x');"));
  auto failed = db->Migrate(list);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("0900_dangling.sql"), std::string::npos) << failed.status().ToString();
  EXPECT_EQ(ScalarSql("SELECT count(*) FROM self_healing_actions"), 0);
  EXPECT_EQ(db->MigrationStatus()->size(), EmbeddedMigrations(db->Dialect()).size());
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
