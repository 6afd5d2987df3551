#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace threatd::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(name); };
}

std::string HandlerName(const RouteMatch& m) {
  Request req;
  return m.route->handler(req).body;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(Method::kGet, "/health", Named("health"));
    router_.Add(Method::kGet, "/api/v1/models", Named("list"));
    router_.Add(Method::kPost, "/api/v1/models", Named("create"));
    router_.Add(Method::kGet, "/api/v1/models/active", Named("active"));
    router_.Add(Method::kGet, "/api/v1/models/{id}", Named("get"));
    router_.Add(Method::kDelete, "/api/v1/models/{id}", Named("delete"));
    router_.Add(Method::kGet, "/api/v1/models/{id}/card", Named("card"));
    router_.Add(Method::kPost, "/api/v1/upload/batch/{batch_id}", Named("batch"));
    router_.Add(Method::kGet, "/", Named("root"));
  }
  RouteMatch Match(Method m, std::string_view path) {
    RouteMatch out;
    router_.Match(m, path, &out);
    return out;
  }
  Router router_;
};

TEST_F(RouterTest, ExactLiteralRoute) {
  auto m = Match(Method::kGet, "/health");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "health");
  EXPECT_TRUE(m.params.empty());
}

TEST_F(RouterTest, RootPath) {
  auto m = Match(Method::kGet, "/");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "root");
}

TEST_F(RouterTest, PathParameterIsCaptured) {
  auto m = Match(Method::kGet, "/api/v1/models/42");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "get");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "42");
}

TEST_F(RouterTest, LiteralBeatsParameter) {
  auto m = Match(Method::kGet, "/api/v1/models/active");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "active");
  EXPECT_TRUE(m.params.empty());
}

TEST_F(RouterTest, DeeperRouteUnderParameter) {
  auto m = Match(Method::kGet, "/api/v1/models/7/card");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "card");
  EXPECT_EQ(m.params.at(0).second, "7");
}

TEST_F(RouterTest, BacktracksFromLiteralToParameter) {
  // "active" is a literal child, but "/active/card" only exists via {id}.
  auto m = Match(Method::kGet, "/api/v1/models/active/card");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "card");
  EXPECT_EQ(m.params.at(0).second, "active");
}

