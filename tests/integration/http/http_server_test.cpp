// Routing, authentication, headers, errors and metrics over real sockets.
#include "integration/http/server_fixture.h"

namespace threatd::http {
namespace {

#define ASSERT_RESPONSE(r) ASSERT_TRUE((r).ok()) << (r).status().ToString()

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  HttpClient client = Client();
  auto a = client.Request("GET", "/health");
  ASSERT_RESPONSE(a);
  auto b = client.Request("GET", "/items/7");
  ASSERT_RESPONSE(b);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->json()["status"], "ok");
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(client.connects(), 1);
  EXPECT_EQ(server_->ActiveConnections(), 1u);
}

TEST_F(HttpServerTest, SecurityHeadersOnSuccessAndError) {
  StartServer();
  HttpClient client = Client();
  for (const char* target : {"/health", "/nope"}) {
    auto r = client.Request("GET", target);
    ASSERT_RESPONSE(r);
    EXPECT_EQ(r->Header("X-Content-Type-Options"), "nosniff") << target;
    EXPECT_EQ(r->Header("X-Frame-Options"), "DENY") << target;
    EXPECT_EQ(r->Header("Referrer-Policy"), "no-referrer") << target;
    EXPECT_EQ(r->Header("Content-Security-Policy"), "default-src 'self'") << target;
    EXPECT_EQ(r->Header("Cache-Control"), "no-store") << target;
    EXPECT_FALSE(r->HasHeader("Access-Control-Allow-Origin")) << target;
  }
}

TEST_F(HttpServerTest, RequestIdIsEchoedOrGenerated) {
  StartServer();
  HttpClient client = Client();
  auto given = client.Request("GET", "/request-id", {}, {{"X-Request-Id", "trace-42_a"}});
  ASSERT_RESPONSE(given);
  EXPECT_EQ(given->Header("X-Request-Id"), "trace-42_a");
  EXPECT_EQ(given->body, "trace-42_a");  // set as the handler thread's log request id

  auto insane = client.Request("GET", "/request-id", {}, {{"X-Request-Id", "bad id with spaces"}});
  ASSERT_RESPONSE(insane);
  EXPECT_EQ(insane->Header("X-Request-Id").size(), 16u);
  EXPECT_EQ(insane->body, insane->Header("X-Request-Id"));

  auto error = client.Request("GET", "/nope", {}, {{"X-Request-Id", "err-1"}});
  ASSERT_RESPONSE(error);
  EXPECT_EQ(error->Header("X-Request-Id"), "err-1");
}

TEST_F(HttpServerTest, UnknownRouteIsJson404EvenWithoutAuth) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("GET", "/api/v1/does-not-exist");
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  EXPECT_EQ(r->json()["error"]["code"], "not_found");
  EXPECT_TRUE(r->json()["detail"].is_string());
  EXPECT_EQ(Requests("unmatched", "GET", 404), 1u);
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("DELETE", "/echo");
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("Allow"), "POST, PUT");
  EXPECT_EQ(r->json()["error"]["code"], "method_not_allowed");
}

TEST_F(HttpServerTest, AuthenticationAndRoles) {
  StartServer();
  HttpClient client = Client();
  auto none = client.Request("GET", "/whoami");
  ASSERT_RESPONSE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(none->json()["error"]["code"], "unauthenticated");

  auto bad = client.Request("GET", "/whoami", {}, Bearer("wrong"));
  ASSERT_RESPONSE(bad);
  EXPECT_EQ(bad->status, 401);

  auto viewer = client.Request("GET", "/whoami", {}, Bearer("viewer-key"));
  ASSERT_RESPONSE(viewer);
  EXPECT_EQ(viewer->status, 200);
  EXPECT_EQ(viewer->json()["name"], "vera");

  auto forbidden = client.Request("POST", "/admin", "x", Bearer("operator-key"));
  ASSERT_RESPONSE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_EQ(forbidden->json()["error"]["code"], "permission_denied");

  auto admin = client.Request("POST", "/admin", "payload", Bearer("admin-key"));
  ASSERT_RESPONSE(admin);
  EXPECT_EQ(admin->status, 200);
  EXPECT_EQ(admin->body, "payload");

  auto down = client.Request("GET", "/whoami", {}, Bearer("down-key"));
  ASSERT_RESPONSE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->json()["error"]["retryable"], true);
  EXPECT_FALSE(down->Header("Retry-After").empty());
}

