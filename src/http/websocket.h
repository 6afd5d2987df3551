// WebSocket handler and session interfaces (served on the HTTP port).
//
// A WebSocketHandler is registered with Router::AddWebSocket(); for every
// upgraded connection the server creates a WebSocketSession and calls
// OnOpen, then OnMessage for each text message, then OnClose exactly once.
//
// Threading: callbacks run on the connection's I/O thread and must not
// block (hand heavy work to your own executor). A handler instance is shared
// by all sessions, so its state must be thread-safe.
//
// WebSocketSession is thread-safe: Send() and Close() may be called from any
// thread, at any time, even after the peer went away (then they do nothing).
// Send() never blocks: each client has a bounded queue
// (ServerOptions::ws_send_queue_limit); when it is full the OLDEST queued
// message is dropped and websocket_messages_dropped_total counted, so a slow
// client never slows the others. A client that stays full longer than
// ws_slow_client_timeout is disconnected.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/principal.h"
#include "http/request.h"

namespace threatd::http {

class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;
  // Queues a text message; false only when the session is closed.
  virtual bool Send(std::string text) = 0;
  // RFC 6455 close codes threatd sends.
  static constexpr uint16_t kNormalClosure = 1000;
  static constexpr uint16_t kPolicyViolation = 1008;  // not authenticated / not allowed
  static constexpr uint16_t kTryAgainLater = 1013;    // overloaded or too slow: reconnect later

  // Starts a close handshake with `code` and a short reason (cut to the 123
  // bytes a close frame allows). Idempotent: only the first call counts.
  virtual void Close(uint16_t code, std::string reason) = 0;
  void Close() { Close(kNormalClosure, {}); }
  // The authenticated principal (nullopt on a public endpoint without a key).
  virtual const std::optional<threatd::Principal>& Principal() const = 0;
  // Process-unique, stable for the session's life.
  virtual uint64_t Id() const = 0;
  // The upgrade request (path, query, headers, path params; no body).
  virtual const Request& UpgradeRequest() const = 0;
  // Messages dropped from this session's queue so far.
  virtual uint64_t Dropped() const = 0;
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnOpen(const std::shared_ptr<WebSocketSession>& session) = 0;
  virtual void OnMessage(const std::shared_ptr<WebSocketSession>& session, std::string_view text) = 0;
  virtual void OnClose(const std::shared_ptr<WebSocketSession>& session) = 0;
};

}  // namespace threatd::http
