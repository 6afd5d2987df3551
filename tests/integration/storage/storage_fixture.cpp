#include "integration/storage/storage_fixture.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/sqlite/sqlite_connection.h"

namespace threatd::storage::testing {

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgresql";
}

std::string TestPgServerUrl() {
  std::ifstream in(THREATD_TEST_PG_URL_FILE);
  std::string url;
  std::getline(in, url);
  return url;
}

namespace {
std::string UniqueName() {
  static std::atomic<int> counter{0};
  return "threatd_t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}
}  // namespace

void StorageTest::SetUp() {
  if (GetParam() == Backend::kSqlite) {
    sqlite_path_ = (std::filesystem::temp_directory_path() / (UniqueName() + ".db")).string();
    url_ = "sqlite://" + sqlite_path_;  // absolute path: sqlite:///tmp/...
    return;
  }
  const std::string server = TestPgServerUrl();
  if (server.empty()) {
    GTEST_SKIP() << "no test PostgreSQL: " << THREATD_TEST_PG_URL_FILE
                 << " is missing; run through ctest (fixture 'postgres') or scripts/pg-test-server.sh start";
  }
  pg_database_ = UniqueName();
  pqxx::connection admin(server);
  pqxx::nontransaction(admin).exec("CREATE DATABASE " + pg_database_);
  url_ = server.substr(0, server.rfind('/') + 1) + pg_database_;
}

void StorageTest::TearDown() {
  if (!sqlite_path_.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path_ + suffix);
  }
  if (!pg_database_.empty()) {
    pqxx::connection admin(TestPgServerUrl());
    pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + pg_database_ + " WITH (FORCE)");
  }
}

std::unique_ptr<Database> StorageTest::Open(StorageOptions options) {
  options.url = url_;
  auto db = OpenDatabase(options, registry_, clock_);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

void StorageTest::ExecSql(const std::string& sql) {
  const Status s = TryExecSql(sql);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

Status StorageTest::TryExecSql(const std::string& sql) {
  if (GetParam() == Backend::kSqlite) {
    auto c = sqlite::SqliteConnection::Open(SqlitePath(), false, std::chrono::milliseconds(5000));
    if (!c.ok()) return c.status();
    return (*c)->Exec(sql);
  }
  try {
    pqxx::connection c(url_);
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  } catch (const std::exception& e) {
    return Status::Internal(e.what());
  }
  return Status::Ok();
}

int64_t StorageTest::ScalarSql(const std::string& sql) {
  if (GetParam() == Backend::kSqlite) {
    auto c = sqlite::SqliteConnection::Open(SqlitePath(), true, std::chrono::milliseconds(5000));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return -1;
    auto q = (*c)->Prepare(sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return -1;
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row);
    return q->Int64(0);
  }
  pqxx::connection c(url_);
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}

std::string StorageTest::PlanSql(const std::string& sql) {
  std::string plan;
  if (GetParam() == Backend::kSqlite) {
    auto c = sqlite::SqliteConnection::Open(SqlitePath(), true, std::chrono::milliseconds(5000));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return plan;
    auto q = (*c)->Prepare("EXPLAIN QUERY PLAN " + sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return plan;
    for (auto row = q->Step(); row.ok() && *row; row = q->Step()) plan += q->Text(3) + "\n";
    return plan;
  }
  pqxx::connection c(url_);
  pqxx::work tx(c);
  tx.exec0("SET LOCAL enable_seqscan = off");
  for (const auto& row : tx.exec("EXPLAIN " + sql)) plan += row[0].c_str() + std::string("\n");
  return plan;  // rolled back: EXPLAIN without ANALYZE changes nothing anyway
}

std::unique_ptr<Database> StorageTest::OpenMigrated() {
  auto db = Open();
  if (db == nullptr) return nullptr;
  auto report = db->Migrate();
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return db;
}

WallTime StorageTest::NextTime() {
  clock_.Advance(std::chrono::milliseconds(1));
  return clock_.Now();
}

}  // namespace threatd::storage::testing
