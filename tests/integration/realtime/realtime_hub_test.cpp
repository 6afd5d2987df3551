// /ws/realtime: authentication (query, first message, wrong key, timeout),
// ping/pong, request_stats, periodic stats_update and ping, predictions and
// actions, coalescing beyond the per-client rate.
#include <regex>

#include "integration/realtime/realtime_fixture.h"

namespace threatd::realtime {
namespace {

bool IsIsoZ(const nlohmann::json& v) {
  static const std::regex kIso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  return v.is_string() && std::regex_match(v.get<std::string>(), kIso);
}

TEST_F(RealtimeTest, ApiKeyInQueryIsAdmittedWithConnectedMessage) {
  StartHub();
  WsClient ws;
  ASSERT_TRUE(Connect(ws, "?api_key=" + viewer_key_).ok());
  auto m = Json(ws);
  EXPECT_EQ(m["type"], "connected");
  EXPECT_EQ(m["message"], "Connected to AI Threat Detection System");
  EXPECT_EQ(m["connections"], 1);
  EXPECT_EQ(hub_->Connections(), 1u);
  EXPECT_EQ(registry_.GetGauge("threatd_ws_connections", "").Value(), 1.0);
}

TEST_F(RealtimeTest, TokenQueryParameterIsAdmitted) {
  StartHub();
  WsClient ws;
  ASSERT_TRUE(Connect(ws, "?token=" + viewer_key_).ok());
  EXPECT_EQ(Json(ws)["type"], "connected");
}

TEST_F(RealtimeTest, FirstMessageAuthAfterErrorsForOtherMessages) {
  StartHub();
  WsClient ws;
  ASSERT_TRUE(Connect(ws).ok());
  ASSERT_TRUE(ws.Send(R"({"type":"ping"})").ok());
  auto err = Json(ws);
  EXPECT_EQ(err["type"], "error");
  EXPECT_NE(err.value("message", "").find("not authenticated"), std::string::npos) << err.dump();
  Store(1, 1);  // not authenticated: no prediction either
  ASSERT_TRUE(ws.Send(R"({"type":"auth","api_key":")" + viewer_key_ + "\"}").ok());
  EXPECT_EQ(Json(ws)["type"], "connected");
  ASSERT_TRUE(ws.Send(R"({"type":"ping"})").ok());
  EXPECT_EQ(Json(ws)["type"], "pong");
}

TEST_F(RealtimeTest, WrongKeyInFirstMessageGetsErrorThenClose) {
  StartHub();
  WsClient ws;
  ASSERT_TRUE(Connect(ws).ok());
  ASSERT_TRUE(ws.Send(R"({"type":"auth","api_key":"tdk_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"})").ok());
  auto err = Json(ws);
  EXPECT_EQ(err["type"], "error");
  EXPECT_NE(err.value("message", "").find("invalid API key"), std::string::npos) << err.dump();
  EXPECT_TRUE(ws.WaitForClose(std::chrono::seconds(5)).ok());
  EXPECT_EQ(ws.close_code(), 1008);  // policy violation
  EXPECT_EQ(Disconnected("auth_failed"), 1u);
  EXPECT_EQ(hub_->Connections(), 0u);
}

TEST_F(RealtimeTest, WrongKeyInQueryIsRefusedAtUpgrade) {
  StartHub();
  WsClient ws;
  EXPECT_FALSE(Connect(ws, "?api_key=tdk_nope").ok());
  EXPECT_EQ(ws.handshake_status(), 401);
}

TEST_F(RealtimeTest, SilentClientIsClosedAfterAuthTimeout) {
  auto o = TestHubOptions();
  o.auth_timeout = std::chrono::milliseconds(200);
  StartHub(o);
  WsClient ws;
  ASSERT_TRUE(Connect(ws).ok());
  auto err = Json(ws);
  EXPECT_EQ(err["type"], "error");
  EXPECT_NE(err.value("message", "").find("timed out"), std::string::npos) << err.dump();
  EXPECT_TRUE(ws.WaitForClose(std::chrono::seconds(5)).ok());
  EXPECT_EQ(ws.close_code(), 1008);
  EXPECT_EQ(Disconnected("auth_timeout"), 1u);
}

TEST_F(RealtimeTest, PingGetsPongWithIsoZTimestampAndBadJsonAnError) {
  StartHub();
  WsClient ws;
  ConnectAuthenticated(ws);
  ASSERT_TRUE(ws.Send(R"({"type":"ping"})").ok());
  auto pong = Json(ws);
  EXPECT_EQ(pong["type"], "pong");
  EXPECT_TRUE(IsIsoZ(pong["timestamp"])) << pong.dump();
  ASSERT_TRUE(ws.Send("{not json").ok());
  EXPECT_EQ(Json(ws), (nlohmann::json{{"type", "error"}, {"message", "Invalid JSON format"}}));
}

TEST_F(RealtimeTest, RequestStatsAnswersAtOnceAndReportsQueryFailures) {
  StartHub();
  WsClient ws;
  ConnectAuthenticated(ws);
  ASSERT_TRUE(ws.Send(R"({"type":"request_stats"})").ok());
  auto m = Json(ws);
  EXPECT_EQ(m["type"], "stats_update");
  EXPECT_TRUE(IsIsoZ(m["timestamp"])) << m.dump();
  EXPECT_EQ(m["data"]["total_predictions"], 42);

  SetStats(Status::Unavailable("database is down"));
  ASSERT_TRUE(ws.Send(R"({"type":"request_stats"})").ok());
  auto err = Json(ws);
  EXPECT_EQ(err["type"], "error");
  EXPECT_NE(err.value("message", "").find("database is down"), std::string::npos) << err.dump();
  EXPECT_EQ(hub_->HealthCheck()["status"], "degraded");
}

TEST_F(RealtimeTest, StatsUpdateAndPingAreBroadcastPeriodically) {
  auto o = TestHubOptions();
  o.stats_interval = std::chrono::milliseconds(100);
  o.ping_interval = std::chrono::milliseconds(150);
  StartHub(o);
  WsClient ws;
  ConnectAuthenticated(ws);
  bool stats = false;
  bool ping = false;
  for (int i = 0; i < 20 && !(stats && ping); ++i) {
    auto m = Json(ws);
    stats = stats || m["type"] == "stats_update";
    ping = ping || (m["type"] == "ping" && IsIsoZ(m["timestamp"]));
  }
  EXPECT_TRUE(stats);
  EXPECT_TRUE(ping);
}

TEST_F(RealtimeTest, PredictionAndActionAreDeliveredInTheOriginalShape) {
  StartHub();
  WsClient ws;
  ConnectAuthenticated(ws);
  Store(7, 1, /*attacks=*/true);
  auto p = Json(ws);
  ASSERT_EQ(p["type"], "prediction") << p.dump();
  EXPECT_TRUE(IsIsoZ(p["timestamp"]));
  const auto& d = p["data"];
  EXPECT_TRUE(IsIsoZ(d["timestamp"]));
  EXPECT_EQ(d["traffic_data_id"], 7);
  EXPECT_EQ(d["source"], "test_stream");
  EXPECT_TRUE(d["batch_id"].is_null());
  EXPECT_EQ(d["src_ip"], "10.0.0.7");
  EXPECT_EQ(d["threat_prediction"]["id"], 7);
  EXPECT_EQ(d["threat_prediction"]["is_attack"], true);
  EXPECT_EQ(d["threat_prediction"]["model_version"], "detector-v1");
  EXPECT_EQ(d["attack_prediction"]["attack_type_name"], "DDoS");
  EXPECT_EQ(d["attack_prediction"]["attack_type_encoded"], 3);
  EXPECT_TRUE(d["self_healing_action"].is_null());  // decisions arrive as `action` messages

  hub_->Publish("action", {{"id", 1}, {"target", "10.0.0.7"}, {"status", "applied"}});
  auto a = Json(ws);
  ASSERT_EQ(a["type"], "action") << a.dump();
  EXPECT_EQ(a["data"]["target"], "10.0.0.7");

  hub_->Publish("batch_progress", {{"batch_id", "b1"}, {"processed", 10}});
  auto b = Json(ws);
  EXPECT_EQ(b["type"], "batch_progress");
  EXPECT_EQ(b["data"]["processed"], 10);
}

TEST_F(RealtimeTest, BenignFlowHasNullAttackAndNoActionMessage) {
  StartHub();
  WsClient ws;
  ConnectAuthenticated(ws);
  Store(1, 2);
  for (int id = 1; id <= 2; ++id) {
    auto p = Json(ws);
    ASSERT_EQ(p["type"], "prediction");
    EXPECT_EQ(p["data"]["traffic_data_id"], id);
    EXPECT_TRUE(p["data"]["attack_prediction"].is_null());
    EXPECT_TRUE(p["data"]["self_healing_action"].is_null());
  }
}

TEST_F(RealtimeTest, PredictionsBeyondTheRateAreCoalescedAndReported) {
  auto o = TestHubOptions();
  o.max_predictions_per_second = 5;
  StartHub(o);
  WsClient ws;
  ConnectAuthenticated(ws);
  Store(1, 20);
  for (int id = 1; id <= 5; ++id) EXPECT_EQ(Json(ws)["data"]["traffic_data_id"], id);
  ASSERT_TRUE(ws.Send(R"({"type":"request_stats"})").ok());
  auto m = Json(ws);
  EXPECT_EQ(m["type"], "stats_update") << m.dump();
  EXPECT_EQ(m["coalesced"], 15);
  EXPECT_EQ(Counter("threatd_ws_predictions_coalesced_total"), 15u);
}

TEST_F(RealtimeTest, NothingIsFormattedOrSentWithoutClients) {
  StartHub();
  Store(1, 100, true);
  hub_->Publish("batch_progress", {{"processed", 1}});
  EXPECT_EQ(Counter("threatd_ws_messages_sent_total"), 0u);
  EXPECT_EQ(hub_->HealthCheck()["status"], "ok");
}

}  // namespace
}  // namespace threatd::realtime
