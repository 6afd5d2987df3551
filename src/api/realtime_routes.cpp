// WebSocket /ws/realtime (served by realtime::RealtimeHub: predictions,
// actions, stats_update, batch_progress, ping/pong, request_stats) and
// GET /ws/connections.
#include <memory>

#include "api/routes.h"
#include "realtime/hub.h"

namespace threatd::api {

void RegisterRealtimeRoutes(http::Router& router, ApiContext& /*ctx*/, realtime::RealtimeHub& hub) {
  // Public at the HTTP level so that a client may authenticate with its first
  // message or ?token=; the hub admits only viewer keys or above. A key in the
  // Authorization header or ?api_key= is still checked by the server (401/403).
  // The hub is owned by the app and outlives the server: a non-owning pointer.
  router.AddWebSocket("/ws/realtime", std::shared_ptr<http::WebSocketHandler>(&hub, [](http::WebSocketHandler*) {}),
                      Role::kPublic);
  router.Add(http::Method::kGet, "/ws/connections", [&hub](http::Request&) {
    return http::Response::Json({{"active_connections", hub.Connections()}});
  }, http::RouteOptions{.min_role = Role::kViewer, .summary = "Open WebSocket connections", .tag = "realtime"});
}

}  // namespace threatd::api
