// Router: maps (method, path) to a handler and its options.
//
// Patterns are literal segments and `{name}` parameters:
//   "/api/v1/models/{id}", "/api/v1/upload/batch/{batch_id}".
// Matching walks a segment tree (no regex): literal segments win over a
// parameter at the same position. Policy:
//   - a single trailing slash is ignored ("/api/v1/models/" == "/api/v1/models");
//   - segments are percent-decoded after splitting, so "%2F" inside a
//     parameter is a '/' in its value, never a separator; a bad escape is 400;
//   - HEAD falls back to the GET route when no HEAD route exists;
//   - unknown path -> kNotFound; known path, other method -> kMethodNotAllowed
//     with the Allow list;
//   - SetFallback(): a GET (and HEAD) to a path no route matches goes to the
//     fallback handler instead of kNotFound (the console's single-page-app
//     files and index.html); the handler decides what it answers, 404 included.
//     The fallback is not a pattern, so Routes() does not list it.
//
// Registration (Add/AddWebSocket) happens at start-up and throws
// std::invalid_argument on a malformed or duplicate pattern: that is a
// programming error caught by the first test run.
// Thread-safety: build on one thread before Server::Start(); afterwards the
// router is read-only and Match() is safe from any thread.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/principal.h"
#include "http/method.h"
#include "http/request.h"
#include "http/response.h"
#include "http/websocket.h"

namespace threatd::http {

// Runs on a worker thread (or the I/O thread for inline_handler routes).
// Exceptions are caught by the server and become a 500.
using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  Role min_role = Role::kPublic;  // least role needed; kPublic needs no key
  size_t body_limit = 0;          // bytes; 0 = ServerOptions::default_body_limit
  bool stream_body = false;       // handler reads Request::body_reader instead of body
  // Run on the I/O thread. Only for handlers that never block (e.g. /health);
  // ignored for routes that need authentication (the Authenticator may block).
  bool inline_handler = false;
  std::string summary;  // one line for the OpenAPI document
  std::string tag;      // OpenAPI tag (endpoint group)
};

struct Route {
  Method method = Method::kGet;
  std::string pattern;
  Handler handler;
  RouteOptions options;
  size_t index = 0;  // position in Router::routes(), stable
};

struct WebSocketRoute {
  std::string pattern;
  std::shared_ptr<WebSocketHandler> handler;
  Role min_role = Role::kPublic;
  size_t index = 0;
};

struct RouteInfo {
  Method method = Method::kGet;
  std::string pattern;
  Role min_role = Role::kPublic;
  std::string summary;
  std::string tag;
  bool websocket = false;  // a WebSocket endpoint (method is GET)
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed, kBadPath };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;              // kFound (HTTP)
  const WebSocketRoute* websocket = nullptr;  // kFound (MatchWebSocket)
  Params params;                              // kFound
  std::string allow;                          // kMethodNotAllowed: "GET, HEAD, POST"
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  void Add(Method method, std::string_view pattern, Handler handler, RouteOptions options = {});
  void AddWebSocket(std::string_view pattern, std::shared_ptr<WebSocketHandler> handler, Role min_role = Role::kPublic);
  // The handler for GET/HEAD to paths that match no route (at most one; a
  // second call throws std::invalid_argument). Its metrics label is `label`.
  void SetFallback(Handler handler, RouteOptions options = {}, std::string label = "/{console}");

  // `path` is the raw path (no query). `out` is reused to avoid allocations.
  void Match(Method method, std::string_view path, RouteMatch* out) const;
  void MatchWebSocket(std::string_view path, RouteMatch* out) const;

  // Every route in registration order (HTTP then WebSocket), for the OpenAPI check.
  std::vector<RouteInfo> Routes() const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  const std::vector<std::unique_ptr<WebSocketRoute>>& websocket_routes() const { return ws_routes_; }

 private:
  struct Node;
  Node* Insert(std::string_view pattern);
  const Node* Find(std::string_view path, Params* params, bool* bad_path) const;

  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;  // the fallback too (its stats slot), not in Routes()
  const Route* fallback_ = nullptr;
  std::vector<std::unique_ptr<WebSocketRoute>> ws_routes_;
};

}  // namespace threatd::http
