// WebSocket /ws/realtime (connected/ping/pong/request_stats) and GET /ws/connections.
// The detection pipeline (issue 4) publishes prediction, action, stats_update
// and batch_progress messages through the same hub.
#include <atomic>

#include "api/routes.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;

class RealtimeHandler final : public http::WebSocketHandler {
 public:
  explicit RealtimeHandler(ApiContext& ctx) : ctx_(ctx) {}

  void OnOpen(const std::shared_ptr<http::WebSocketSession>& session) override {
    const auto n = open_.fetch_add(1) + 1;
    session->Send(nlohmann::json{{"type", "connected"},
                                 {"message", "Connected to AI Threat Detection System"},
                                 {"connections", n},
                                 {"timestamp", FormatIso8601(ctx_.clock.Now())}}
                      .dump());
  }

  void OnMessage(const std::shared_ptr<http::WebSocketSession>& session, std::string_view text) override {
    auto msg = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded() || !msg.is_object()) {
      session->Send(R"({"type":"error","message":"Invalid JSON format"})");
      return;
    }
    const std::string type = msg.value("type", "");
    if (type == "ping") {
      session->Send(nlohmann::json{{"type", "pong"}, {"timestamp", FormatIso8601(ctx_.clock.Now())}}.dump());
    } else if (type == "request_stats") {
      session->Send(nlohmann::json{{"type", "stats_update"},
                                   {"timestamp", FormatIso8601(ctx_.clock.Now())},
                                   {"data", {{"connections", open_.load()}}}}
                        .dump());
    } else {
      session->Send(nlohmann::json{{"type", "error"},
                                   {"message", "unknown message type '" + type + "'; send ping or request_stats"}}
                        .dump());
    }
  }

  void OnClose(const std::shared_ptr<http::WebSocketSession>&) override { open_.fetch_sub(1); }

 private:
  ApiContext& ctx_;
  std::atomic<int64_t> open_{0};
};

}  // namespace

void RegisterRealtimeRoutes(http::Router& router, ApiContext& ctx) {
  router.AddWebSocket("/ws/realtime", std::make_shared<RealtimeHandler>(ctx), Role::kViewer);
  router.Add(Method::kGet, "/ws/connections", [&ctx](Request&) {
    return Response::Json({{"active_connections", ctx.websocket_connections ? ctx.websocket_connections() : 0}});
  }, RouteOptions{.min_role = Role::kViewer, .summary = "Open WebSocket connections", .tag = "realtime"});
}

}  // namespace threatd::api
