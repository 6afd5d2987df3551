// WsClient: a small synchronous WebSocket client for tests (Beast inside).
//
//   WsClient ws;
//   ASSERT_TRUE(ws.Connect("127.0.0.1", port, "/ws/echo?api_key=k").ok());
//   ASSERT_TRUE(ws.Send("hello").ok());
//   auto msg = ws.Receive();  // Timeout status if nothing arrives in time
//
// Incoming text messages are queued while the client waits for something
// else (a pong, a server ping), so no message is lost. Every wait has a
// timeout. Thread-safety: one thread per client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "support/http_client.h"

namespace threatd::testing {

struct WsConnectOptions {
  Headers headers;              // extra handshake headers (Authorization, Origin, ...)
  int receive_buffer_bytes = 0;  // SO_RCVBUF before connecting (0 = default); small = slow client
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(WsClient&&) noexcept;
  WsClient& operator=(WsClient&&) noexcept;

  // `target` is the path with an optional query ("/ws?api_key=..."). On a
  // refused upgrade the Status message names the HTTP status, and
  // handshake_status() returns it.
  Status Connect(const std::string& host, uint16_t port, const std::string& target, WsConnectOptions options = {});
  int handshake_status() const;

  Status Send(std::string_view text);
  // Next text message, or Timeout / Unavailable (closed).
  Result<std::string> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a ping control frame and waits for the pong.
  Status Ping(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits until the server sends a ping (Beast answers it with a pong).
  Status WaitForServerPing(std::chrono::milliseconds timeout);
  // Waits until the server closes the connection.
  Status WaitForClose(std::chrono::milliseconds timeout);
  // The code of the server's close frame (0 before one arrived).
  uint16_t close_code() const;
  // Normal close handshake.
  Status Close();
  bool is_open() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::testing
