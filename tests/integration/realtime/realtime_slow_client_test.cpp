// 100 clients, one never reading, while the pipeline publishes in a loop:
// the 99 others get every prediction in order, OnStored never blocks, the
// slow client is disconnected after max_lag, and reconnecting works.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "integration/realtime/realtime_fixture.h"

namespace threatd::realtime {
namespace {

constexpr size_t kClients = 100;
constexpr size_t kBatch = 16;
constexpr size_t kQueue = 64;  // per-client session queue

struct Reader {
  WsClient ws;
  std::atomic<int64_t> received{0};  // predictions, in order
  std::atomic<bool> out_of_order{false};
  std::thread thread;
};

TEST_F(RealtimeTest, HundredClientsOneNeverReadingIsDisconnectedOthersGetEverything) {
  auto o = TestHubOptions();
  o.max_lag = std::chrono::milliseconds(300);
  o.max_predictions_per_second = 0;  // no coalescing: every prediction must arrive
  auto so = TestServerOptions();
  so.ws_send_queue_limit = kQueue;
  so.ws_slow_client_timeout = std::chrono::minutes(5);  // the hub, not the server, must act
  StartHub(o, so);

  WsClient slow;
  testing::WsConnectOptions tiny;
  tiny.receive_buffer_bytes = 4096;
  ConnectAuthenticated(slow, tiny);
  // Fill its socket buffers (several MB on loopback) and its queue with a few big messages.
  const nlohmann::json padding{{"pad", std::string(64 * 1024, 'p')}};
  for (int i = 0; i < 128; ++i) hub_->Publish("padding", padding);
  ASSERT_TRUE(Eventually([&] { return Counter("threatd_ws_messages_dropped_total") > 0; }))
      << "the never-reading client's queue never overflowed";

  std::vector<std::unique_ptr<Reader>> readers;
  for (size_t i = 1; i < kClients; ++i) {
    auto r = std::make_unique<Reader>();
    ConnectAuthenticated(r->ws);
    readers.push_back(std::move(r));
  }
  // On a slow machine connecting 99 clients can take longer than max_lag:
  // the never-reading client may already be gone, which is what the hub must do.
  ASSERT_TRUE(Eventually([&] { return hub_->Connections() + Disconnected("slow") == kClients; }))
      << hub_->Connections() << " connected, " << Disconnected("slow") << " disconnected as slow";

  std::atomic<int64_t> target{INT64_MAX};
  for (auto& r : readers) {
    r->thread = std::thread([&target, rd = r.get()] {
      while (rd->received.load() < target.load()) {
        auto m = Json(rd->ws);
        if (m["type"] != "prediction") {
          if (m["type"].get<std::string>().front() == '<') return;  // timeout or closed
          continue;
        }
        if (m["data"]["traffic_data_id"] != rd->received.load() + 1) rd->out_of_order = true;
        rd->received.fetch_add(1);
      }
    });
  }
  auto slowest = [&] {
    int64_t m = INT64_MAX;
    for (auto& r : readers) m = std::min(m, r->received.load());
    return m;
  };

  // Publish until the slow client is dropped, keeping the readers within half a queue.
  int64_t produced = 0;
  std::chrono::nanoseconds max_call{0};
  auto publish = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    Store(produced + 1, kBatch);
    max_call = std::max(max_call, std::chrono::steady_clock::now() - t0);
    produced += kBatch;
    ASSERT_TRUE(Eventually([&] { return slowest() >= produced - static_cast<int64_t>(kQueue / 2); }))
        << "readers stuck at " << slowest() << " of " << produced;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Disconnected("slow") == 0 && std::chrono::steady_clock::now() < deadline) {
    publish();
    if (HasFatalFailure()) break;
  }
  EXPECT_EQ(Disconnected("slow"), 1u) << "after " << produced << " predictions";
  EXPECT_EQ(hub_->Connections(), kClients - 1);
  for (int i = 0; i < 5 && !HasFatalFailure(); ++i) publish();  // life goes on without it

  target = produced;
  for (auto& r : readers) r->thread.join();
  for (size_t i = 0; i < readers.size(); ++i) {
    EXPECT_EQ(readers[i]->received.load(), produced) << "reader " << i;
    EXPECT_FALSE(readers[i]->out_of_order.load()) << "reader " << i;
  }
  EXPECT_LT(max_call, std::chrono::seconds(1)) << "OnStored blocked";
  EXPECT_GT(Counter("threatd_ws_messages_dropped_total"), 0u);
  EXPECT_EQ(hub_->HealthCheck()["dropped"], Counter("threatd_ws_messages_dropped_total"));

  // The slow client sees its buffered backlog, then the close.
  EXPECT_TRUE(slow.WaitForClose(std::chrono::seconds(30)).ok());
  EXPECT_EQ(slow.close_code(), 1013);  // try again later

  // Reconnecting works and gets new predictions.
  WsClient again;
  ConnectAuthenticated(again, tiny);
  Store(produced + 1, 1);
  auto m = Json(again);
  EXPECT_EQ(m["type"], "prediction");
  EXPECT_EQ(m["data"]["traffic_data_id"], produced + 1);
}

}  // namespace
}  // namespace threatd::realtime
