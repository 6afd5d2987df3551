// The Database repository methods against both backends.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/storage/storage_fixture.h"
#include "storage/database_url.h"
#include "support/eventually.h"

namespace threatd::storage::testing {
namespace {

using DatabaseTest = StorageTest;

NewApiKey Key(const std::string& prefix, Role role, WallTime at) {
  return NewApiKey{"key " + prefix, prefix, "salt-" + prefix, "hash-" + prefix, role, "admin-key", at};
}

TEST_P(DatabaseTest, ReportsDialectAndRedactsTheUrl) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Dialect(), GetParam() == Backend::kSqlite ? "sqlite" : "postgresql");
  EXPECT_EQ(db->RedactedUrl().find("***"), std::string::npos);  // test URLs carry no password
}

TEST_P(DatabaseTest, ApiKeysInsertFindListRevokeCount) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  const WallTime t1 = NextTime();
  auto a = db->InsertApiKey(Key("aaaa1111", Role::kAdmin, t1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_GT(a->id, 0);
  EXPECT_EQ(a->created_at, t1);
  auto b = db->InsertApiKey(Key("bbbb2222", Role::kViewer, NextTime()));
  ASSERT_TRUE(b.ok()) << b.status().ToString();

  auto found = db->FindApiKeyByPrefix("aaaa1111");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, a->id);
  EXPECT_EQ((*found)->name, "key aaaa1111");
  EXPECT_EQ((*found)->salt, "salt-aaaa1111");
  EXPECT_EQ((*found)->key_hash, "hash-aaaa1111");
  EXPECT_EQ((*found)->role, Role::kAdmin);
  EXPECT_EQ((*found)->created_by, std::optional<std::string>("admin-key"));
  EXPECT_EQ((*found)->created_at, t1);
  EXPECT_TRUE((*found)->active());
  EXPECT_FALSE(db->FindApiKeyByPrefix("nope")->has_value());

  auto list = db->ListApiKeys();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].prefix, "aaaa1111");
  EXPECT_EQ((*list)[1].role, Role::kViewer);
  EXPECT_EQ(*db->CountActiveApiKeys(), 2);

  const WallTime revoked = NextTime();
  ASSERT_TRUE(db->RevokeApiKey(b->id, revoked).ok());
  ASSERT_TRUE(db->RevokeApiKey(b->id, NextTime()).ok());  // keeps the first time
  EXPECT_EQ(db->RevokeApiKey(9999, NextTime()).code(), ErrorCode::kNotFound);
  EXPECT_EQ(*db->CountActiveApiKeys(), 1);
  auto b_after = db->FindApiKeyByPrefix("bbbb2222");
  ASSERT_TRUE(b_after.ok() && b_after->has_value());
  EXPECT_EQ((*b_after)->revoked_at, std::optional<WallTime>(revoked));
}

TEST_P(DatabaseTest, DuplicatePrefixIsAConflict) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->InsertApiKey(Key("dup00001", Role::kOperator, NextTime())).ok());
  auto again = db->InsertApiKey(Key("dup00001", Role::kViewer, NextTime()));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict) << again.status().ToString();
  EXPECT_EQ(*db->CountActiveApiKeys(), 1);
}

TEST_P(DatabaseTest, TouchRecordsTheLatestUseAfterFlush) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto k = db->InsertApiKey(Key("touch001", Role::kViewer, NextTime()));
  ASSERT_TRUE(k.ok());
  const WallTime early = NextTime();
  const WallTime late = NextTime();
  ASSERT_TRUE(db->TouchApiKey(k->id, late).ok());
  ASSERT_TRUE(db->TouchApiKey(k->id, early).ok());  // never moves backwards
  ASSERT_TRUE(db->Flush().ok());
  auto found = db->FindApiKeyByPrefix("touch001");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->last_used_at, std::optional<WallTime>(late));
}