TEST_F(HttpServerTest, PathParamsAndDecodedQuery) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("GET", "/items/a%20b?filter=x%2By&n=1+2");
  ASSERT_RESPONSE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->json()["id"], "a b");
  EXPECT_EQ(r->json()["query"]["filter"], "x+y");
  EXPECT_EQ(r->json()["query"]["n"], "1 2");

  auto bad = client.Request("GET", "/items/1?x=%zz");
  ASSERT_RESPONSE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(HttpServerTest, HandlerExceptionIs500JsonWithRequestId) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("GET", "/throw", {}, {{"X-Request-Id", "boom-1"}});
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->json()["error"]["code"], "internal");
  EXPECT_NE(r->json()["detail"].get<std::string>().find("boom-1"), std::string::npos);
  auto after = client.Request("GET", "/health");  // the server (and connection) survive
  ASSERT_RESPONSE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpServerTest, BadJsonIs400WithPosition) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("POST", "/json", "{\"a\": tru}", {{"Content-Type", "application/json"}});
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->json()["detail"].get<std::string>().find("at byte"), std::string::npos);
  auto ok = client.Request("POST", "/json", "{\"a\": true}", {{"Content-Type", "application/json"}});
  ASSERT_RESPONSE(ok);
  EXPECT_EQ(ok->json()["a"], true);
}

TEST_F(HttpServerTest, HeadIsGetWithoutBody) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("HEAD", "/health");
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->Header("Content-Length"), "15");
  auto next = client.Request("GET", "/health");  // framing intact after HEAD
  ASSERT_RESPONSE(next);
  EXPECT_EQ(next->json()["status"], "ok");
}

TEST_F(HttpServerTest, CorsAllowedDeniedAndPreflight) {
  StartServer();
  HttpClient client = Client();
  auto allowed = client.Request("GET", "/health", {}, {{"Origin", "https://console.example"}});
  ASSERT_RESPONSE(allowed);
  EXPECT_EQ(allowed->Header("Access-Control-Allow-Origin"), "https://console.example");
  EXPECT_EQ(allowed->Header("Vary"), "Origin");

  auto denied = client.Request("GET", "/health", {}, {{"Origin", "https://evil.example"}});
  ASSERT_RESPONSE(denied);
  EXPECT_FALSE(denied->HasHeader("Access-Control-Allow-Origin"));

  auto preflight = client.Request("OPTIONS", "/echo", {},
                                  {{"Origin", "https://console.example"},
                                   {"Access-Control-Request-Method", "POST"},
                                   {"Access-Control-Request-Headers", "authorization,content-type"}});
  ASSERT_RESPONSE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Origin"), "https://console.example");
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Methods"), "POST, PUT");
  EXPECT_NE(preflight->Header("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_NE(preflight->Header("Access-Control-Allow-Headers").find("Content-Type"), std::string::npos);

  auto denied_preflight = client.Request("OPTIONS", "/echo", {},
                                         {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_RESPONSE(denied_preflight);
  EXPECT_FALSE(denied_preflight->HasHeader("Access-Control-Allow-Origin"));
  EXPECT_NE(denied_preflight->status, 204);
}

TEST_F(HttpServerTest, MetricsCountByRoutePattern) {
  StartServer();
  HttpClient client = Client();
  for (int i = 0; i < 3; ++i) ASSERT_RESPONSE(client.Request("GET", "/items/" + std::to_string(i)));
  ASSERT_RESPONSE(client.Request("GET", "/whoami"));
  EXPECT_EQ(Requests("/items/{id}", "GET", 200), 3u);
  EXPECT_EQ(Requests("/whoami", "GET", 401), 1u);
  EXPECT_EQ(registry_.GetHistogram("http_request_duration_seconds", "", {{"route", "/items/{id}"}}).Count(), 3u);
  const std::string text = registry_.Render();
  EXPECT_NE(text.find("http_connections_active 1"), std::string::npos) << text;
}

TEST_F(HttpServerTest, MalformedRequestIs400AndClosed) {
  StartServer();
  HttpClient client = Client();
  ASSERT_TRUE(client.SendRaw("GARBAGE\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->json()["error"]["code"], "invalid_argument");
}

}  // namespace
}  // namespace threatd::http
