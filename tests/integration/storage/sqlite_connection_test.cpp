// SqliteConnection keeps prepared statements for reuse: a statement handed
// out again for the same text starts fresh (rewound, no bindings), an
// abandoned one holds no lock, scripts still run whole, and the cache stays
// bounded. A new database gets 16 kB pages; an existing one keeps its own.
#include "storage/sqlite/sqlite_connection.h"

#include <gtest/gtest.h>

#include <string>

#include "integration/storage/sqlite_test_file.h"

namespace threatd::storage::sqlite {
namespace {

class SqliteConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = SqliteConnection::Open(file_.path(), false, std::chrono::milliseconds(1000));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)").ok());
  }
  void TearDown() override { conn_.reset(); }
  int64_t Pragma(std::string_view name) {
    auto q = conn_->Prepare("PRAGMA " + std::string(name));
    EXPECT_TRUE(q.ok());
    EXPECT_TRUE(*q->Step());
    return q->Int64(0);
  }
  int64_t Count(std::string_view where = "1") {
    auto q = conn_->Prepare("SELECT count(*) FROM t WHERE " + std::string(where));
    EXPECT_TRUE(q.ok());
    EXPECT_TRUE(*q->Step());
    return q->Int64(0);
  }

  SqliteTestFile file_{"threatd_conn_"};
  std::unique_ptr<SqliteConnection> conn_;
};

TEST_F(SqliteConnectionTest, AReusedStatementStartsWithoutTheBindingsOfItsLastUse) {
  constexpr const char* kInsert = "INSERT INTO t(k, v) VALUES (?, ?)";
  {
    auto q = conn_->Prepare(kInsert);
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Bind(1, int64_t{1}).Bind(2, std::string_view("one")).Run().ok());
  }
  {
    auto q = conn_->Prepare(kInsert);  // the kept statement: parameter 2 must be NULL now, not "one"
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Bind(1, int64_t{2}).Run().ok());
  }
  EXPECT_EQ(Count("k = 1 AND v = 'one'"), 1);
  EXPECT_EQ(Count("k = 2 AND v IS NULL"), 1);
}

TEST_F(SqliteConnectionTest, AStatementAbandonedMidResultIsRewoundAndHoldsNoLock) {
  ASSERT_TRUE(conn_->Exec("INSERT INTO t(k, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
  constexpr const char* kSelect = "SELECT k FROM t ORDER BY k";
  {
    auto q = conn_->Prepare(kSelect);
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(*q->Step());
    EXPECT_EQ(q->Int64(0), 1);
  }  // dropped on its first row
  {
    auto q = conn_->Prepare(kSelect);
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(*q->Step());
    EXPECT_EQ(q->Int64(0), 1) << "a reused statement must start from the first row";
  }
  // A write from another connection succeeds: nothing kept holds the database.
  auto other = SqliteConnection::Open(file_.path(), false, std::chrono::milliseconds(0));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->Exec("BEGIN IMMEDIATE; DELETE FROM t WHERE k = 3; COMMIT").ok());
  EXPECT_EQ(Count(), 2);
}

TEST_F(SqliteConnectionTest, ScriptsRunWholeAndSingleStatementsRunFromTheCache) {
  // Several statements: all of them run (not only the first, as Prepare would).
  ASSERT_TRUE(conn_->Exec("INSERT INTO t(k) VALUES (1); INSERT INTO t(k) VALUES (2);\n").ok());
  EXPECT_EQ(Count(), 2);
  // The same single statement many times, inside transactions.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(conn_->Exec("BEGIN IMMEDIATE").ok());
    ASSERT_TRUE(conn_->Exec("SAVEPOINT job").ok());
    ASSERT_TRUE(conn_->Exec("INSERT INTO t(v) VALUES ('x')").ok());
    ASSERT_TRUE(conn_->Exec(i % 2 == 0 ? "RELEASE job" : "ROLLBACK TO job").ok());
    ASSERT_TRUE(conn_->Exec("COMMIT").ok());
  }
  EXPECT_FALSE(conn_->InTransaction());
  EXPECT_EQ(Count("v = 'x'"), 50);
  EXPECT_TRUE(conn_->Exec("").ok());  // nothing to run is not an error, as before
  const Status bad = conn_->Exec("INSERT INTO missing VALUES (1)");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("missing"), std::string::npos) << bad.message();
}

TEST_F(SqliteConnectionTest, ManyDistinctTextsStayCorrectBeyondTheCacheBound) {
  for (int i = 0; i < 300; ++i) {
    const std::string sql = "INSERT INTO t(k, v) VALUES (" + std::to_string(i) + ", ?)";
    auto q = conn_->Prepare(sql);
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Bind(1, std::string_view("v")).Run().ok());
  }
  EXPECT_EQ(Count("v = 'v'"), 300);
}

TEST_F(SqliteConnectionTest, AKeptStatementSeesASchemaChange) {
  constexpr const char* kSelect = "SELECT * FROM t WHERE k = 1";
  ASSERT_TRUE(conn_->Exec("INSERT INTO t(k, v) VALUES (1, 'a')").ok());
  {
    auto q = conn_->Prepare(kSelect);
    ASSERT_TRUE(q.ok() && *q->Step());
  }
  ASSERT_TRUE(conn_->Exec("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 7").ok());
  auto q = conn_->Prepare(kSelect);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int64(2), 7) << "the kept statement must be recompiled for the new column";
}

TEST_F(SqliteConnectionTest, ANewDatabaseGetsLargePagesAndAnExistingOneKeepsItsOwn) {
  EXPECT_EQ(*conn_->PageSize(), kNewDatabasePageSize);
  EXPECT_EQ(Pragma("wal_autocheckpoint"), kWalCheckpointBytes / kNewDatabasePageSize);

  // Rebuilt with SQLite's default 4 kB pages (a page size changes only by
  // VACUUM outside WAL mode), as a database created before threatd chose one.
  ASSERT_TRUE(conn_->Exec("INSERT INTO t(k, v) VALUES (1, 'kept')").ok());
  ASSERT_TRUE(conn_->Exec("PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM").ok());
  ASSERT_EQ(*conn_->PageSize(), 4096);
  conn_.reset();

  auto reopened = SqliteConnection::Open(file_.path(), false, std::chrono::milliseconds(1000));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  conn_ = std::move(reopened).value();
  EXPECT_EQ(*conn_->PageSize(), 4096);
  EXPECT_EQ(Pragma("wal_autocheckpoint"), kWalCheckpointBytes / 4096) << "the log limit is in bytes, not pages";
  auto mode = conn_->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok() && *mode->Step());
  EXPECT_EQ(mode->Text(0), "wal");
  EXPECT_EQ(Count("v = 'kept'"), 1);
}

}  // namespace
}  // namespace threatd::storage::sqlite
