// Self-healing routes: policy get/put (validation), mode get/put (dry_run),
// manual decisions (201, whitelist and duplicates refused with 409), listing
// with filters, decisions in force, one with its history, revoke, and an
// automatic decision made from test-stream attacks.
#include <gtest/gtest.h>

#include "api_groups.h"

namespace threatd::testing {

using json = nlohmann::json;

void ExerciseHealing(ApiSession& s) {
  const std::string p = "/api/v1/policy", m = "/api/v1/healing/mode", a = "/api/v1/actions";

  // Policy: the default, then a stricter one; bad policies are 422 naming the field.
  s.ExpectRoles("GET", p, As::kViewer);
  auto policy = s.Get(p);
  ASSERT_EQ(policy.status, 200) << policy.body;
  EXPECT_GE(policy.json()["rules"].size(), 7u);
  s.ExpectRoles("PUT", p, As::kOperator, policy.body);
  json mine = {{"rules",
                {{{"name", "e2e-any-attack"}, {"classes", {"*"}}, {"min_detections", 1}, {"action", "block_ip"},
                  {"durations", {"10m", "1h"}}}}},
               {"protected_networks", {"172.16.0.1"}},
               {"max_blocks_per_minute", 1000}};
  auto put = s.Call("PUT", p, As::kOperator, mine.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json()["rules"][0]["name"], "e2e-any-attack");
  EXPECT_EQ(s.Get(p).json()["protected_networks"], json::array({"172.16.0.1"}));
  auto bad = s.Call("PUT", p, As::kOperator, R"({"rules":[{"name":"x","classes":["BENIGN"],"action":"block_ip","durations":["1h"]}]})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("BENIGN traffic never triggers"), std::string::npos) << bad.body;
  EXPECT_EQ(s.Call("PUT", p, As::kOperator, "{oops").status, 400);

  // Mode.
  s.ExpectRoles("GET", m, As::kViewer);
  s.ExpectRoles("PUT", m, As::kOperator, R"({"mode":"dry_run"})");
  auto mode = s.Get(m);
  ASSERT_EQ(mode.status, 200) << mode.body;
  EXPECT_EQ(mode.json()["mode"], "enforce");
  EXPECT_EQ(mode.json()["backend"], "log");
  EXPECT_EQ(mode.json()["circuit_breaker"]["state"], "closed");
  EXPECT_EQ(s.Call("PUT", m, As::kOperator, R"({"mode":"sometimes"})").status, 422);
  auto dry = s.Call("PUT", m, As::kOperator, R"({"mode":"dry_run"})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.json()["mode"], "dry_run");
  auto simulated = s.Post(a, {{"target", "203.0.113.200"}, {"duration_seconds", 60}});
  ASSERT_EQ(simulated.status, 201) << simulated.body;
  EXPECT_EQ(simulated.json()["mode"], "simulate");
  ASSERT_EQ(s.Call("PUT", m, As::kOperator, R"({"mode":"enforce"})").status, 200);

  // Manual decisions.
  s.ExpectRoles("POST", a, As::kOperator, R"({"target":"203.0.113.1"})");
  auto made = s.Post(a, {{"target", "203.0.113.50"}, {"duration_seconds", 600}, {"reason", "e2e manual block"},
                         {"origin", "manual"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const json d = made.json();
  EXPECT_EQ(d["target"], "203.0.113.50");
  EXPECT_EQ(d["action_type"], "block_ip");
  EXPECT_EQ(d["status"], "applied");
  EXPECT_EQ(d["mode"], "enforce");
  EXPECT_EQ(d["origin"], "manual");
  EXPECT_EQ(d["created_by"], "e2e-operator");
  EXPECT_EQ(d["duration_seconds"], 600);
  EXPECT_EQ(d["in_force"], true);
  EXPECT_GT(d["time_left_seconds"].get<int64_t>(), 590);
  EXPECT_EQ(s.Post(a, {{"target", "203.0.113.50"}}).status, 409);          // already in force
  EXPECT_EQ(s.Post(a, {{"target", "172.16.0.1"}}).status, 409);            // protected
  EXPECT_EQ(s.Post(a, {{"target", "127.0.0.1"}}).status, 409);             // loopback
  EXPECT_EQ(s.Post(a, {{"target", "10.0.0.5/24"}}).status, 422);           // host bits
  EXPECT_EQ(s.Post(a, {{"target", "203.0.113.51"}, {"action_type", "ban"}}).status, 422);
  EXPECT_EQ(s.Post(a, {{"target", "203.0.113.51"}, {"duration_seconds", 0}}).status, 422);
  ASSERT_EQ(s.Post("/api/v1/config/whitelist", {{"ip_address", "203.0.113.64/26"}}).status, 201);
  auto refused = s.Post(a, {{"target", "203.0.113.70"}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("whitelisted"), std::string::npos) << refused.body;

  // Listing, in force, one with its history.
  s.ExpectRoles("GET", a, As::kViewer);
  s.ExpectRoles("GET", a + "/active", As::kViewer);
  auto listed = s.Get(a + "?target=203.0.113.50&mode=enforce");
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json().size(), 1u) << listed.body;
  EXPECT_EQ(s.Get(a + "?limit=0").status, 422);
  EXPECT_EQ(s.Get(a + "?target=nonsense").status, 422);
  auto active = s.Get(a + "/active");
  ASSERT_EQ(active.status, 200);
  bool found = false;
  for (const auto& x : active.json()) found |= x["id"] == d["id"];
  EXPECT_TRUE(found) << active.body;
  const std::string one = a + "/" + std::to_string(d["id"].get<int64_t>());
  s.ExpectRoles("GET", one, As::kViewer);
  auto got = s.Get(one);
  ASSERT_EQ(got.status, 200) << got.body;
  ASSERT_GE(got.json()["history"].size(), 2u) << got.body;
  EXPECT_EQ(got.json()["history"][0]["actor"], "e2e-operator");
  EXPECT_EQ(s.Get(a + "/999999").status, 404);

  // Revoke.
  s.ExpectRoles("DELETE", one, As::kOperator, "");
  auto revoked = s.Delete(one + "?reason=e2e");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.json()["status"], "revoked");
  EXPECT_EQ(revoked.json()["in_force"], false);
  EXPECT_EQ(s.Delete(one).status, 409);
  EXPECT_EQ(s.Delete(a + "/999999").status, 404);

  // Automatic: attacks from the test stream meet the e2e rule (one detection suffices).
  // Only decisions newer than every one so far are this stream's: attack flows
  // of earlier groups may still have been in the pipeline while the mode was
  // dry_run above, and met the rule then (in simulate mode, rightly).
  auto newest = s.Get(a + "?limit=1");
  ASSERT_EQ(newest.status, 200) << newest.body;
  const int64_t before = newest.json().empty() ? 0 : newest.json()[0]["id"].get<int64_t>();
  auto started = s.Post("/api/v1/test/start-stream", {{"count", 30}, {"rate", 300}, {"attack_mix", {{"DDoS", 1.0}}}});
  ASSERT_EQ(started.status, 200) << started.body;
  auto ours = [&] {
    json mine_only = json::array();
    for (const auto& x : s.Get(a + "?origin=automatic&limit=1000").json())
      if (x["rule"] == "e2e-any-attack" && x["id"].get<int64_t>() > before) mine_only.push_back(x);
    return mine_only;
  };
  EXPECT_TRUE(ApiSession::WaitFor([&] { return !ours().empty(); }, std::chrono::seconds(20)))
      << "no automatic decision from 30 DDoS flows";
  for (const auto& x : ours()) {
    EXPECT_FALSE(x["trigger_flow_ids"].empty()) << x.dump();
    EXPECT_EQ(x["mode"], "enforce") << x.dump();
  }
  // The original's routes see the decisions too.
  auto legacy = s.Get("/api/v1/predictions/actions");
  ASSERT_EQ(legacy.status, 200) << legacy.body;
  EXPECT_FALSE(legacy.json().empty());
  // Health reports self-healing.
  auto h = s.Get("/api/v1/health/detailed", As::kAnonymous);
  EXPECT_EQ(h.json()["checks"]["self_healing"]["backend"]["backend"], "log") << h.body;
}

}  // namespace threatd::testing
