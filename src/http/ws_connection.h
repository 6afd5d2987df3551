// WsConnection: one upgraded WebSocket connection (the WebSocketSession
// handed to WebSocketHandler callbacks).
//
// Reads run in a loop on the connection's strand and call the handler;
// Send() appends to a bounded, mutex-guarded queue (drop-oldest) that a
// single write loop on the strand drains, so a slow peer only fills its own
// queue. While more than one message waits, the socket is corked (TCP_CORK),
// so a burst leaves in full segments, not one segment per message. Beast
// answers client pings and sends keep-alive pings (ws_ping_interval) and
// closes peers that stay silent for two intervals.
//
// Ownership: shared_ptr, kept alive by pending operations and by whoever
// holds the session (handlers usually keep a set of them).
// Thread-safety: the WebSocketSession members are thread-safe; the rest runs
// on the strand.
// Internal to the http component.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http/server_state.h"
#include "http/websocket.h"

namespace threatd::http {

class WsConnection final : public WebSocketSession,
                           public Connection,
                           public std::enable_shared_from_this<WsConnection> {
 public:
  WsConnection(ServerState& state, boost::beast::tcp_stream stream, std::unique_ptr<ConnectionSlot> slot,
               Request upgrade, std::shared_ptr<WebSocketHandler> handler);
  ~WsConnection() override;

  // Completes the handshake for `request`, then starts reading.
  void Start(boost::beast::http::request<boost::beast::http::empty_body> request);

  bool Send(std::string text) override;
  using WebSocketSession::Close;
  void Close(uint16_t code, std::string reason) override;
  const std::optional<threatd::Principal>& Principal() const override { return request_.principal; }
  uint64_t Id() const override { return id_; }
  const Request& UpgradeRequest() const override { return request_; }
  uint64_t Dropped() const override { return dropped_.load(std::memory_order_relaxed); }

  void Shutdown(bool force) override;

 private:
  void OnAccept(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec);
  void DoWrite();
  void Cork(bool on);
  void ForceClose();
  void Finish();
  void Post(std::function<void()> fn);

  ServerState& state_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::unique_ptr<ConnectionSlot> slot_;
  const Request request_;
  const std::shared_ptr<WebSocketHandler> handler_;
  const uint64_t id_;
  boost::beast::flat_buffer read_buffer_;
  std::string current_;  // the message being written (strand only)

  mutable std::mutex mu_;
  std::deque<std::string> queue_;  // guarded by mu_
  bool writing_ = false;           // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> full_since_;  // guarded by mu_
  std::atomic<uint64_t> dropped_{0};

  bool opened_ = false;         // strand only
  bool finished_ = false;       // strand only
  bool close_started_ = false;  // strand only
  bool corked_ = false;         // strand only: TCP_CORK is set while a burst is written
};

}  // namespace threatd::http
