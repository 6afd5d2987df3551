// Server: the HTTP/1.1 + WebSocket server every API endpoint is served by.
//
// Owns the listening socket, `io_threads` event-loop threads and a pool of
// `worker_threads` for handlers. Requests are routed by a Router, which the
// caller owns and must keep alive (and unchanged) while the Server exists.
// Behaviour in brief (details in server_options.h, router.h, websocket.h):
// keep-alive with header/read/idle timeouts; max_connections (503 above it);
// X-Request-Id echoed on every response; Bearer-key authentication with
// role checks (401/403); per-route body limits (413); streamed bodies with
// back-pressure; security and CORS headers; JSON errors everywhere; handler
// exceptions become 500s; metrics listed in http_stats.h.
//
// Thread-safety: Start/Stop from one controlling thread (not from a handler);
// Port/ActiveConnections/WebSocketConnections from any thread.
// Blocking: Start() only binds; Stop() blocks up to shutdown_grace (plus
// however long in-flight handlers take to return) and joins all threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/metrics.h"
#include "common/principal.h"
#include "common/status.h"
#include "http/router.h"
#include "http/server_options.h"

namespace threatd::http {

// Resolves an API key to a Principal; Unauthenticated for unknown keys. Called
// on a worker thread (may block briefly, e.g. a database lookup), concurrently.
using Authenticator = std::function<Result<Principal>(std::string_view bearer_token)>;

class Server {
 public:
  Server(ServerOptions options, Router& router, metrics::Registry& registry, Authenticator authenticator);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads. Unavailable (naming host:port)
  // when the port is taken; InvalidArgument for a bad host.
  Status Start();
  // The bound port (useful with port 0); 0 before Start().
  uint16_t Port() const;
  // Graceful: stop accepting (new connections are refused), let in-flight
  // requests finish within shutdown_grace, close idle keep-alive and
  // WebSocket connections, then force-close the rest and join. Idempotent.
  void Stop();

  size_t ActiveConnections() const;     // HTTP + WebSocket
  size_t WebSocketConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::http
