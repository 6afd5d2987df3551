#include "healing/nft_ruleset.h"

#include <gtest/gtest.h>

namespace threatd::healing::nft {
namespace {

size_t Count(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(NftRuleset, SetNamesAndIndexesRoundTrip) {
  std::set<std::string> names;
  for (size_t i = 0; i < kSetCount; ++i) {
    EXPECT_EQ(SetIndex(SetAt(i)), i);
    names.insert(SetName(SetAt(i)));
  }
  EXPECT_EQ(names.size(), kSetCount);
  EXPECT_EQ(SetName({SetKind::kBlock, IpNetwork::Family::kV4, true}), "block_hosts_v4");
  EXPECT_EQ(SetName({SetKind::kIsolate, IpNetwork::Family::kV6, false}), "isolate_v6");
  const auto net = IpNetwork::Parse("fd00:99::/64").value();
  EXPECT_EQ(SetName(SetFor(SetKind::kRateLimit, net)), "ratelimit_v6");
  EXPECT_EQ(KindOf(ActionType::kAlertAdmin), std::nullopt);
  EXPECT_EQ(ActionOf(*KindOf(ActionType::kIsolateHost)), ActionType::kIsolateHost);
}

TEST(NftRuleset, OneRulePerSetAndChainAndNoSizeLimitOnElementSets) {
  const std::string t = TableBlock({"threatd", -10, 25}, false, nullptr);
  // Blocked sources: input and forward; isolated hosts also as destination
  // (forward, output); rate-limited sources: input and forward.
  EXPECT_EQ(Count(t, "ip saddr @block_hosts_v4 counter drop"), 2u);
  EXPECT_EQ(Count(t, "ip6 saddr @block_v6 counter drop"), 2u);
  EXPECT_EQ(Count(t, "ip saddr @isolate_v4 counter drop"), 2u);
  EXPECT_EQ(Count(t, "ip daddr @isolate_v4 counter drop"), 2u);
  EXPECT_EQ(Count(t, "ip6 daddr @isolate_hosts_v6 counter drop"), 2u);
  EXPECT_EQ(Count(t, "@ratelimit_hosts_v4 update @ratelimit_meter_v4 { ip saddr limit rate over 25/second }"), 2u);
  EXPECT_EQ(Count(t, "counter drop"), 12u + 16u + 4u);  // input, forward, output
  EXPECT_EQ(Count(t, "hook input priority -10; policy accept;"), 1u);
  EXPECT_EQ(Count(t, "set block_v4 { type ipv4_addr; flags interval, timeout; }"), 1u);
  EXPECT_EQ(Count(t, "set block_hosts_v6 { type ipv6_addr; flags timeout; }"), 1u);
  EXPECT_EQ(Count(t, "size"), 2u);  // the two meters only
  EXPECT_EQ(Count(TableBlock({"threatd", -10, 25}, true, nullptr), "drop"), 0u);
}

TEST(NftRuleset, ElementsCarryTheirRemainingTime) {
  const SetId hosts{SetKind::kBlock, IpNetwork::Family::kV4, true};
  const SetId nets{SetKind::kBlock, IpNetwork::Family::kV4, false};
  const Range r = ToRange(IpNetwork::Parse("10.0.0.0/30").value());
  EXPECT_EQ(ElementText(nets, {r.lo, r.hi, 5000}, 1000), "10.0.0.0/30 timeout 4000ms");
  EXPECT_EQ(ElementText(hosts, {r.lo, r.lo, kNever}, 1000), "10.0.0.0");
  std::array<std::vector<std::string>, kSetCount> elements;
  elements[SetIndex(nets)] = {"10.0.0.0/30 timeout 4000ms", "10.0.1.0-10.0.1.4"};
  EXPECT_EQ(Count(TableBlock({}, false, &elements),
                  "set block_v4 { type ipv4_addr; flags interval, timeout; elements = { 10.0.0.0/30 timeout 4000ms, "
                  "10.0.1.0-10.0.1.4 } }"),
            1u);
  EXPECT_EQ(DeleteElements({}, hosts, {"10.0.0.1", "10.0.0.2"}), "delete element inet threatd block_hosts_v4 { 10.0.0.1, 10.0.0.2 }\n");
}

TEST(NftRuleset, ParsesEveryElementFormOfTheJsonListing) {
  const auto listing = nlohmann::json::parse(R"({"nftables": [
    {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
    {"table": {"family": "inet", "name": "threatd"}},
    {"set": {"family": "inet", "name": "block_v4", "table": "threatd", "type": "ipv4_addr",
             "flags": ["interval", "timeout"],
             "elem": [{"elem": {"val": {"range": ["10.0.0.0", "10.0.0.4"]}, "timeout": 30, "expires": 29}},
                      "10.0.0.5", {"prefix": {"addr": "10.1.0.0", "len": 16}}]}},
    {"set": {"family": "inet", "name": "block_hosts_v6", "table": "threatd", "type": "ipv6_addr",
             "elem": [{"elem": {"val": "fd00:99::2", "timeout": 30, "expires": 29}}]}},
    {"set": {"family": "inet", "name": "ratelimit_meter_v4", "table": "threatd", "type": "ipv4_addr",
             "elem": [{"elem": {"val": "10.9.9.9", "expires": 3}}]}},
    {"set": {"family": "inet", "name": "isolate_v4", "table": "threatd", "type": "ipv4_addr"}}]})");
  auto parsed = ParseListing(listing);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const auto& block_v4 = (*parsed)[SetIndex({SetKind::kBlock, IpNetwork::Family::kV4, false})];
  ASSERT_EQ(block_v4.size(), 3u);
  EXPECT_EQ(FormatRange(IpNetwork::Family::kV4, block_v4[0].lo, block_v4[0].hi), "10.0.0.0-10.0.0.4");
  EXPECT_EQ(FormatRange(IpNetwork::Family::kV4, block_v4[1].lo, block_v4[1].hi), "10.0.0.5");
  EXPECT_EQ(FormatRange(IpNetwork::Family::kV4, block_v4[2].lo, block_v4[2].hi), "10.1.0.0/16");
  const auto& hosts_v6 = (*parsed)[SetIndex({SetKind::kBlock, IpNetwork::Family::kV6, true})];
  ASSERT_EQ(hosts_v6.size(), 1u);
  EXPECT_EQ(FormatKey(IpNetwork::Family::kV6, hosts_v6[0].lo), "fd00:99::2");
  size_t total = 0;
  for (const auto& s : *parsed) total += s.size();
  EXPECT_EQ(total, 4u);  // the meter is not an element set

  auto bad = ParseListing(nlohmann::json::parse(
      R"({"nftables": [{"set": {"name": "block_v4", "elem": [{"concat": ["10.0.0.1", 80]}]}}]})"));
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(ParseListing(nlohmann::json::parse("[]")).ok());
}

}  // namespace
}  // namespace threatd::healing::nft
