// The test stream (start/status/stop/send-single), /ws/connections and
// /ws/realtime (auth by ?api_key=, connected, prediction messages with class,
// confidence and action, request_stats -> stats_update, a wrong key refused).
#include <gtest/gtest.h>

#include "api_groups.h"
#include "support/ws_client.h"

namespace threatd::testing {
namespace {

using json = nlohmann::json;

// The next message of `type`, skipping others (ping, stats_update...); null on timeout.
json NextOfType(WsClient& ws, const std::string& type, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto msg = ws.Receive(std::chrono::milliseconds(500));
    if (!msg.ok()) continue;
    json j = json::parse(*msg, nullptr, false);
    if (j.is_object() && j["type"] == type) return j;
  }
  return nullptr;
}

int64_t StreamSent(ApiSession& s) { return s.Get("/api/v1/test/status").json().value("sent", int64_t{-1}); }

}  // namespace

void ExerciseStream(ApiSession& s) {
  const std::string t = "/api/v1/test";
  // WebSocket: refused without or with a wrong key, admitted with a viewer key.
  {
    WsClient bad;
    EXPECT_FALSE(bad.Connect("127.0.0.1", s.port(), "/ws/realtime?api_key=tdk_wrong").ok());
    EXPECT_EQ(bad.handshake_status(), 401);
  }
  WsClient ws;
  ASSERT_TRUE(ws.Connect("127.0.0.1", s.port(), "/ws/realtime?api_key=" + s.key(As::kViewer)).ok());
  const json connected = NextOfType(ws, "connected");
  ASSERT_FALSE(connected.is_null()) << "no 'connected' message";
  auto conns = s.Get("/ws/connections");
  ASSERT_EQ(conns.status, 200);
  EXPECT_EQ(conns.json()["active_connections"], 1);
  s.ExpectRoles("GET", "/ws/connections", As::kViewer);

  // send-single: scored, stored, returned, and pushed to the socket.
  s.ExpectRoles("POST", t + "/send-single", As::kOperator, "");
  auto single = s.Post(t + "/send-single?model_type=attack_classification", nullptr);
  ASSERT_EQ(single.status, 200) << single.body.substr(0, 300);
  EXPECT_EQ(single.json()["result"]["stored"], 1);
  EXPECT_EQ(single.json()["model_type"], "attack_classification");
  const json pushed = NextOfType(ws, "prediction");
  ASSERT_FALSE(pushed.is_null()) << "no 'prediction' message after send-single";
  const json& data = pushed["data"];
  EXPECT_EQ(data["source"], "test_stream");
  EXPECT_TRUE(data["threat_prediction"]["is_attack"].is_boolean()) << data.dump();
  if (data["threat_prediction"]["is_attack"].get<bool>()) {
    EXPECT_TRUE(data["attack_prediction"]["attack_type_name"].is_string()) << data.dump();
    EXPECT_TRUE(data["attack_prediction"]["confidence"].is_number()) << data.dump();
  }
  // Decisions come later, as `action` messages (a single flow is below the default thresholds).
  EXPECT_TRUE(data["self_healing_action"].is_null()) << data.dump();
  auto stored = s.Get("/api/v1/predictions/" + std::to_string(data["traffic_data_id"].get<int64_t>()));
  EXPECT_EQ(stored.status, 200) << stored.body.substr(0, 200);
  auto bad_type = s.Post(t + "/send-single?model_type=nonsense", nullptr);
  EXPECT_EQ(bad_type.status, 400) << bad_type.body;

  // request_stats -> stats_update.
  ASSERT_TRUE(ws.Send(R"({"type":"request_stats"})").ok());
  const json stats = NextOfType(ws, "stats_update");
  ASSERT_FALSE(stats.is_null()) << "no stats_update after request_stats";
  EXPECT_TRUE(stats["data"].is_object()) << stats.dump();

  // A short stream: count flows, all sent, each pushed as a prediction.
  s.ExpectRoles("POST", t + "/start-stream", As::kOperator, "{}");
  s.ExpectRoles("POST", t + "/stop-stream", As::kOperator, "");
  s.ExpectRoles("GET", t + "/status", As::kViewer);
  EXPECT_EQ(s.Post(t + "/start-stream", {{"rate", 0}}).status, 422);
  EXPECT_EQ(s.Post(t + "/start-stream", {{"attack_mix", 2}}).status, 422);
  auto started = s.Post(t + "/start-stream", {{"count", 20}, {"rate", 200}, {"attack_mix", {{"DDoS", 1.0}}}});
  ASSERT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(started.json()["count"], 20);
  EXPECT_DOUBLE_EQ(started.json()["rate"].get<double>(), 200.0);
  int predictions = 0;
  while (predictions < 20 && !NextOfType(ws, "prediction").is_null()) ++predictions;
  EXPECT_EQ(predictions, 20);
  EXPECT_TRUE(ApiSession::WaitFor([&] { return s.Get(t + "/status").json()["running"] == false; },
                                  std::chrono::seconds(10)));
  auto status = s.Get(t + "/status");
  EXPECT_EQ(status.json()["sent"], 20) << status.body;
  EXPECT_EQ(status.json()["failed"], 0) << status.body;

  // An endless stream is stopped by stop-stream; a second start meanwhile is 409.
  auto endless = s.Post(t + "/start-stream", {{"count", 0}, {"rate", 100}, {"model_type", "threat_detection"}});
  ASSERT_EQ(endless.status, 200) << endless.body;
  EXPECT_EQ(s.Post(t + "/start-stream", json::object()).status, 409);
  EXPECT_TRUE(ApiSession::WaitFor([&] { return StreamSent(s) > 0; }, std::chrono::seconds(5)));
  auto stop = s.Post(t + "/stop-stream", nullptr);
  ASSERT_EQ(stop.status, 200) << stop.body;
  EXPECT_EQ(stop.json()["was_running"], true);
  EXPECT_EQ(s.Get(t + "/status").json()["running"], false);
  auto idle = s.Post(t + "/stop-stream", nullptr);
  EXPECT_EQ(idle.json()["was_running"], false);
  EXPECT_TRUE(ws.Close().ok());
}

}  // namespace threatd::testing