TEST_P(DatabaseTest, AuditIsListedNewestFirstWithPaging) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 5; ++i) {
    AuditEntry e;
    e.created_at = NextTime();
    e.actor = "admin";
    e.action = "api_key.create";
    e.target_type = "api_key";
    e.target_id = std::to_string(i);
    e.details_json = nlohmann::json({{"i", i}}).dump();
    e.request_id = "req" + std::to_string(i);
    ASSERT_TRUE(db->AppendAudit(e).ok());
  }
  auto page = db->ListAudit({.limit = 2, .offset = 1});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].target_id, "3");
  EXPECT_EQ((*page)[1].target_id, "2");
  EXPECT_EQ((*page)[0].request_id, "req3");
  EXPECT_EQ(nlohmann::json::parse(*(*page)[0].details_json), nlohmann::json({{"i", 3}}));
  EXPECT_GT((*page)[0].created_at, (*page)[1].created_at);
  EXPECT_EQ(db->ListAudit({.limit = 0}).status().code(), ErrorCode::kInvalidArgument);

  AuditEntry bad;
  bad.created_at = NextTime();
  bad.actor = "x";
  bad.action = "y";
  bad.details_json = "{not json";
  EXPECT_EQ(db->AppendAudit(bad).code(), ErrorCode::kValidation);
}

TEST_P(DatabaseTest, DataSourceUpdate) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  clock_.Advance(std::chrono::hours(1));
  auto updated = db->UpdateDataSource("external_kafka", true, R"({"topic": "partner-flows"})");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_TRUE(updated->enabled);
  EXPECT_EQ(nlohmann::json::parse(*updated->config_json), nlohmann::json({{"topic", "partner-flows"}}));
  EXPECT_EQ(updated->updated_at, clock_.Now());

  auto kept = db->UpdateDataSource("external_kafka", false, std::nullopt);  // config unchanged
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->enabled);
  EXPECT_EQ(nlohmann::json::parse(*kept->config_json), nlohmann::json({{"topic", "partner-flows"}}));
  auto got = db->GetDataSource("external_kafka");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_FALSE((*got)->enabled);

  EXPECT_EQ(db->UpdateDataSource("nope", true, std::nullopt).status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(db->GetDataSource("nope")->has_value());
  EXPECT_EQ(db->UpdateDataSource("external_kafka", true, "{oops").status().code(), ErrorCode::kValidation);
}

// Two handles on one PostgreSQL database are two instances: each hears the
// other's changes through the change feed and skips its own. (SQLite has no
// feed: one process owns the file.)
TEST_P(DatabaseTest, ChangeFeedHearsOtherInstancesAndSkipsItsOwnChanges) {
  auto mine = OpenMigrated();
  ASSERT_NE(mine, nullptr);
  auto feed = mine->OpenChangeFeed();
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(feed, nullptr);
    return;
  }
  ASSERT_NE(feed, nullptr);
  auto other = Open();  // same database, another "instance"
  std::mutex mu;
  std::vector<std::set<std::string>> calls;
  feed->Start([&](const std::set<std::string>& tables) {
    std::lock_guard lock(mu);
    calls.push_back(tables);
  });
  auto heard = [&](const std::string& table) {
    std::lock_guard lock(mu);
    for (const auto& c : calls)
      if (c.count(table)) return true;
    return false;
  };
  // On (re)connect: everything, since what changed before is unknown.
  ASSERT_TRUE(::threatd::testing::Eventually([&] { return heard(kAllTables); })) << feed->HealthCheck().dump();
  EXPECT_EQ(feed->HealthCheck()["listening"], true);

  NewWhitelistEntry w;
  w.ip_address = "192.0.2.0/24";
  ASSERT_TRUE(mine->Whitelist().CreateWhitelistEntry(w).ok());     // this instance's own change
  ASSERT_TRUE(other->UpdateDataSource("external_kafka", true, std::nullopt).ok());  // another's
  ASSERT_TRUE(::threatd::testing::Eventually([&] { return heard("data_source_config"); }))
      << feed->HealthCheck().dump();
  // Notifications arrive in commit order: had the own change not been
  // skipped, it would have been heard before the other's.
  EXPECT_FALSE(heard("ip_whitelist"));
  feed->Stop();
}

