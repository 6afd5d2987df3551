#include "http/ws_connection.h"

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include "common/log.h"

namespace threatd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

WsConnection::WsConnection(ServerState& state, beast::tcp_stream stream, std::unique_ptr<ConnectionSlot> slot,
                           Request upgrade, std::shared_ptr<WebSocketHandler> handler)
    : state_(state),
      ws_(std::move(stream)),
      slot_(std::move(slot)),
      request_(std::move(upgrade)),
      handler_(std::move(handler)),
      id_(state.next_id.fetch_add(1)) {}

WsConnection::~WsConnection() { state_.Unregister(id_); }

void WsConnection::Post(std::function<void()> fn) { asio::post(ws_.get_executor(), std::move(fn)); }

void WsConnection::Start(beast::http::request<beast::http::empty_body> request) {
  state_.Register(id_, weak_from_this());
  beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts below take over
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  // Beast pings after half the idle timeout without traffic and closes after the whole.
  timeouts.idle_timeout = state_.options.ws_ping_interval * 2;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(state_.options.ws_max_message_bytes);
  const std::string request_id = request_.request_id;
  ws_.set_option(websocket::stream_base::decorator([request_id](websocket::response_type& res) {
    res.set("X-Request-Id", request_id);
    res.set("X-Content-Type-Options", "nosniff");
  }));
  auto self = shared_from_this();
  auto req = std::make_shared<beast::http::request<beast::http::empty_body>>(std::move(request));
  ws_.async_accept(*req, [self, req](beast::error_code ec) { self->OnAccept(ec); });
}

void WsConnection::OnAccept(beast::error_code ec) {
  if (ec) return Finish();
  opened_ = true;
  state_.websockets.fetch_add(1);
  state_.stats.websocket_active.Add(1);
  if (state_.stopping.load()) Shutdown(false);
  auto self = shared_from_this();
  try {
    log::ScopedRequestId scoped(request_.request_id);
    handler_->OnOpen(self);
  } catch (const std::exception& e) {
    spdlog::error("WebSocket OnOpen for {} threw: {}", request_.path, e.what());
    return ForceClose();
  }
  DoRead();
}

void WsConnection::DoRead() {
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void WsConnection::OnRead(beast::error_code ec) {
  if (ec) return Finish();
  if (ws_.got_text()) {
    const std::string text = beast::buffers_to_string(read_buffer_.data());
    try {
      handler_->OnMessage(shared_from_this(), text);
    } catch (const std::exception& e) {
      spdlog::error("WebSocket OnMessage for {} threw: {}", request_.path, e.what());
    }
  }
  read_buffer_.consume(read_buffer_.size());
  DoRead();
}

bool WsConnection::Send(std::string text) {
  bool start = false;
  bool kick = false;
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    const size_t limit = std::max<size_t>(1, state_.options.ws_send_queue_limit);
    if (queue_.size() >= limit) {
      queue_.pop_front();
      dropped_.fetch_add(1, std::memory_order_relaxed);
      state_.stats.websocket_dropped.Inc();
      const auto now = std::chrono::steady_clock::now();
      if (!full_since_) {
        full_since_ = now;
      } else if (now - *full_since_ > state_.options.ws_slow_client_timeout) {
        kick = true;
      }
    }
    queue_.push_back(std::move(text));
    if (!writing_) writing_ = start = true;
  }
  if (kick) {
    spdlog::warn("disconnecting slow WebSocket client {} on {}: send queue full for more than {} ms", id_,
                 request_.path, state_.options.ws_slow_client_timeout.count());
    Post([self = shared_from_this()] { self->ForceClose(); });
  } else if (start) {
    Post([self = shared_from_this()] { self->DoWrite(); });
  }
  return true;
}

void WsConnection::DoWrite() {
  bool idle = false;
  bool more = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty() || finished_) {
      writing_ = false;
      idle = true;
    } else {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      more = !queue_.empty();
      full_since_.reset();  // the client is making progress
    }
  }
  // The socket options are set outside the lock that Send() takes; corked_ is
  // the strand's, and a DoWrite that Send() posts meanwhile runs after this.
  if (idle) {
    if (corked_ && !finished_) Cork(false);  // sends what the burst left in the socket
    return;
  }
  if (more && !corked_) Cork(true);
  ws_.text(true);
  ws_.async_write(asio::buffer(current_), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Finish();
    self->DoWrite();
  });
}

void WsConnection::Cork(bool on) {
  // TCP_CORK holds partial segments while a burst is written; clearing it
  // sends them at once. A failure only costs the saving, never a message.
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().set_option(asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_CORK>(on),
                                                   ignored);
  corked_ = on;
}

void WsConnection::Close(uint16_t code, std::string reason) {
  if (reason.size() > 123) reason.resize(123);  // the close frame's limit (125 minus the code)
  Post([self = shared_from_this(), code, reason = std::move(reason)] {
    if (self->finished_ || self->close_started_ || !self->opened_) return;
    self->close_started_ = true;
    self->ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason), [self](beast::error_code) {});
  });
}

void WsConnection::Shutdown(bool force) {
  Post([self = shared_from_this(), force] {
    if (self->finished_) return;
    if (force || !self->opened_) return self->ForceClose();
    if (self->close_started_) return;
    self->close_started_ = true;
    self->ws_.async_close(websocket::close_code::going_away, [self](beast::error_code) {});
  });
}

void WsConnection::ForceClose() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).socket().close(ignored);
  Finish();
}

void WsConnection::Finish() {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  if (opened_) {
    state_.websockets.fetch_sub(1);
    state_.stats.websocket_active.Add(-1);
    try {
      handler_->OnClose(shared_from_this());
    } catch (const std::exception& e) {
      spdlog::error("WebSocket OnClose for {} threw: {}", request_.path, e.what());
    }
  }
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  state_.Unregister(id_);
  slot_.reset();
}

}  // namespace threatd::http
