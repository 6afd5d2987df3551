// End-to-end: the real `threatd` binary over HTTP and WebSocket.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "support/http_client.h"
#include "support/ws_client.h"
#include "threatd_process.h"

namespace threatd::testing {
namespace {

using namespace std::chrono_literals;

class ServiceE2E : public ::testing::Test {
 protected:
  void StartService() {
    std::string error;
    ASSERT_TRUE(proc_.Start(&error)) << error;
    ASSERT_FALSE(proc_.admin_key().empty()) << "first start must print an admin key:\n" << proc_.stdout_text();
  }
  HttpClient Client() { return HttpClient("127.0.0.1", proc_.port()); }
  Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

  // Creates a key with the admin key and returns its plaintext.
  std::string CreateKey(const std::string& role) {
    auto c = Client();
    auto r = c.Request("POST", "/api/v1/keys", nlohmann::json{{"name", role + "-key"}, {"role", role}}.dump(),
                       {{"Authorization", "Bearer " + proc_.admin_key()}, {"Content-Type", "application/json"}});
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 201) << r->body;
    return r->json().value("key", "");
  }

  static void ExpectErrorShape(const TestResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_TRUE(j.contains("detail") && j["detail"].is_string()) << r.body;
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_FALSE(r.Header("X-Request-Id").empty());
  }

