// HttpConnection: one accepted TCP connection speaking HTTP/1.1.
//
// A state machine on the connection's strand: read header -> route ->
// (authenticate on a worker) -> read or stream the body -> run the handler
// (worker, or inline on the strand) -> write -> next request or close.
// Upgrades hand the socket to a WsConnection.
//
// Ownership: kept alive by shared_ptrs held in pending operations and tasks.
// Thread-safety: all members are touched only on the strand, except req_
// and route_, which a worker task uses while the strand waits for it.
// Internal to the http component.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/request.h"
#include "http/router.h"
#include "http/server_state.h"
#include "http/streamed_body.h"

namespace threatd::http {

class HttpConnection final : public Connection, public std::enable_shared_from_this<HttpConnection> {
 public:
  // How long a connection answered before its body was read keeps draining it.
  static constexpr std::chrono::milliseconds kLingerTime{2000};
  // Socket read size while streaming a body (Beast reads at most 64 kB).
  static constexpr size_t kStreamReadBytes = 64 * 1024;

  HttpConnection(ServerState& state, boost::asio::ip::tcp::socket socket, std::unique_ptr<ConnectionSlot> slot);
  ~HttpConnection() override;

  void Start();
  void Shutdown(bool force) override;

  // Answers 503 (connection cap) on a socket we will not serve, then closes.
  static void Reject(ServerState& state, boost::asio::ip::tcp::socket socket);

 private:
  enum class Phase { kIdle, kBusy, kClosed };

  void DoReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void RouteRequest();
  void HandleUpgrade();
  void Upgrade();
  void AfterAuth();
  void StartBody();
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void StartStreaming();
  void ReadStreamChunk();
  void OnStreamChunk(boost::beast::error_code ec);
  void Dispatch();
  Response RunHandler();
  Status Authenticate(Role min_role, bool allow_query_key);
  void RespondError(const Status& status, bool close);
  void Write(Response response);
  void OnWrite(boost::beast::error_code ec);
  void Linger();
  void Close();
  void Post(std::function<void()> fn);

  ServerState& state_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<ConnectionSlot> slot_;
  const uint64_t id_;
  std::string remote_;

  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> header_parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> body_parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::buffer_body>> stream_parser_;
  std::shared_ptr<StreamedBody> streamed_;
  std::unique_ptr<char[]> chunk_;
  size_t chunk_filled_ = 0;  // bytes of chunk_ read but not yet handed to streamed_
  bool stream_read_pending_ = false;
  bool discarding_ = false;

  Request req_;
  RouteMatch match_;
  const Route* route_ = nullptr;
  const WebSocketRoute* ws_route_ = nullptr;
  RouteStats* route_stats_ = nullptr;
  size_t body_limit_ = 0;
  std::string out_;
  std::string cors_origin_;
  Phase phase_ = Phase::kIdle;
  bool keep_alive_ = true;
  bool head_ = false;
  bool linger_ = false;
  bool stop_after_response_ = false;
  size_t requests_served_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace threatd::http