TEST_P(DatabaseTest, PingMeasuresARoundTrip) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  auto ms = db->Ping();
  ASSERT_TRUE(ms.ok()) << ms.status().ToString();
  EXPECT_GE(*ms, 0.0);
}

TEST_P(DatabaseTest, ConcurrentWritersAllSucceedAndAFailureStaysLocal) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> ok{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  const WallTime base = NextTime();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Thread 0 re-inserts its first prefix every time: 39 conflicts.
        const std::string prefix = t == 0 ? "t0-same" : "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = db->InsertApiKey(Key(prefix, Role::kViewer, base + std::chrono::microseconds(t * 1000 + i)));
        if (r.ok()) {
          ++ok;
        } else if (r.status().code() == ErrorCode::kConflict) {
          ++conflicts;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), (kThreads - 1) * kPerThread + 1);
  EXPECT_EQ(conflicts.load(), kPerThread - 1);
  EXPECT_EQ(*db->CountActiveApiKeys(), (kThreads - 1) * kPerThread + 1);
}

TEST_P(DatabaseTest, CallsAfterCloseFailWithUnavailable) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  db->Close();
  db->Close();  // idempotent
  EXPECT_EQ(db->Ping().status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(db->InsertApiKey(Key("late0001", Role::kViewer, NextTime())).status().code(), ErrorCode::kUnavailable);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         BackendName);

TEST(PostgresDown, PingFailsFastWithUnavailable) {
  metrics::Registry registry;
  StorageOptions options;
  options.url = "postgresql://postgres:secret@127.0.0.1:1/threatd_test";  // nothing listens on port 1
  auto db = OpenDatabase(options, registry);
  ASSERT_TRUE(db.ok()) << db.status().ToString();  // opening never needs the server
  EXPECT_EQ((*db)->RedactedUrl(), "postgresql://postgres:***@127.0.0.1:1/threatd_test");
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto ping = (*db)->Ping();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(ping.ok());
    EXPECT_EQ(ping.status().code(), ErrorCode::kUnavailable) << ping.status().ToString();
    EXPECT_EQ(ping.status().message().find("secret"), std::string::npos);
    EXPECT_LT(elapsed, std::chrono::seconds(3));
  }
  EXPECT_EQ((*db)->Migrate().status().code(), ErrorCode::kUnavailable);
  EXPECT_GE(registry.GetCounter("threatd_storage_unavailable_total", "", {{"dialect", "postgresql"}}).Value(), 4u);
}

TEST(DatabaseUrl, ParsesTheAcceptedForms) {
  auto abs = ParseDatabaseUrl("sqlite:///var/lib/threatd.db");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->sqlite_path, "/var/lib/threatd.db");
  auto rel = ParseDatabaseUrl("sqlite://data/threatd.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->sqlite_path, "data/threatd.db");
  EXPECT_TRUE(ParseDatabaseUrl("sqlite::memory:")->sqlite_memory);
  EXPECT_EQ(ParseDatabaseUrl("postgres://u@h/db")->kind, DatabaseKind::kPostgresql);
  EXPECT_EQ(ParseDatabaseUrl("mysql://u@h/db").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(RedactUrl("postgresql://u:p%40ss@h:5432/db?password=x&sslmode=require"),
            "postgresql://u:***@h:5432/db?password=***&sslmode=require");
}

TEST(SqliteMemory, WorksEndToEnd) {
  metrics::Registry registry;
  StorageOptions options;
  options.url = "sqlite::memory:";
  auto db = OpenDatabase(options, registry);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Migrate().ok());
  ASSERT_TRUE((*db)->InsertApiKey(Key("mem00001", Role::kAdmin, WallTime(std::chrono::seconds(1)))).ok());
  EXPECT_EQ(*(*db)->CountActiveApiKeys(), 1);
  EXPECT_EQ((*db)->ListDataSources()->size(), 3u);
}

}  // namespace
}  // namespace threatd::storage::testing
