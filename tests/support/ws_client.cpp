#include "support/ws_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>

namespace threatd::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context ioc;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> messages;
  bool read_pending = false;
  beast::error_code read_error;
  bool got_pong = false;
  bool got_ping = false;
  int handshake_status = 0;
  std::chrono::milliseconds timeout{10000};

  void StartRead() {
    if (read_pending || read_error || !ws) return;
    read_pending = true;
    ws->async_read(buffer, [this](beast::error_code ec, size_t) {
      read_pending = false;
      if (ec) {
        read_error = ec;
        return;
      }
      messages.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    });
  }

  // Keeps a read outstanding and runs the loop until `done()` or the deadline.
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (read_error) return done();
      StartRead();
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      ioc.restart();
      ioc.run_one_for(deadline - now);
    }
    return true;
  }

  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    bool finished = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      finished = true;
    });
    RunUntil([&] { return finished; }, timeout);
    return finished ? result : beast::error_code(beast::error::timeout);
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;
WsClient::WsClient(WsClient&&) noexcept = default;
WsClient& WsClient::operator=(WsClient&&) noexcept = default;

Status WsClient::Connect(const std::string& host, uint16_t port, const std::string& target, WsConnectOptions options) {
  Impl& s = *impl_;
  s.timeout = options.timeout;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("bad host " + host);
  s.ws.emplace(s.ioc);
  auto& socket = beast::get_lowest_layer(*s.ws).socket();
  socket.open(tcp::v4(), ec);
  if (!ec && options.receive_buffer_bytes > 0) {
    socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer_bytes), ec);
  }
  if (ec) return Status::Unavailable("socket setup failed: " + ec.message());
  beast::get_lowest_layer(*s.ws).expires_after(options.timeout);
  bool done = false;
  socket.async_connect(tcp::endpoint(address, port), [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  s.ioc.restart();
  s.ioc.run();
  if (!done || ec) return Status::Unavailable("connect failed: " + ec.message());
  beast::get_lowest_layer(*s.ws).expires_never();
  s.ws->set_option(websocket::stream_base::decorator([headers = options.headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  s.ws->control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) impl_->got_pong = true;
    if (kind == websocket::frame_type::ping) impl_->got_ping = true;
  });
  websocket::response_type res;
  beast::get_lowest_layer(*s.ws).expires_after(options.timeout);
  ec = {};
  done = false;
  s.ws->async_handshake(res, host + ":" + std::to_string(port), target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  s.ioc.restart();
  s.ioc.run();
  s.handshake_status = static_cast<int>(res.result_int());
  if (!done || ec) {
    s.ws.reset();
    return Status::Unavailable("WebSocket handshake failed with HTTP " + std::to_string(s.handshake_status) + ": " +
                               ec.message());
  }
  beast::get_lowest_layer(*s.ws).expires_never();
  return Status::Ok();
}

int WsClient::handshake_status() const { return impl_->handshake_status; }

Status WsClient::Send(std::string_view text) {
  if (!impl_->ws) return Status::Unavailable("not connected");
  impl_->ws->text(true);
  auto ec = impl_->Run([&](auto handler) { impl_->ws->async_write(asio::buffer(text.data(), text.size()), handler); });
  if (ec) return Status::Unavailable("send failed: " + ec.message());
  return Status::Ok();
}

Result<std::string> WsClient::Receive(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.ws) return Status::Unavailable("not connected");
  s.RunUntil([&] { return !s.messages.empty(); }, timeout);
  if (!s.messages.empty()) {
    std::string m = std::move(s.messages.front());
    s.messages.pop_front();
    return m;
  }
  if (s.read_error) return Status::Unavailable("connection closed: " + s.read_error.message());
  return Status::Timeout("no message within " + std::to_string(timeout.count()) + " ms");
}

Status WsClient::Ping(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.ws) return Status::Unavailable("not connected");
  s.got_pong = false;
  auto ec = s.Run([&](auto handler) { s.ws->async_ping({}, handler); });
  if (ec) return Status::Unavailable("ping failed: " + ec.message());
  if (!s.RunUntil([&] { return s.got_pong; }, timeout)) return Status::Timeout("no pong");
  return Status::Ok();
}

Status WsClient::WaitForServerPing(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.ws) return Status::Unavailable("not connected");
  s.got_ping = false;
  if (!s.RunUntil([&] { return s.got_ping; }, timeout)) return Status::Timeout("no ping from the server");
  return Status::Ok();
}

Status WsClient::WaitForClose(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.ws) return Status::Ok();
  if (!s.RunUntil([&] { return static_cast<bool>(s.read_error); }, timeout)) {
    return Status::Timeout("the server did not close the connection");
  }
  return Status::Ok();
}

Status WsClient::Close() {
  Impl& s = *impl_;
  if (!s.ws || s.read_error) return Status::Ok();
  auto ec = s.Run([&](auto handler) { s.ws->async_close(websocket::close_code::normal, handler); });
  if (ec) return Status::Unavailable("close failed: " + ec.message());
  return Status::Ok();
}

uint16_t WsClient::close_code() const { return impl_->ws ? static_cast<uint16_t>(impl_->ws->reason().code) : 0; }

bool WsClient::is_open() const { return impl_->ws && !impl_->read_error && impl_->ws->is_open(); }

}  // namespace threatd::testing
