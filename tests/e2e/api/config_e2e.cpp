// Whitelist CRUD (IPv4, IPv6, CIDR; 422 / 409 / 404) and data sources
// (list, get, PATCH visible in /health/detailed within one second; a
// disabled internal_kafka refuses and stops the test stream).
#include <gtest/gtest.h>

#include "api_groups.h"

namespace threatd::testing {
namespace {

using json = nlohmann::json;

bool SourceEnabledInHealth(ApiSession& s, const std::string& name, bool want) {
  auto h = s.Get("/api/v1/health/detailed", As::kAnonymous);
  const json src = h.json()["checks"]["sources"]["sources"];
  return src.contains(name) && src[name]["enabled"] == want;
}

}  // namespace

void ExerciseConfig(ApiSession& s) {
  const std::string w = "/api/v1/config/whitelist";
  s.ExpectRoles("POST", w, As::kOperator, R"({"ip_address":"192.0.2.1"})");
  auto v4 = s.Post(w, {{"ip_address", "192.0.2.10"}, {"description", "e2e v4"}});
  ASSERT_EQ(v4.status, 201) << v4.body;
  EXPECT_EQ(v4.json()["ip_address"], "192.0.2.10");
  EXPECT_EQ(v4.json()["created_by"], "e2e-operator");
  EXPECT_EQ(v4.json()["is_active"], true);
  auto v6 = s.Post(w, {{"ip_address", "2001:DB8::A"}, {"is_active", false}});
  ASSERT_EQ(v6.status, 201) << v6.body;
  EXPECT_EQ(v6.json()["ip_address"], "2001:db8::a");
  EXPECT_EQ(v6.json()["is_active"], false);
  auto cidr = s.Post(w, {{"ip_address", "198.51.100.0/24"}});
  ASSERT_EQ(cidr.status, 201) << cidr.body;
  EXPECT_EQ(cidr.json()["ip_address"], "198.51.100.0/24");
  auto single = s.Post(w, {{"ip_address", "203.0.113.9/32"}});
  ASSERT_EQ(single.status, 201) << single.body;
  EXPECT_EQ(single.json()["ip_address"], "203.0.113.9");

  EXPECT_EQ(s.Post(w, {{"ip_address", "192.0.2.10"}}).status, 409);   // duplicate
  EXPECT_EQ(s.Post(w, {{"ip_address", "2001:db8::a"}}).status, 409);  // duplicate after canonicalisation
  EXPECT_EQ(s.Post(w, {{"ip_address", "10.0.0.5/24"}}).status, 422);  // host bits set
  EXPECT_EQ(s.Post(w, {{"ip_address", "300.1.1.1"}}).status, 422);
  EXPECT_EQ(s.Post(w, {{"ip_address", "not-an-ip"}}).status, 422);
  EXPECT_EQ(s.Post(w, json::object()).status, 422);
  EXPECT_EQ(s.Call("POST", w, As::kOperator, "{oops").status, 400);
  EXPECT_EQ(s.Call("POST", w, As::kOperator, R"({"ip_address":"192.0.2.77"})", "text/plain").status, 415);

  auto list = s.Get(w + "?limit=1000");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json().size(), 4u) << list.body;
  auto active = s.Get(w + "?active_only=true&limit=1000");
  EXPECT_EQ(active.json().size(), 3u) << active.body;
  EXPECT_EQ(s.Get(w + "?limit=2").json().size(), 2u);
  EXPECT_EQ(s.Get(w + "?limit=5000").status, 422);
  s.ExpectRoles("GET", w, As::kViewer);

  const std::string id = std::to_string(v4.json()["id"].get<int64_t>());
  auto got = s.Get(w + "/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json()["ip_address"], "192.0.2.10");
  s.ExpectRoles("GET", w + "/" + id, As::kViewer);
  s.ExpectRoles("PATCH", w + "/" + id, As::kOperator, R"({"is_active":false})");
  auto patched = s.Patch(w + "/" + id, {{"is_active", false}, {"description", "off"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["is_active"], false);
  EXPECT_EQ(patched.json()["description"], "off");
  EXPECT_EQ(patched.json()["ip_address"], "192.0.2.10");
  EXPECT_EQ(s.Patch(w + "/" + id, {{"is_active", "no"}}).status, 422);
  EXPECT_EQ(s.Patch(w + "/999999", {{"is_active", true}}).status, 404);
  EXPECT_EQ(s.Get(w + "/999999").status, 404);
  EXPECT_EQ(s.Get(w + "/abc").status, 422);
  s.ExpectRoles("DELETE", w + "/" + id, As::kOperator);
  EXPECT_EQ(s.Delete(w + "/" + id).status, 200);
  EXPECT_EQ(s.Get(w + "/" + id).status, 404);
  EXPECT_EQ(s.Delete(w + "/" + id).status, 404);

  // Sources.
  const std::string src = "/api/v1/config/sources";
  auto sources = s.Get(src);
  ASSERT_EQ(sources.status, 200) << sources.body;
  std::vector<std::string> names;
  for (const auto& e : sources.json()) names.push_back(e["source_name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"external_kafka", "internal_kafka", "packet_capture"}));
  s.ExpectRoles("GET", src, As::kViewer);
  auto internal = s.Get(src + "/internal_kafka");
  ASSERT_EQ(internal.status, 200);
  EXPECT_EQ(internal.json()["is_enabled"], true);
  EXPECT_EQ(s.Get(src + "/no_such_source").status, 404);
  s.ExpectRoles("GET", src + "/internal_kafka", As::kViewer);
  s.ExpectRoles("PATCH", src + "/internal_kafka", As::kOperator, R"({"is_enabled":false})");
  EXPECT_EQ(s.Patch(src + "/internal_kafka", {{"is_enabled", "off"}}).status, 422);
  EXPECT_EQ(s.Patch(src + "/no_such_source", {{"is_enabled", false}}).status, 404);

  // A running stream stops within a second of disabling internal_kafka, and
  // cannot be started again while it is disabled.
  auto started = s.Post("/api/v1/test/start-stream", {{"count", 0}, {"rate", 50}});
  ASSERT_EQ(started.status, 200) << started.body;
  auto off = s.Patch(src + "/internal_kafka", {{"is_enabled", false}});
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.json()["is_enabled"], false);
  EXPECT_TRUE(ApiSession::WaitFor([&] { return SourceEnabledInHealth(s, "internal_kafka", false); },
                                  std::chrono::seconds(1)))
      << "the PATCH does not show in /api/v1/health/detailed within one second";
  EXPECT_TRUE(ApiSession::WaitFor([&] { return s.Get("/api/v1/test/status").json()["running"] == false; },
                                  std::chrono::seconds(1)))
      << "disabling internal_kafka did not stop the test stream within one second";
  auto refused = s.Post("/api/v1/test/start-stream", {{"count", 5}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("internal_kafka"), std::string::npos) << refused.body;
  auto on = s.Patch(src + "/internal_kafka", {{"is_enabled", true}, {"config_params", {{"topic", "network-traffic"}}}});
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(on.json()["config_params"]["topic"], "network-traffic");
  EXPECT_TRUE(ApiSession::WaitFor([&] { return SourceEnabledInHealth(s, "internal_kafka", true); },
                                  std::chrono::seconds(1)));
}

}  // namespace threatd::testing
