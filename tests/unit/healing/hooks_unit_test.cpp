// Unit tests (no I/O) for the pieces the script and webhook backends share:
// the webhook URL parser, the hook event payload, the action list, the
// AcceptedDecisions bookkeeping, and the log backend.
#include <gtest/gtest.h>

#include "healing/hook_event.h"
#include "healing/log_backend.h"
#include "healing/webhook_url.h"

namespace threatd::healing {
namespace {

Enforcement Bare(int64_t id, const std::string& target, ActionType action) {
  Enforcement e;
  e.decision_id = id;
  e.target = *IpNetwork::Parse(target);
  e.action = action;
  return e;
}

TEST(WebhookUrlTest, ParsesSchemesHostsPortsAndTargets) {
  auto u = ParseWebhookUrl("https://Hooks.Example.com/threatd?team=soc");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/threatd?team=soc");
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->HostHeader(), "hooks.example.com");
  EXPECT_EQ(u->Redacted(), "https://hooks.example.com:443");

  u = ParseWebhookUrl("HTTP://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:8080");

  u = ParseWebhookUrl("https://[2001:DB8::1]:8443?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->target, "/?x=1");
  EXPECT_EQ(u->HostHeader(), "[2001:db8::1]:8443");
  EXPECT_EQ(u->Redacted(), "https://[2001:db8::1]:8443");

  u = ParseWebhookUrl("http://localhost:80/a/b");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->HostHeader(), "localhost");  // the default port is not repeated
}

TEST(WebhookUrlTest, RejectsWhatCannotBeSentSafely) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "no URL configured"},
      {"hooks.example.com/x", "has no scheme"},
      {"ftp://example.com", "scheme 'ftp' is not supported"},
      {"https://user:pw@example.com/", "credentials in the URL"},
      {"https://example.com/x#frag", "fragments"},
      {"https://exa mple.com/", "whitespace"},
      {"https://example.com:0/", "port '0'"},
      {"https://example.com:65536/", "port '65536'"},
      {"https://example.com:/", "port ''"},
      {"https://[::1]:/", "port ''"},
      {"https://[::1/", "unterminated '['"},
      {"https://[example.com]/", "is not an IPv6 address"},
      {"https:///path", "no host"},
      {"https://exa%mple.com/", "is not a valid host"},
  };
  for (const auto& [text, why] : cases) {
    const auto u = ParseWebhookUrl(text);
    ASSERT_FALSE(u.ok()) << text;
    EXPECT_EQ(u.status().code(), ErrorCode::kValidation) << text;
    EXPECT_NE(u.status().message().find(why), std::string::npos) << text << ": " << u.status().message();
    EXPECT_FALSE(u.status().hint().empty()) << text;
  }
}

TEST(HookEventTest, SendsTheDecisionsAsTheApiShowsThem) {
  Enforcement e = Bare(7, "203.0.113.7", ActionType::kBlockIp);
  e.decision = {{"id", 7}, {"target", "203.0.113.7"}, {"rule", "ddos"}};

  EXPECT_EQ(HookPayload(HookEvent::kRemove, {e}),
            (nlohmann::json{{"event", "remove"}, {"decisions", {{{"id", 7}, {"target", "203.0.113.7"}, {"rule", "ddos"}}}}}));
  EXPECT_EQ(HookPayload(HookEvent::kReconcile, {}),
            (nlohmann::json{{"event", "reconcile"}, {"decisions", nlohmann::json::array()}}));
}

