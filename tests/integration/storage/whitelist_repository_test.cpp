// WhitelistRepository against both backends (ip_whitelist).
#include <gtest/gtest.h>

#include "integration/storage/storage_fixture.h"

namespace threatd::storage::testing {
namespace {

using WhitelistRepositoryTest = StorageTest;

NewWhitelistEntry Entry(const std::string& ip, bool active = true) {
  NewWhitelistEntry e;
  e.ip_address = ip;
  e.description = "desc " + ip;
  e.is_active = active;
  e.created_by = "otto";
  return e;
}

TEST_P(WhitelistRepositoryTest, CreateGetAndHonourIsActive) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& wl = db->Whitelist();
  const WallTime expiry = clock_.Now() + std::chrono::hours(1);
  NewWhitelistEntry e = Entry("192.0.2.7", /*active=*/false);
  e.expires_at = expiry;
  auto created = wl.CreateWhitelistEntry(e);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->ip_address, "192.0.2.7");
  EXPECT_FALSE(created->is_active);  // the original ignored this
  EXPECT_EQ(created->expires_at, std::optional<WallTime>(expiry));
  EXPECT_EQ(created->created_at, clock_.Now());
  EXPECT_EQ(created->created_by, std::optional<std::string>("otto"));

  auto got = wl.GetWhitelistEntry(created->id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->description, std::optional<std::string>("desc 192.0.2.7"));
  EXPECT_FALSE((*got)->is_active);
  EXPECT_FALSE(wl.GetWhitelistEntry(9999)->has_value());
}

TEST_P(WhitelistRepositoryTest, DuplicateAddressIsAConflictNamingIt) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Whitelist().CreateWhitelistEntry(Entry("2001:db8::/32")).ok());
  auto again = db->Whitelist().CreateWhitelistEntry(Entry("2001:db8::/32"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(again.status().message(), "IP address already exists in whitelist: 2001:db8::/32");
}

TEST_P(WhitelistRepositoryTest, ListIsNewestFirstAndFiltersBeforeLimit) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& wl = db->Whitelist();
  // Oldest first: a (active), b (inactive), c (active, expires), d (inactive).
  ASSERT_TRUE(wl.CreateWhitelistEntry(Entry("10.0.0.1")).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(wl.CreateWhitelistEntry(Entry("10.0.0.2", false)).ok());
  clock_.Advance(std::chrono::seconds(1));
  NewWhitelistEntry c = Entry("10.0.0.3");
  c.expires_at = clock_.Now() + std::chrono::seconds(30);
  ASSERT_TRUE(wl.CreateWhitelistEntry(c).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(wl.CreateWhitelistEntry(Entry("10.0.0.4", false)).ok());

  auto all = wl.ListWhitelist({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].ip_address, "10.0.0.4");
  EXPECT_EQ((*all)[3].ip_address, "10.0.0.1");

  // Filter before LIMIT: the newest row is inactive, yet limit 1 finds one.
  auto active = wl.ListWhitelist({.active_only = true, .limit = 1, .offset = 0});
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].ip_address, "10.0.0.3");
  auto page2 = wl.ListWhitelist({.active_only = true, .limit = 1, .offset = 1});
  ASSERT_EQ(page2->size(), 1u);
  EXPECT_EQ((*page2)[0].ip_address, "10.0.0.1");

  clock_.Advance(std::chrono::seconds(60));  // 10.0.0.3 expires
  auto later = wl.ListWhitelist({.active_only = true, .limit = 10, .offset = 0});
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].ip_address, "10.0.0.1");
  auto in_effect = wl.ListWhitelistInEffect();
  ASSERT_TRUE(in_effect.ok());
  ASSERT_EQ(in_effect->size(), 1u);
  EXPECT_EQ((*in_effect)[0].ip_address, "10.0.0.1");
  EXPECT_EQ(wl.ListWhitelist({.active_only = false, .limit = 0, .offset = 0}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(WhitelistRepositoryTest, UpdateKeepsWhatIsNotGiven) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto& wl = db->Whitelist();
  NewWhitelistEntry e = Entry("192.0.2.0/24");
  e.expires_at = clock_.Now() + std::chrono::hours(1);
  auto created = wl.CreateWhitelistEntry(e);
  ASSERT_TRUE(created.ok());
  clock_.Advance(std::chrono::seconds(5));

  WhitelistUpdate off;
  off.is_active = false;
  auto u1 = wl.UpdateWhitelistEntry(created->id, off);
  ASSERT_TRUE(u1.ok()) << u1.status().ToString();
  EXPECT_FALSE(u1->is_active);
  EXPECT_EQ(u1->description, created->description);
  EXPECT_EQ(u1->expires_at, created->expires_at);
  EXPECT_EQ(u1->created_at, created->created_at);
  EXPECT_EQ(u1->updated_at, clock_.Now());

  WhitelistUpdate change;
  change.description = "new";
  change.clear_expires_at = true;
  auto u2 = wl.UpdateWhitelistEntry(created->id, change);
  ASSERT_TRUE(u2.ok()) << u2.status().ToString();
  EXPECT_EQ(u2->description, std::optional<std::string>("new"));
  EXPECT_FALSE(u2->expires_at.has_value());
  EXPECT_FALSE(u2->is_active);

  WhitelistUpdate clear;
  clear.clear_description = true;
  clear.expires_at = clock_.Now() + std::chrono::hours(2);
  auto u3 = wl.UpdateWhitelistEntry(created->id, clear);
  ASSERT_TRUE(u3.ok());
  EXPECT_FALSE(u3->description.has_value());
  EXPECT_EQ(u3->expires_at, std::optional<WallTime>(clock_.Now() + std::chrono::hours(2)));

  auto missing = wl.UpdateWhitelistEntry(9999, off);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "IP whitelist entry not found: 9999");
}

TEST_P(WhitelistRepositoryTest, DeleteRemovesOnceThenNotFound) {
  auto db = OpenMigrated();
  ASSERT_NE(db, nullptr);
  auto created = db->Whitelist().CreateWhitelistEntry(Entry("192.0.2.9"));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(db->Whitelist().DeleteWhitelistEntry(created->id).ok());
  EXPECT_EQ(db->Whitelist().DeleteWhitelistEntry(created->id).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(db->Whitelist().ListWhitelist({})->empty());
  // The address can be whitelisted again.
  EXPECT_TRUE(db->Whitelist().CreateWhitelistEntry(Entry("192.0.2.9")).ok());
}

TEST_P(WhitelistRepositoryTest, ADatabaseErrorIsAnErrorNotAnEmptyList) {
  auto db = Open();  // not migrated: the table does not exist
  ASSERT_NE(db, nullptr);
  auto rows = db->Whitelist().ListWhitelist({});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(db->Whitelist().GetWhitelistEntry(1).ok());
  db->Close();
  auto closed = db->Whitelist().ListWhitelistInEffect();
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), ErrorCode::kUnavailable) << closed.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, WhitelistRepositoryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgresql), BackendName);

}  // namespace
}  // namespace threatd::storage::testing
