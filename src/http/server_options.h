// ServerOptions: every knob of the HTTP/WebSocket server, with its default.
//
// This struct is the reference documentation for the `http:` configuration
// section; the config component maps keys onto these fields one to one.
// Thread-safety: a plain value, copied into the Server at construction.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace threatd::http {

struct ServerOptions {
  // Address to bind. "0.0.0.0" exposes the API on every interface.
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free ephemeral port (tests), read back with Server::Port().
  uint16_t port = 8000;
  // Threads running the network event loop (parsing, writing, inline handlers).
  size_t io_threads = 2;
  // Threads running handlers, authentication and streamed-body consumers.
  size_t worker_threads = 4;
  // Open connections (HTTP + WebSocket) above which new ones get 503 and are closed.
  size_t max_connections = 1024;
  // Time allowed for the request line and headers of the first request on a connection.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // Time allowed for the whole body of a non-streamed request; for streamed
  // bodies, the longest wait for the next piece of the body.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  // A keep-alive connection with no request for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // Time allowed to write one response.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  // Stop() waits this long for in-flight requests before closing connections.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};
  // Request body limit for routes that do not set their own (RouteOptions::body_limit).
  size_t default_body_limit = 1024 * 1024;
  // Largest request line + headers accepted (431-style 400 above it).
  size_t max_header_bytes = 16 * 1024;
  // Origins allowed to call the API from a browser; "*" allows any.
  // Empty: same origin only (no CORS headers are ever sent).
  std::vector<std::string> cors_origins;
  // Messages queued per WebSocket client; when full the oldest is dropped
  // and websocket_messages_dropped_total is incremented.
  size_t ws_send_queue_limit = 256;
  // A client whose queue stays full (keeps dropping) for this long is disconnected.
  std::chrono::milliseconds ws_slow_client_timeout{std::chrono::seconds(10)};
  // The server pings a silent WebSocket client after this long and closes it
  // when nothing (not even a pong) arrives within another interval.
  std::chrono::milliseconds ws_ping_interval{std::chrono::seconds(30)};
  // Largest WebSocket message accepted from a client.
  size_t ws_max_message_bytes = 1024 * 1024;
};

}  // namespace threatd::http
