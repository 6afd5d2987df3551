// Connection lifecycle: start errors, connection cap, idle timeout, graceful stop.
#include <future>
#include <thread>

#include "integration/http/server_fixture.h"

namespace threatd::http {
namespace {

#define ASSERT_RESPONSE(r) ASSERT_TRUE((r).ok()) << (r).status().ToString()

TEST_F(HttpServerTest, StartFailsClearlyWhenPortIsTaken) {
  StartServer();
  Router other_router;
  metrics::Registry other_registry;
  ServerOptions o = TestOptions();
  o.port = server_->Port();
  Server second(o, other_router, other_registry, FakeAuthenticate);
  const Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("already in use"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(std::to_string(o.port)), std::string::npos) << s.message();
}

TEST_F(HttpServerTest, BadHostIsInvalidArgument) {
  ServerOptions o = TestOptions();
  o.host = "not-an-ip";
  Server server(o, router_, registry_, FakeAuthenticate);
  EXPECT_EQ(server.Start().code(), ErrorCode::kInvalidArgument);
}

TEST_F(HttpServerTest, ConnectionCapAnswers503AndCloses) {
  ServerOptions o = TestOptions();
  o.max_connections = 2;
  StartServer(o);
  HttpClient a = Client(), b = Client(), c = Client();
  ASSERT_RESPONSE(a.Request("GET", "/health"));
  ASSERT_RESPONSE(b.Request("GET", "/health"));
  ASSERT_EQ(server_->ActiveConnections(), 2u);
  auto rejected = c.Request("GET", "/health");
  ASSERT_RESPONSE(rejected);
  EXPECT_EQ(rejected->status, 503);
  EXPECT_EQ(rejected->json()["error"]["code"], "unavailable");
  EXPECT_EQ(rejected->Header("Connection"), "close");
  EXPECT_EQ(CounterValue("http_connections_rejected_total"), 1u);
  EXPECT_EQ(server_->ActiveConnections(), 2u);

  a.Disconnect();  // a slot frees up
  ASSERT_TRUE(Eventually([&] { return server_->ActiveConnections() == 1; }));
  auto admitted = c.Request("GET", "/health");
  ASSERT_RESPONSE(admitted);
  EXPECT_EQ(admitted->status, 200);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o = TestOptions();
  o.idle_timeout = std::chrono::milliseconds(200);
  StartServer(o);
  HttpClient client = Client();
  ASSERT_RESPONSE(client.Request("GET", "/health"));
  EXPECT_TRUE(client.WaitForClose(std::chrono::seconds(10)));
  EXPECT_TRUE(Eventually([&] { return server_->ActiveConnections() == 0; }));
}

TEST_F(HttpServerTest, SlowHeadersHitTheHeaderTimeout) {
  ServerOptions o = TestOptions();
  o.header_timeout = std::chrono::milliseconds(200);
  StartServer(o);
  HttpClient client = Client();
  ASSERT_TRUE(client.SendRaw("GET /health HTTP/1.1\r\nHost: x\r\n").ok());  // never finished
  EXPECT_TRUE(client.WaitForClose(std::chrono::seconds(10)));
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightRequestAndRefusesNewOnes) {
  StartServer();
  const uint16_t port = server_->Port();
  HttpClient idle = Client();
  ASSERT_RESPONSE(idle.Request("GET", "/health"));

  auto in_flight = std::async(std::launch::async, [port] {
    HttpClient slow("127.0.0.1", port);
    return slow.Request("GET", "/slow");
  });
  ASSERT_TRUE(slow_gate_.WaitEntered());

  auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
  // New connections are refused once the acceptor is closed.
  EXPECT_TRUE(Eventually([port] { return !HttpClient("127.0.0.1", port).Connect().ok(); }));
  // The idle keep-alive connection is closed, the in-flight one is not.
  EXPECT_TRUE(idle.WaitForClose(std::chrono::seconds(10)));
  EXPECT_EQ(in_flight.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  slow_gate_.Open();
  auto r = in_flight.get();
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json()["slow"], "done");
  EXPECT_EQ(r->Header("Connection"), "close");
  stopped.get();
  EXPECT_EQ(server_->ActiveConnections(), 0u);
}

}  // namespace
}  // namespace threatd::http
