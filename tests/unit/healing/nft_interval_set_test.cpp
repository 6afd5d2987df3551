#include "healing/nft_interval_set.h"

#include <gtest/gtest.h>

namespace threatd::healing::nft {
namespace {

constexpr auto kV4 = IpNetwork::Family::kV4;
constexpr auto kV6 = IpNetwork::Family::kV6;

Range R(std::string_view cidr) { return ToRange(IpNetwork::Parse(cidr).value()); }

Member M(int64_t id, std::string_view cidr, int64_t expiry) {
  const Range r = R(cidr);
  return {id, r.lo, r.hi, expiry};
}

// Segments as "text@expiry" for readable expectations.
std::vector<std::string> Texts(const std::vector<Segment>& segments, IpNetwork::Family f = kV4) {
  std::vector<std::string> out;
  for (const auto& s : segments) {
    out.push_back(FormatRange(f, s.lo, s.hi) + "@" + (s.expiry_ms == kNever ? "never" : std::to_string(s.expiry_ms)));
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(NftKeys, RangesAndTextRoundTrip) {
  EXPECT_EQ(FormatRange(kV4, R("10.0.0.0/24").lo, R("10.0.0.0/24").hi), "10.0.0.0/24");
  EXPECT_EQ(FormatRange(kV4, R("10.0.0.5").lo, R("10.0.0.5").hi), "10.0.0.5");
  EXPECT_EQ(FormatRange(kV4, R("10.0.0.0").lo, R("10.0.0.4").hi), "10.0.0.0-10.0.0.4");
  EXPECT_EQ(FormatRange(kV4, 0, MaxKey(kV4)), "0.0.0.0/0");
  EXPECT_EQ(FormatRange(kV6, R("fd00:99::/64").lo, R("fd00:99::/64").hi), "fd00:99::/64");
  EXPECT_EQ(FormatRange(kV6, 0, MaxKey(kV6)), "::/0");
  EXPECT_EQ(R("fd00:99::/64").hi, R("fd00:99::ffff:ffff:ffff:ffff").lo);
  Key k = 0;
  EXPECT_TRUE(ParseKey(kV6, "fd00:99::2", &k));
  EXPECT_EQ(FormatKey(kV6, k), "fd00:99::2");
  EXPECT_FALSE(ParseKey(kV4, "fd00:99::2", &k));
}

TEST(NftSegments, NestedRangesBecomeDisjointWithTheLatestExpiry) {
  // The /24 lapses at 100, the host inside it at 200: the host keeps its own element.
  EXPECT_EQ(Texts(ComputeSegments({M(1, "10.0.0.0/24", 100), M(2, "10.0.0.5", 200)}, MaxKey(kV4), 0)),
            (Strings{"10.0.0.0-10.0.0.4@100", "10.0.0.5@200", "10.0.0.6-10.0.0.255@100"}));
  // An inner decision that lapses first is covered by the outer one.
  EXPECT_EQ(Texts(ComputeSegments({M(1, "10.0.0.0/24", 200), M(2, "10.0.0.5", 100)}, MaxKey(kV4), 0)),
            (Strings{"10.0.0.0/24@200"}));
  // Expired members are ignored; disjoint ones stay apart.
  EXPECT_EQ(Texts(ComputeSegments({M(1, "10.0.0.0/24", 50), M(2, "10.0.0.5", kNever)}, MaxKey(kV4), 60)),
            (Strings{"10.0.0.5@never"}));
  EXPECT_EQ(Texts(ComputeSegments({M(1, "::/0", 10), M(2, "fd00::1", 20)}, MaxKey(kV6), 0), kV6),
            (Strings{"::-fd00::@10", "fd00::1@20",
                     "fd00::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff@10"}));
}

TEST(NftSegments, AdjacentPiecesWithTheSameExpiryMerge) {
  EXPECT_EQ(Texts(ComputeSegments({M(1, "10.0.0.0/25", 100), M(2, "10.0.0.128/25", 100), M(3, "10.0.0.0/24", 50)},
                                  MaxKey(kV4), 0)),
            (Strings{"10.0.0.0/24@100"}));
}

TEST(NftIntervalSet, OverlappingUpsertReplacesTheClusterSegments) {
  NftIntervalSet set(kV4);
  set.Begin();
  set.Upsert(M(1, "10.0.0.0/24", 100), 0);
  auto d = set.PendingDiff(0);
  EXPECT_TRUE(d.removed.empty());
  EXPECT_EQ(Texts(d.added), (Strings{"10.0.0.0/24@100"}));
  set.Commit();

  set.Begin();
  set.Upsert(M(2, "10.0.0.5", 200), 0);
  d = set.PendingDiff(0);
  EXPECT_EQ(Texts(d.removed), (Strings{"10.0.0.0/24@100"}));
  EXPECT_EQ(Texts(d.added), (Strings{"10.0.0.0-10.0.0.4@100", "10.0.0.5@200", "10.0.0.6-10.0.0.255@100"}));
  set.Commit();

  // Lifting the /24 leaves the host.
  set.Begin();
  EXPECT_TRUE(set.Erase(1, 0));
  d = set.PendingDiff(0);
  EXPECT_EQ(Texts(d.removed), (Strings{"10.0.0.0-10.0.0.4@100", "10.0.0.6-10.0.0.255@100"}));
  EXPECT_TRUE(d.added.empty());
  set.Commit();
  EXPECT_EQ(Texts(set.Segments(0)), (Strings{"10.0.0.5@200"}));
  EXPECT_EQ(set.member_count(), 1u);
}

TEST(NftIntervalSet, LiftingTheWideRangeSplitsTheClusterInTwo) {
  NftIntervalSet set(kV4);
  set.Reset({M(1, "10.0.0.0/16", kNever), M(2, "10.0.1.1", kNever), M(3, "10.0.9.9", kNever)}, 0);
  EXPECT_EQ(Texts(set.Segments(0)), (Strings{"10.0.0.0/16@never"}));
  set.Begin();
  set.Erase(1, 0);
  EXPECT_EQ(Texts(set.PendingDiff(0).added), (Strings{"10.0.1.1@never", "10.0.9.9@never"}));
  set.Commit();
  EXPECT_EQ(set.segment_count(), 2u);
}

TEST(NftIntervalSet, RollbackRestoresTheModelExactly) {
  NftIntervalSet set(kV4);
  set.Reset({M(1, "10.0.0.0/24", 100), M(2, "10.0.1.1", 300)}, 0);
  const auto before = set.Segments(0);
  set.Begin();
  set.Upsert(M(3, "10.0.0.0/23", 500), 0);  // swallows both
  set.Erase(2, 0);
  set.Upsert(M(1, "10.0.7.7", kNever), 0);   // moves decision 1
  set.Rollback();
  EXPECT_EQ(set.Segments(0), before);
  EXPECT_EQ(set.segment_count(), before.size());
  EXPECT_EQ(set.member_count(), 2u);
  EXPECT_FALSE(set.Contains(3));
  // The restored model still diffs correctly.
  set.Begin();
  set.Erase(1, 0);
  EXPECT_EQ(Texts(set.PendingDiff(0).removed), (Strings{"10.0.0.0/24@100"}));
  set.Commit();
}

TEST(NftIntervalSet, ReapplyingWithALaterExpiryReplacesTheElement) {
  NftIntervalSet set(kV4);
  set.Reset({M(1, "10.0.0.1", 100)}, 0);
  set.Begin();
  set.Upsert(M(1, "10.0.0.1", 900), 0);
  const auto d = set.PendingDiff(0);
  EXPECT_EQ(Texts(d.removed), (Strings{"10.0.0.1@100"}));
  EXPECT_EQ(Texts(d.added), (Strings{"10.0.0.1@900"}));
  set.Commit();
  // Unchanged: nothing to do.
  set.Begin();
  set.Upsert(M(1, "10.0.0.1", 900), 0);
  EXPECT_TRUE(set.PendingDiff(0).empty());
  set.Commit();
}

TEST(NftIntervalSet, TheSameHostTwiceIsOneElementWithTheLatestExpiry) {
  NftIntervalSet set(kV4);
  set.Reset({M(1, "10.0.0.1", 100), M(2, "10.0.0.1", 200)}, 0);
  EXPECT_EQ(Texts(set.Segments(0)), (Strings{"10.0.0.1@200"}));
  set.Begin();
  set.Erase(2, 0);
  const auto d = set.PendingDiff(0);
  EXPECT_EQ(Texts(d.removed), (Strings{"10.0.0.1@200"}));
  EXPECT_EQ(Texts(d.added), (Strings{"10.0.0.1@100"}));
  set.Commit();
}

TEST(NftIntervalSet, PurgingExpiredMembersKeepsTheSurvivingSegments) {
  NftIntervalSet set(kV4);
  set.Reset({M(1, "10.0.0.0/24", 100), M(2, "10.0.0.5", 200), M(3, "10.0.3.0/24", 150)}, 0);
  set.PurgeExpired(120);
  EXPECT_EQ(set.member_count(), 2u);
  EXPECT_EQ(Texts(set.Segments(120)), (Strings{"10.0.0.5@200", "10.0.3.0/24@150"}));
  EXPECT_EQ(set.segment_count(), 2u);
  // Erasing after the purge only touches what is left.
  set.Begin();
  EXPECT_FALSE(set.Erase(1, 120));
  EXPECT_TRUE(set.PendingDiff(120).empty());
  set.Commit();
}

}  // namespace
}  // namespace threatd::healing::nft
