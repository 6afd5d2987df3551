// The self-healing policy: parsing and validation, thresholds over sliding
// windows, whom each rule acts on, IPv6 aggregation, BENIGN never acting.
#include "healing/policy.h"

#include <gtest/gtest.h>

namespace threatd::healing {
namespace {

using std::chrono::seconds;
using nlohmann::json;

const Clock::WallTime kT0 = Clock::WallTime(std::chrono::hours(24 * 365 * 56));

Detection Det(std::string cls, std::string src, std::string dst, Clock::WallTime at, int64_t id = 1,
              double conf = 0.99) {
  Detection d;
  d.attack_class = std::move(cls);
  d.src_ip = std::move(src);
  d.dst_ip = std::move(dst);
  d.at = at;
  d.traffic_data_id = id;
  d.confidence = conf;
  d.model_version = "m1";
  return d;
}

PolicyConfig OneRule(const json& rule) {
  auto p = ParsePolicy(json{{"rules", json::array({rule})}});
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : PolicyConfig{};
}

TEST(PolicyParse, DefaultPolicyRoundTripsThroughJson) {
  const json j = PolicyToJson(DefaultPolicy());
  auto back = ParsePolicy(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(PolicyToJson(*back), j);
  EXPECT_GE(j["rules"].size(), 7u);
  EXPECT_EQ(j["ipv6_prefix"], 64);
}

TEST(PolicyParse, ErrorsNameTheFieldAndWhatToDo) {
  auto expect_error = [](const json& body, const std::string& contains) {
    auto p = ParsePolicy(body);
    ASSERT_FALSE(p.ok()) << body.dump();
    EXPECT_EQ(p.status().code(), ErrorCode::kValidation);
    EXPECT_NE(p.status().message().find(contains), std::string::npos) << p.status().message();
  };
  const json ok_rule = {{"name", "r"}, {"classes", {"DDoS"}}, {"action", "block_ip"}, {"durations", {"10m"}}};
  auto with = [&](const std::string& k, const json& v) {
    json r = ok_rule;
    r[k] = v;
    return json{{"rules", {r}}};
  };
  expect_error(with("classes", {"benign"}), "rules[0].classes[0]: BENIGN traffic never triggers an action");
  expect_error(with("action", "ban"), "rules[0].action: required, one of block_ip");
  expect_error(with("durations", {"ten minutes"}), "rules[0].durations[0]: '\"ten minutes\"' is not a duration");
  expect_error(with("durations", json::array()), "rules[0].durations: required, the escalation ladder");
  expect_error(with("target", "victim"), "rules[0].target: one of source, destination, internal, external");
  expect_error(with("min_confidence", 1.5), "rules[0].min_confidence: a number from 0 to 1");
  expect_error(with("colour", "red"), "rules[0]: unknown field 'colour'");
  expect_error(json{{"rules", {ok_rule, ok_rule}}}, "rules[1].name: 'r' is used twice");
  expect_error(json{{"rules", json::array()}, {"protected_networks", {"10.0.0.5/24"}}}, "protected_networks[0]");
  expect_error(json{{"rules", json::array()}, {"ipv6_prefix", 8}}, "ipv6_prefix: an integer from 16 to 128");
  expect_error(json::array(), "policy: expected a JSON object");
}

TEST(PolicyEngine, FiresOnlyWhenTheThresholdIsReachedWithinTheWindow) {
  PolicyEngine e(OneRule({{"name", "dos"}, {"classes", {"DoS*"}}, {"min_detections", 3}, {"window", "10s"},
                          {"action", "block_ip"}, {"durations", {"10m"}}}));
  // Spaced wider than the window: never three within 10 s.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(e.Observe(Det("DoS Hulk", "203.0.113.7", "10.0.0.1", kT0 + seconds(11 * i))).empty());
  const auto t = kT0 + seconds(100);
  EXPECT_TRUE(e.Observe(Det("DoS Hulk", "203.0.113.7", "10.0.0.1", t, 11)).empty());
  EXPECT_TRUE(e.Observe(Det("dos slowloris", "203.0.113.7", "10.0.0.1", t + seconds(4), 12)).empty());
  auto p = e.Observe(Det("DoS Hulk", "203.0.113.7", "10.0.0.1", t + seconds(9), 13, 0.95));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].action, ActionType::kBlockIp);
  EXPECT_EQ(p[0].target->ToString(), "203.0.113.7");
  EXPECT_EQ(p[0].detections, 3);
  EXPECT_EQ(p[0].flows, (std::vector<int64_t>{11, 12, 13}));
  EXPECT_DOUBLE_EQ(p[0].confidence, 0.99);
  EXPECT_EQ(p[0].rule->name, "dos");
  // Firing starts a new count: the next decision needs three more.
  EXPECT_TRUE(e.Observe(Det("DoS Hulk", "203.0.113.7", "10.0.0.1", t + seconds(9), 14)).empty());
  // Another source has a window of its own.
  EXPECT_TRUE(e.Observe(Det("DoS Hulk", "203.0.113.8", "10.0.0.1", t + seconds(9), 15)).empty());
}

TEST(PolicyEngine, ConfidenceBelowTheRuleIsIgnored) {
  PolicyEngine e(OneRule({{"name", "r"}, {"classes", {"*"}}, {"min_confidence", 0.9}, {"action", "block_ip"},
                          {"durations", {"1h"}}}));
  EXPECT_TRUE(e.Observe(Det("PortScan", "198.51.100.1", "10.0.0.1", kT0, 1, 0.89)).empty());
  EXPECT_EQ(e.Observe(Det("PortScan", "198.51.100.1", "10.0.0.1", kT0, 2, 0.9)).size(), 1u);
}

TEST(PolicyEngine, BenignNeverActsEvenUnderACatchAllRule) {
  PolicyEngine e(OneRule({{"name", "all"}, {"classes", {"*"}}, {"action", "block_ip"}, {"durations", {"1h"}}}));
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(e.Observe(Det(i % 2 ? "BENIGN" : "benign", "198.51.100.1", "10.0.0.1", kT0)).empty());
}

TEST(PolicyEngine, BotnetIsolatesTheInternalHostAndBlocksTheExternalPeer) {
  PolicyEngine e(DefaultPolicy());
  std::vector<Proposal> all;
  for (int i = 0; i < 3; ++i) {
    auto p = e.Observe(Det("Botnet", "192.168.10.15", "205.174.165.73", kT0 + seconds(i), i));
    all.insert(all.end(), p.begin(), p.end());
  }
  ASSERT_EQ(all.size(), 2u);
  std::map<ActionType, std::string> by_action;
  for (const auto& p : all) by_action[p.action] = p.target->ToString();
  EXPECT_EQ(by_action[ActionType::kIsolateHost], "192.168.10.15");
  EXPECT_EQ(by_action[ActionType::kBlockIp], "205.174.165.73");
}

TEST(PolicyEngine, ExternalRuleWithBothEndpointsInternalDoesNothing) {
  PolicyEngine e(OneRule({{"name", "c2"}, {"classes", {"Bot*"}}, {"action", "block_ip"}, {"target", "external"},
                          {"durations", {"1h"}}}));
  EXPECT_TRUE(e.Observe(Det("Bot", "192.168.10.15", "192.168.10.3", kT0)).empty());
}

TEST(PolicyEngine, FlowsWithoutAddressesRaiseAlertsNotBlocks) {
  PolicyEngine e(OneRule({{"name", "r"}, {"classes", {"DDoS"}}, {"action", "block_ip"}, {"durations", {"1h"}}}));
  auto p = e.Observe(Det("DDoS", "", "", kT0));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].action, ActionType::kAlertAdmin);
  EXPECT_FALSE(p[0].target.has_value());
  // An unparsable address counts as none.
  p = e.Observe(Det("DDoS", "not-an-ip", "", kT0 + seconds(1)));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].action, ActionType::kAlertAdmin);
}

