#include "ingest/whitelist_matcher.h"

#include <gtest/gtest.h>

#include "support/eventually.h"
#include "unit/ingest/ingest_fakes.h"

namespace threatd::ingest {
namespace {

using threatd::testing::Eventually;
using testing::FakeWhitelistRepository;

class WhitelistMatcherTest : public ::testing::Test {
 protected:
  int64_t Add(const std::string& ip, bool active = true, std::optional<Clock::WallTime> expires = {}) {
    storage::NewWhitelistEntry e;
    e.ip_address = ip;
    e.is_active = active;
    e.expires_at = expires;
    return repo_.CreateWhitelistEntry(e)->id;
  }

  FakeClock clock_;
  FakeWhitelistRepository repo_{clock_};
};

TEST_F(WhitelistMatcherTest, MatchesHostsAndRangesOfActiveEntries) {
  Add("192.0.2.7");
  Add("198.51.100.0/24");
  Add("2001:db8::/32");
  Add("203.0.113.9", /*active=*/false);
  WhitelistMatcher m(repo_, clock_);
  EXPECT_FALSE(m.IsWhitelisted("192.0.2.7"));  // nothing loaded yet
  ASSERT_TRUE(m.Refresh().ok());
  EXPECT_EQ(m.size(), 3u);
  EXPECT_TRUE(m.IsWhitelisted("192.0.2.7"));
  EXPECT_TRUE(m.IsWhitelisted("::ffff:192.0.2.7"));
  EXPECT_FALSE(m.IsWhitelisted("192.0.2.8"));
  EXPECT_TRUE(m.IsWhitelisted("198.51.100.200"));
  EXPECT_FALSE(m.IsWhitelisted("198.51.101.1"));
  EXPECT_TRUE(m.IsWhitelisted("2001:DB8::42"));
  EXPECT_FALSE(m.IsWhitelisted("203.0.113.9"));  // inactive
  EXPECT_FALSE(m.IsWhitelisted("198.51.100.0/24"));  // a range is not an address
  EXPECT_FALSE(m.IsWhitelisted(""));
  EXPECT_FALSE(m.IsWhitelisted("garbage"));
}

TEST_F(WhitelistMatcherTest, AnEntryStopsMatchingAtItsExpiryWithoutARefresh) {
  Add("192.0.2.7", true, clock_.Now() + std::chrono::seconds(30));
  Add("198.51.100.0/24", true, clock_.Now() + std::chrono::seconds(60));
  WhitelistMatcher m(repo_, clock_);
  ASSERT_TRUE(m.Refresh().ok());
  EXPECT_TRUE(m.IsWhitelisted("192.0.2.7"));
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_FALSE(m.IsWhitelisted("192.0.2.7"));
  EXPECT_TRUE(m.IsWhitelisted("198.51.100.1"));
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_FALSE(m.IsWhitelisted("198.51.100.1"));
}

TEST_F(WhitelistMatcherTest, BackgroundRefreshPicksUpChanges) {
  WhitelistMatcher m(repo_, clock_, WhitelistMatcher::Options{std::chrono::milliseconds(10)});
  ASSERT_TRUE(m.Start().ok());
  EXPECT_FALSE(m.IsWhitelisted("192.0.2.7"));
  const int64_t id = Add("192.0.2.7");
  ASSERT_TRUE(Eventually([&] { return m.IsWhitelisted("192.0.2.7"); }));
  ASSERT_TRUE(repo_.DeleteWhitelistEntry(id).ok());
  ASSERT_TRUE(Eventually([&] { return !m.IsWhitelisted("192.0.2.7"); }));
  m.Stop();
}

TEST_F(WhitelistMatcherTest, ADownDatabaseKeepsTheLastSnapshot) {
  Add("192.0.2.7");
  WhitelistMatcher m(repo_, clock_);
  EXPECT_EQ(m.HealthCheck()["status"], "error");
  ASSERT_TRUE(m.Refresh().ok());
  EXPECT_EQ(m.HealthCheck()["status"], "ok");
  repo_.SetDown(true);
  EXPECT_EQ(m.Refresh().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(m.IsWhitelisted("192.0.2.7"));
  EXPECT_EQ(m.HealthCheck()["status"], "degraded");
  EXPECT_EQ(m.HealthCheck()["entries"], 1);
}

TEST_F(WhitelistMatcherTest, SkipsRowsThatAreNotAddresses) {
  Add("not-an-ip");  // e.g. edited by hand in the database
  Add("192.0.2.7");
  WhitelistMatcher m(repo_, clock_);
  ASSERT_TRUE(m.Refresh().ok());
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.IsWhitelisted("192.0.2.7"));
}

}  // namespace
}  // namespace threatd::ingest
