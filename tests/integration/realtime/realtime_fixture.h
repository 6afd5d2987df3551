// RealtimeTest: a real HTTP server serving /ws/realtime from a RealtimeHub,
// API keys in an in-memory repository, and verbs that keep tests short:
// StartHub, Connect, Store (a scored batch as the pipeline would publish it),
// Json (the next message, parsed).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "auth/api_key_service.h"
#include "fakes/fake_api_key_repository.h"
#include "http/server.h"
#include "realtime/hub.h"
#include "support/eventually.h"
#include "support/ws_client.h"

namespace threatd::realtime {

using testing::WsClient;

using testing::Eventually;

class RealtimeTest : public ::testing::Test {
 protected:
  static HubOptions TestHubOptions() {
    HubOptions o;
    o.stats_interval = std::chrono::hours(1);  // tests that want timers set them
    o.ping_interval = std::chrono::hours(1);
    return o;
  }
  static http::ServerOptions TestServerOptions() {
    http::ServerOptions o;
    o.port = 0;
    o.io_threads = 2;
    o.worker_threads = 2;
    o.shutdown_grace = std::chrono::seconds(2);
    return o;
  }

  void SetUp() override {
    auto key = keys_.Create("watcher", Role::kViewer, std::nullopt);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    viewer_key_ = key->plaintext;
  }

  void TearDown() override {
    // As the service does: the hub lets go of its sessions before the server goes.
    if (hub_) hub_->Stop();
    if (server_) server_->Stop();
  }

  void StartHub(HubOptions options = TestHubOptions(), http::ServerOptions server_options = TestServerOptions()) {
    hub_ = std::make_unique<RealtimeHub>(options, keys_, [this] {
      std::lock_guard lock(stats_mu_);
      return stats_result_;
    }, Clock::System(),
                                         registry_);
    hub_->Start();
    router_.AddWebSocket("/ws/realtime", std::shared_ptr<http::WebSocketHandler>(hub_.get(), [](auto*) {}));
    server_ = std::make_unique<http::Server>(server_options, router_, registry_,
                                             [this](std::string_view t) { return keys_.Authenticate(t); });
    const Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Status Connect(WsClient& ws, const std::string& query = "", testing::WsConnectOptions o = {}) {
    return ws.Connect("127.0.0.1", server_->Port(), "/ws/realtime" + query, std::move(o));
  }
  // Connects with ?api_key= and consumes the "connected" message.
  void ConnectAuthenticated(WsClient& ws, testing::WsConnectOptions o = {}) {
    ASSERT_TRUE(Connect(ws, "?api_key=" + viewer_key_, std::move(o)).ok());
    auto m = Json(ws);
    ASSERT_EQ(m.value("type", ""), "connected") << m.dump();
  }

  // The next message as JSON; {"type":"<status>"} when none arrives.
  static nlohmann::json Json(WsClient& ws, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto text = ws.Receive(timeout);
    if (!text.ok()) return {{"type", "<" + text.status().ToString() + ">"}};
    auto j = nlohmann::json::parse(*text, nullptr, false);
    return j.is_discarded() ? nlohmann::json{{"type", "<not json>"}, {"text", *text}} : j;
  }

  // `n` stored flows with traffic_data_id first..first+n-1; every flow with
  // `attacks` gets an attack prediction and a block_ip action.
  void Store(int64_t first, size_t n, bool attacks = false) {
    storage::ScoredFlowBatch batch;
    batch.source = "test_stream";
    std::vector<storage::StoredFlowIds> ids;
    for (size_t i = 0; i < n; ++i) {
      const int64_t id = first + static_cast<int64_t>(i);
      storage::NewScoredFlow f;
      f.ids.src_ip = "10.0.0." + std::to_string(id % 250);
      f.ids.dst_ip = "192.168.1.1";
      f.created_at = Clock::System().Now();
      f.threat = {attacks ? 0.97 : 0.02, attacks, 0.5, "detector-v1"};
      storage::StoredFlowIds s{id, id, 0, false};
      if (attacks) {
        f.attack = storage::NewAttackPrediction{3, "DDoS", 0.9, "classifier-v1"};
        s.attack_prediction_id = id;
      }
      batch.flows.push_back(std::move(f));
      ids.push_back(s);
    }
    hub_->OnStored(batch, ids);
  }

  uint64_t Counter(const std::string& name, const metrics::Labels& labels = {}) {
    return registry_.GetCounter(name, "", labels).Value();
  }
  uint64_t Disconnected(const std::string& reason) {
    return Counter("threatd_ws_clients_disconnected_total", {{"reason", reason}});
  }

  void SetStats(Result<nlohmann::json> r) {
    std::lock_guard lock(stats_mu_);
    stats_result_ = std::move(r);
  }

  testing::FakeApiKeyRepository repo_;
  metrics::Registry registry_;
  auth::ApiKeyService keys_{repo_, Clock::System(), registry_};
  std::string viewer_key_;
  std::mutex stats_mu_;
  Result<nlohmann::json> stats_result_ = nlohmann::json{{"total_predictions", 42}, {"total_attacks", 7}};
  std::unique_ptr<RealtimeHub> hub_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace threatd::realtime