  ThreatdProcess proc_;
};

TEST_F(ServiceE2E, AnswersHealthWithinOneSecondOfStart) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  EXPECT_LT(proc_.startup_time(), 1000ms) << "from exec to listening";
  auto c = Client();
  auto r = c.Request("GET", "/health");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json(), nlohmann::json({{"status", "healthy"}}));
  EXPECT_EQ(r->Header("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(r->Header("X-Request-Id").empty());
  // The request id sent by a client is echoed back.
  auto r2 = c.Request("GET", "/", {}, {{"X-Request-Id", "trace-abc-123"}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->Header("X-Request-Id"), "trace-abc-123");
  EXPECT_EQ(r2->json()["message"], "AI Threat Detection System API");
  EXPECT_EQ(c.connects(), 1) << "keep-alive: both requests on one connection";
}

TEST_F(ServiceE2E, DetailedHealthChecksEveryPartAndSaysDisabledForUnbuiltOnes) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto c = Client();
  // The models load in the background after the server listens.
  Result<TestResponse> r = Status::Internal("not requested");
  for (int i = 0; i < 200; ++i) {
    r = c.Request("GET", "/api/v1/health/detailed");
    ASSERT_TRUE(r.ok());
    if (!r->json()["checks"]["models"].value("loading", false)) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(r->status, 200) << r->body;
  auto j = r->json();
  EXPECT_EQ(j["status"], "healthy") << r->body;
  EXPECT_TRUE(std::regex_match(j["timestamp"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(j["checks"]["database"]["status"], "ok");
  EXPECT_EQ(j["checks"]["database"]["dialect"], "sqlite");
  EXPECT_TRUE(j["checks"]["database"]["latency_ms"].is_number());
  EXPECT_EQ(j["checks"]["kafka"]["status"], "disabled");
  EXPECT_EQ(j["checks"]["consumers"]["status"], "disabled");
  // The shipped default models are registered and active on the first start.
  EXPECT_EQ(j["checks"]["models"]["status"], "ok") << r->body;
  EXPECT_EQ(j["checks"]["models"]["threat_detector"]["loaded"], true);
  EXPECT_EQ(j["checks"]["models"]["threat_detector"]["is_real"], true);
  EXPECT_EQ(j["checks"]["models"]["attack_classifier"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["checks"]["pipeline"]["status"], "ok");
  EXPECT_EQ(j["checks"]["pipeline"]["queue_depth"], 0);
  EXPECT_EQ(j["checks"]["sources"]["sources"]["internal_kafka"]["enabled"], true);
  EXPECT_EQ(j["checks"]["websocket"]["status"], "ok");
}

TEST_F(ServiceE2E, RolesGateRoutes) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto c = Client();
  // No key -> 401 with a hint; unknown key -> 401.
  auto r = c.Request("GET", "/api/v1/keys");
  ASSERT_TRUE(r.ok());
  ExpectErrorShape(*r, 401, "unauthenticated");
  r = c.Request("GET", "/api/v1/keys", {}, Bearer("tdk_AAAAAAAAAAAA_" + std::string(32, 'B')));
  ExpectErrorShape(*r, 401, "unauthenticated");

  const std::string viewer = CreateKey("viewer");
  const std::string op = CreateKey("operator");
  ASSERT_FALSE(viewer.empty());
  r = c.Request("GET", "/api/v1/auth/me", {}, Bearer(viewer));
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json()["role"], "viewer");
  r = c.Request("GET", "/api/v1/keys", {}, Bearer(viewer));
  ExpectErrorShape(*r, 403, "permission_denied");
  r = c.Request("GET", "/api/v1/keys", {}, Bearer(op));
  ExpectErrorShape(*r, 403, "permission_denied");
  r = c.Request("GET", "/api/v1/keys", {}, Bearer(proc_.admin_key()));
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json()["total_count"], 3);
  // Keys are never listed with their secrets.
  EXPECT_EQ(r->body.find(viewer.substr(17)), std::string::npos);

  // Revoking works at once, and is audited.
  const auto keys = r->json()["keys"];
  int64_t viewer_id = 0;
  for (const auto& k : keys)
    if (k["name"] == "viewer-key") viewer_id = k["id"];
  r = c.Request("DELETE", "/api/v1/keys/" + std::to_string(viewer_id), {}, Bearer(proc_.admin_key()));
  EXPECT_EQ(r->status, 200) << r->body;
  r = c.Request("GET", "/api/v1/auth/me", {}, Bearer(viewer));
  ExpectErrorShape(*r, 401, "unauthenticated");
  r = c.Request("GET", "/api/v1/audit", {}, Bearer(proc_.admin_key()));
  ASSERT_EQ(r->status, 200);
  const auto entries = r->json()["entries"];
  ASSERT_GE(entries.size(), 3u);
  EXPECT_EQ(entries[0]["action"], "api_key.revoke");
  EXPECT_EQ(entries[0]["actor"], "bootstrap-admin");
  EXPECT_FALSE(entries[0]["request_id"].get<std::string>().empty());
}

TEST_F(ServiceE2E, BadInputGetsJsonErrorsNeverA500) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto c = Client();
  auto r = c.Request("GET", "/no/such/route");
  ExpectErrorShape(*r, 404, "not_found");
  r = c.Request("DELETE", "/health");
  ExpectErrorShape(*r, 405, "method_not_allowed");
  const auto admin = Bearer(proc_.admin_key());
  Headers json_admin = admin;
  json_admin.emplace_back("Content-Type", "application/json");
  r = c.Request("POST", "/api/v1/keys", "{not json", json_admin);
  ExpectErrorShape(*r, 400, "invalid_argument");
  r = c.Request("POST", "/api/v1/keys", R"({"name": "x", "role": "god"})", json_admin);
  ExpectErrorShape(*r, 422, "validation_error");
  r = c.Request("DELETE", "/api/v1/keys/abc", {}, admin);
  ExpectErrorShape(*r, 422, "validation_error");
  r = c.Request("DELETE", "/api/v1/keys/999", {}, admin);
  ExpectErrorShape(*r, 404, "not_found");
  r = c.Request("GET", "/api/v1/audit?limit=0", {}, admin);
  ExpectErrorShape(*r, 422, "validation_error");
  // Oversized body: 413 before the body is read.
  auto big = HttpClient("127.0.0.1", proc_.port());
  r = big.Request("POST", "/api/v1/keys", std::string(2 << 20, 'x'), json_admin);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectErrorShape(*r, 413, "payload_too_large");
}

TEST_F(ServiceE2E, MetricsCountRequestsByRouteAndStatus) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto c = Client();
  ASSERT_EQ(c.Request("GET", "/health")->status, 200);
  ASSERT_EQ(c.Request("GET", "/nope")->status, 404);
  auto r = c.Request("GET", "/metrics");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(R"(http_requests_total{route="/health",method="GET",status="200"} 1)"), std::string::npos)
      << r->body.substr(0, 3000);
  EXPECT_NE(r->body.find("http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(r->body.find("threatd_build_info{"), std::string::npos);
}

TEST_F(ServiceE2E, CorsOnlyForConfiguredOrigins) {
  proc_.SetEnv("BACKEND_CORS_ORIGINS", "http://console.example");
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto c = Client();
  auto r = c.Request("OPTIONS", "/api/v1/keys", {},
                     {{"Origin", "http://console.example"}, {"Access-Control-Request-Method", "GET"},
                      {"Access-Control-Request-Headers", "authorization"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "http://console.example");
  r = c.Request("GET", "/health", {}, {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->HasHeader("Access-Control-Allow-Origin"));
}

TEST_F(ServiceE2E, ApiDocsAreServedLocallyAndTheDocumentValidates) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto c = Client();
  auto r = c.Request("GET", "/docs");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("swagger-ui-bundle.js"), std::string::npos);
  EXPECT_EQ(r->body.find("http"), r->body.find("http-equiv"));  // no external URL at all
  r = c.Request("GET", "/docs/swagger-ui-bundle.js");
  EXPECT_EQ(r->status, 200);
  EXPECT_GT(r->body.size(), 100'000u);

  r = c.Request("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->json()["openapi"], "3.1.0");
  // Validate with an OpenAPI 3.1 schema validator from npm.
  const std::string doc = proc_.data_dir() + "/openapi.json";
  std::ofstream(doc) << r->body;
  const std::string validator = ThreatdProcess::SourceDir() + "/web/node_modules/.bin/validate-api";
  ASSERT_TRUE(std::filesystem::exists(validator)) << "run `make setup` (npm ci in web/)";
  const std::string cmd = validator + " " + doc + " > " + doc + ".out 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream out(doc + ".out");
  std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << text;
}

TEST_F(ServiceE2E, WebSocketRealtimeNeedsAKeyAndAnswersPing) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  // A wrong key is refused at the upgrade; without a key the client may
  // connect (to authenticate by its first message) but gets nothing else.
  WsClient bad;
  EXPECT_FALSE(bad.Connect("127.0.0.1", proc_.port(), "/ws/realtime?api_key=tdk_AAAAAAAAAAAA_" + std::string(32, 'B')).ok());
  WsClient anon;
  ASSERT_TRUE(anon.Connect("127.0.0.1", proc_.port(), "/ws/realtime").ok());
  ASSERT_TRUE(anon.Send(R"({"type":"request_stats"})").ok());
  auto refused = anon.Receive(5s);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(*refused)["type"], "error") << *refused;

  WsClient ws;
  ASSERT_TRUE(ws.Connect("127.0.0.1", proc_.port(), "/ws/realtime?api_key=" + proc_.admin_key()).ok());
  auto hello = ws.Receive(5s);
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(*hello)["type"], "connected");
  ASSERT_TRUE(ws.Send(R"({"type":"ping"})").ok());
  auto pong = ws.Receive(5s);
  ASSERT_TRUE(pong.ok());
  auto j = nlohmann::json::parse(*pong);
  EXPECT_EQ(j["type"], "pong");
  EXPECT_TRUE(j["timestamp"].get<std::string>().ends_with("Z"));
  ASSERT_TRUE(ws.Send("not json").ok());
  auto err = ws.Receive(5s);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(nlohmann::json::parse(*err)["type"], "error");

  auto c = Client();
  auto r = c.Request("GET", "/ws/connections", {}, Bearer(proc_.admin_key()));
  EXPECT_EQ(r->json()["active_connections"], 1);
}

TEST_F(ServiceE2E, GracefulShutdownFinishesTheRequestInFlight) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  // Send headers and half a body, signal, then finish the body.
  HttpClient slow("127.0.0.1", proc_.port());
  ASSERT_TRUE(slow.Connect().ok());
  const std::string body = nlohmann::json{{"name", "late"}, {"role", "viewer"}}.dump();
  const std::string head = "POST /api/v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + proc_.admin_key() +
                           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\n\r\n";
  ASSERT_TRUE(slow.SendRaw(head + body.substr(0, 5)).ok());
  std::this_thread::sleep_for(200ms);  // let the server start reading the request
  proc_.SendSignal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  // New connections are refused while draining.
  HttpClient late("127.0.0.1", proc_.port(), 1s);
  EXPECT_FALSE(late.Request("GET", "/health").ok());
  ASSERT_TRUE(slow.SendRaw(body.substr(5)).ok());
  auto r = slow.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(proc_.Wait(15s), 0) << "clean exit after draining";
  // The key created during shutdown was flushed to storage.
  auto list = proc_.Run({"keys", "list", "--data-dir", proc_.data_dir()});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("late"), std::string::npos) << list.out;
}

TEST_F(ServiceE2E, FirstRunKeyIsPrintedOnlyOnce) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  EXPECT_NE(proc_.stdout_text().find("/#api_key=" + proc_.admin_key()), std::string::npos);
  ASSERT_EQ(proc_.Stop(), 0);
  auto list = proc_.Run({"keys", "list", "--data-dir", proc_.data_dir()});
  EXPECT_NE(list.out.find("bootstrap-admin"), std::string::npos);
  std::string error;
  ThreatdProcess second(proc_.data_dir());
  ASSERT_TRUE(second.Start(&error)) << error;
  EXPECT_TRUE(second.admin_key().empty()) << second.stdout_text();
}

}  // namespace
}  // namespace threatd::testing