TEST(HookEventTest, AnItemWithoutItsDecisionIsSentWithItsFields) {
  Enforcement e = Bare(9, "198.51.100.0/24", ActionType::kRateLimit);
  e.rate_per_second = 50;
  e.expires_at = Clock::WallTime(std::chrono::seconds(1798761600));
  Enforcement forever = Bare(10, "2001:db8::1", ActionType::kAlertAdmin);

  const nlohmann::json p = HookPayload(HookEvent::kApply, {e, forever});

  EXPECT_EQ(p["event"], "apply");
  EXPECT_EQ(p["decisions"][0], (nlohmann::json{{"id", 9},
                                               {"target", "198.51.100.0/24"},
                                               {"action_type", "rate_limit"},
                                               {"expires_at", "2027-01-01T00:00:00.000Z"},
                                               {"rate_per_second", 50}}));
  EXPECT_TRUE(p["decisions"][1]["expires_at"].is_null());
  EXPECT_EQ(p["decisions"][1]["action_type"], "alert_admin");
}

TEST(HookEventTest, InvalidUtf8InADecisionIsReplacedNotFatal) {
  Enforcement e = Bare(3, "192.0.2.3", ActionType::kBlockIp);
  e.decision = {{"id", 3}, {"action_description", std::string("bad \xff byte")}};

  const std::string text = HookPayloadText(HookEvent::kApply, {e});

  EXPECT_EQ(nlohmann::json::parse(text)["decisions"][0]["action_description"], "bad \xef\xbf\xbd byte");
}

TEST(HookEventTest, ParsesActionListsStrictly) {
  auto a = ParseActionTypes({"block_ip", "alert_admin"});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<ActionType>{ActionType::kBlockIp, ActionType::kAlertAdmin}));
  EXPECT_EQ(AllActionTypes().size(), 6u);

  a = ParseActionTypes({"block_ip", "drop"});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "unknown action 'drop'");
  EXPECT_NE(a.status().hint().find("rate_limit"), std::string::npos);
}

TEST(AcceptedDecisionsTest, FollowsReconcileApplyAndRemove) {
  AcceptedDecisions accepted;
  EXPECT_TRUE(accepted.empty());
  accepted.Reset({Bare(1, "192.0.2.1", ActionType::kBlockIp), Bare(2, "192.0.2.2", ActionType::kBlockIp)});
  accepted.Add({Bare(3, "192.0.2.3", ActionType::kBlockIp), Bare(2, "192.0.2.22", ActionType::kBlockIp)});
  accepted.Remove({Bare(1, "192.0.2.1", ActionType::kBlockIp), Bare(99, "192.0.2.99", ActionType::kBlockIp)});

  const auto all = accepted.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].decision_id, 2);
  EXPECT_EQ(all[0].target.ToString(), "192.0.2.22");  // the latest version of decision 2
  EXPECT_EQ(all[1].decision_id, 3);

  accepted.Reset({});
  EXPECT_TRUE(accepted.empty());
}

TEST(LogBackendTest, EnforcesNothingAndCountsWhatItLogged) {
  LogBackend backend;
  EXPECT_EQ(backend.Name(), "log");
  for (ActionType a : AllActionTypes()) EXPECT_FALSE(backend.Supports(a)) << ToString(a);
  ASSERT_TRUE(backend.Start().ok());

  std::vector<std::pair<int64_t, std::string>> failed;
  Enforcement e = Bare(1, "203.0.113.1", ActionType::kBlockIp);
  e.expires_at = Clock::WallTime(std::chrono::seconds(1798761600));
  ASSERT_TRUE(backend.Apply({e, Bare(2, "203.0.113.2", ActionType::kLogOnly)}, &failed).ok());
  EXPECT_TRUE(failed.empty());
  ASSERT_TRUE(backend.Remove({e}).ok());
  ASSERT_TRUE(backend.Reconcile({e}).ok());
  auto drift = backend.Measure({e});
  ASSERT_TRUE(drift.ok());
  EXPECT_TRUE(drift->empty());
  ASSERT_TRUE(backend.Shutdown(true).ok());

  EXPECT_EQ(backend.Health(), (nlohmann::json{{"backend", "log"},
                                              {"status", "ok"},
                                              {"applied", 2},
                                              {"removed", 1},
                                              {"reconciles", 1}}));
}

}  // namespace
}  // namespace threatd::healing