TEST(PolicyEngine, Ipv6SourcesAggregateToThePolicyPrefix) {
  auto cfg = OneRule({{"name", "r"}, {"classes", {"DDoS"}}, {"min_detections", 2}, {"action", "block_ip"},
                      {"durations", {"1h"}}});
  PolicyEngine e(cfg);
  // Two addresses of one /64 count towards one window.
  EXPECT_TRUE(e.Observe(Det("DDoS", "2001:db8:1:2::1", "10.0.0.1", kT0)).empty());
  auto p = e.Observe(Det("DDoS", "2001:db8:1:2:ffff::9", "10.0.0.1", kT0));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].target->ToString(), "2001:db8:1:2::/64");
}

TEST(PolicyEngine, PruneDropsIdleWindows) {
  PolicyEngine e(OneRule({{"name", "r"}, {"classes", {"DDoS"}}, {"min_detections", 5}, {"window", "10s"},
                          {"action", "block_ip"}, {"durations", {"1h"}}}));
  for (int i = 0; i < 50; ++i) e.Observe(Det("DDoS", "198.51.100." + std::to_string(i), "10.0.0.1", kT0));
  EXPECT_EQ(e.tracked(), 50u);
  e.Prune(kT0 + seconds(5));
  EXPECT_EQ(e.tracked(), 50u);
  e.Prune(kT0 + seconds(10));
  EXPECT_EQ(e.tracked(), 0u);
}

TEST(ClassMatches, CaseInsensitiveWithPrefixAndWildcard) {
  EXPECT_TRUE(ClassMatches("PortScan", "Portscan"));
  EXPECT_TRUE(ClassMatches("Web Attack*", "Web Attack - XSS"));
  EXPECT_TRUE(ClassMatches("*", "anything"));
  EXPECT_FALSE(ClassMatches("DoS*", "DDoS"));
  EXPECT_FALSE(ClassMatches("Bot", "Botnet"));
  EXPECT_TRUE(ClassMatches("Bot*", "Botnet"));
}

}  // namespace
}  // namespace threatd::healing