TEST_F(RouterTest, SecondPatternWithOtherParameterName) {
  auto m = Match(Method::kPost, "/api/v1/upload/batch/b-19");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params.at(0).first, "batch_id");
  EXPECT_EQ(m.params.at(0).second, "b-19");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  EXPECT_EQ(Match(Method::kGet, "/nope").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(Match(Method::kGet, "/api/v1").kind, RouteMatch::Kind::kNotFound);  // intermediate node
  EXPECT_EQ(Match(Method::kGet, "/api/v1/models/7/card/extra").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(Match(Method::kGet, "").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(Match(Method::kGet, "health").kind, RouteMatch::Kind::kNotFound);
}

TEST_F(RouterTest, KnownPathOtherMethodIs405WithAllow) {
  auto m = Match(Method::kPut, "/api/v1/models/9");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");
  auto n = Match(Method::kDelete, "/api/v1/models");
  ASSERT_EQ(n.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(n.allow, "GET, HEAD, POST");
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  auto m = Match(Method::kHead, "/health");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "health");
}

TEST_F(RouterTest, TrailingSlashIsIgnoredOnce) {
  EXPECT_EQ(Match(Method::kGet, "/health/").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(Match(Method::kGet, "/api/v1/models/3/").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(Match(Method::kGet, "/health//").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(Match(Method::kGet, "//health").kind, RouteMatch::Kind::kNotFound);
}

TEST_F(RouterTest, SegmentsArePercentDecodedAfterSplitting) {
  auto m = Match(Method::kGet, "/api/v1/models/a%2Fb%20c");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "get");
  EXPECT_EQ(m.params.at(0).second, "a/b c");
  // An encoded literal still matches the literal.
  EXPECT_EQ(HandlerName(Match(Method::kGet, "/%68ealth")), "health");
}

TEST_F(RouterTest, BadPercentEncodingIsBadPath) {
  EXPECT_EQ(Match(Method::kGet, "/api/v1/models/%zz").kind, RouteMatch::Kind::kBadPath);
  EXPECT_EQ(Match(Method::kGet, "/api/v1/models/%4").kind, RouteMatch::Kind::kBadPath);
}

TEST_F(RouterTest, ParamsAreResetBetweenMatches) {
  RouteMatch m;
  router_.Match(Method::kGet, "/api/v1/models/1", &m);
  router_.Match(Method::kGet, "/health", &m);
  EXPECT_TRUE(m.params.empty());
}

TEST(RouterRegistration, RejectsBadPatterns) {
  Router r;
  EXPECT_THROW(r.Add(Method::kGet, "no-slash", Named("x")), std::invalid_argument);
  EXPECT_THROW(r.Add(Method::kGet, "/a//b", Named("x")), std::invalid_argument);
  EXPECT_THROW(r.Add(Method::kGet, "/a/", Named("x")), std::invalid_argument);
  EXPECT_THROW(r.Add(Method::kGet, "/a/{bad-name}", Named("x")), std::invalid_argument);
  EXPECT_THROW(r.Add(Method::kGet, "/a/{x", Named("x")), std::invalid_argument);
  r.Add(Method::kGet, "/m/{id}", Named("x"));
  EXPECT_THROW(r.Add(Method::kGet, "/m/{id}", Named("y")), std::invalid_argument);        // duplicate
  EXPECT_THROW(r.Add(Method::kPost, "/m/{name}", Named("y")), std::invalid_argument);      // name conflict
  EXPECT_NO_THROW(r.Add(Method::kPost, "/m/{id}", Named("y")));
}

TEST(RouterRegistration, RoutesListsEverythingWithRoles) {
  Router r;
  r.Add(Method::kGet, "/health", Named("h"), {.inline_handler = true, .summary = "Liveness", .tag = "system"});
  r.Add(Method::kDelete, "/keys/{id}", Named("d"), {.min_role = Role::kAdmin});
  struct Nop : WebSocketHandler {
    void OnOpen(const std::shared_ptr<WebSocketSession>&) override {}
    void OnMessage(const std::shared_ptr<WebSocketSession>&, std::string_view) override {}
    void OnClose(const std::shared_ptr<WebSocketSession>&) override {}
  };
  r.AddWebSocket("/ws/realtime", std::make_shared<Nop>(), Role::kViewer);
  const auto routes = r.Routes();
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].pattern, "/health");
  EXPECT_EQ(routes[0].summary, "Liveness");
  EXPECT_EQ(routes[0].tag, "system");
  EXPECT_EQ(routes[1].method, Method::kDelete);
  EXPECT_EQ(routes[1].min_role, Role::kAdmin);
  EXPECT_TRUE(routes[2].websocket);
  EXPECT_EQ(routes[2].min_role, Role::kViewer);

  RouteMatch m;
  r.MatchWebSocket("/ws/realtime", &m);
  EXPECT_EQ(m.kind, RouteMatch::Kind::kFound);
  r.Match(Method::kGet, "/ws/realtime", &m);  // a WebSocket-only path is not an HTTP route
  EXPECT_EQ(m.kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterScale, ManyRoutesAllMatch) {
  Router r;
  for (int i = 0; i < 300; ++i) {
    r.Add(Method::kGet, "/api/v1/group" + std::to_string(i) + "/{id}/items", Named(std::to_string(i)));
  }
  RouteMatch m;
  for (int i = 0; i < 300; i += 37) {
    r.Match(Method::kGet, "/api/v1/group" + std::to_string(i) + "/x/items", &m);
    ASSERT_EQ(m.kind, RouteMatch::Kind::kFound) << i;
    EXPECT_EQ(HandlerName(m), std::to_string(i));
  }
}


// The console's fallback (Router::SetFallback): GET/HEAD to unmatched paths,
// never other methods, never a path a route matches, not in Routes().
TEST(RouterFallback, UnmatchedGetGoesToTheFallbackOnly) {
  Router r;
  r.Add(Method::kGet, "/api/v1/models", Named("list"));
  r.Add(Method::kPost, "/api/v1/keys", Named("create"));
  r.SetFallback(Named("console"));
  RouteMatch m;
  r.Match(Method::kGet, "/dashboard", &m);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "console");
  r.Match(Method::kHead, "/assets/app.js", &m);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(HandlerName(m), "console");
  r.Match(Method::kGet, "/api/v1/models", &m);
  EXPECT_EQ(HandlerName(m), "list");
  r.Match(Method::kPost, "/dashboard", &m);
  EXPECT_EQ(m.kind, RouteMatch::Kind::kNotFound);
  // A known path with another method stays 405 (the fallback never hides it).
  r.Match(Method::kGet, "/api/v1/keys", &m);
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(r.Routes().size(), 2u);
  EXPECT_EQ(r.routes().size(), 3u);  // the fallback has a stats slot
  EXPECT_THROW(r.SetFallback(Named("again")), std::invalid_argument);
}

TEST(RouterFallback, WebSocketOnlyPathFallsBackForPlainGet) {
  Router r;
  struct Nop : WebSocketHandler {
    void OnOpen(const std::shared_ptr<WebSocketSession>&) override {}
    void OnMessage(const std::shared_ptr<WebSocketSession>&, std::string_view) override {}
    void OnClose(const std::shared_ptr<WebSocketSession>&) override {}
  };
  r.AddWebSocket("/ws/realtime", std::make_shared<Nop>());
  r.SetFallback(Named("console"));
  RouteMatch m;
  r.Match(Method::kGet, "/ws/realtime", &m);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);  // the console handler answers 404 for /ws itself
  EXPECT_EQ(HandlerName(m), "console");
  r.MatchWebSocket("/ws/realtime", &m);
  EXPECT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_NE(m.websocket, nullptr);
}

}  // namespace
}  // namespace threatd::http
