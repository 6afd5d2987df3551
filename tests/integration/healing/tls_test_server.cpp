#include "integration/healing/tls_test_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <thread>

namespace threatd::healing::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

struct TlsTestServer::Impl {
  std::string cert_file;
  std::string key_file;
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread thread;
  std::atomic<int> connections{0};
  std::atomic<int> requests{0};
  mutable std::mutex mu;
  std::vector<std::string> bodies;

  // One connection: handshake, one request, one response, close.
  struct Session : std::enable_shared_from_this<Session> {
    Session(Impl* owner, tcp::socket socket) : impl(owner), stream(std::move(socket), owner->ctx) {}
    Impl* impl;
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    bhttp::response<bhttp::string_body> res;

    void Run() {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
      stream.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->Read();
      });
    }
    void Read() {
      bhttp::async_read(stream, buffer, req, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (!ec) self->Respond();
      });
    }
    void Respond() {
      {
        std::lock_guard lock(impl->mu);
        impl->bodies.push_back(req.body());
      }
      ++impl->requests;
      res.result(bhttp::status::ok);
      res.version(11);
      res.set(bhttp::field::content_type, "application/json");
      res.keep_alive(false);
      res.body() = R"({"ok": true})";
      res.prepare_payload();
      bhttp::async_write(stream, res, [self = shared_from_this()](beast::error_code, size_t) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    }
  };

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // stopped
      ++connections;
      std::make_shared<Session>(this, std::move(socket))->Run();
      Accept();
    });
  }
};

TlsTestServer::TlsTestServer(std::string cert_file, std::string key_file) : impl_(std::make_unique<Impl>()) {
  impl_->cert_file = std::move(cert_file);
  impl_->key_file = std::move(key_file);
}

TlsTestServer::~TlsTestServer() { Stop(); }

Status TlsTestServer::Start() {
  beast::error_code ec;
  impl_->ctx.use_certificate_chain_file(impl_->cert_file, ec);
  if (!ec) impl_->ctx.use_private_key_file(impl_->key_file, ssl::context::pem, ec);
  if (ec) return Status::Internal("loading the test certificate failed: " + ec.message());
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Internal("binding the TLS test server failed: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return Status::Ok();
}

void TlsTestServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->ioc.stop();
  impl_->thread.join();
}

uint16_t TlsTestServer::Port() const { return impl_->port; }
int TlsTestServer::Connections() const { return impl_->connections.load(); }
int TlsTestServer::Requests() const { return impl_->requests.load(); }
std::vector<std::string> TlsTestServer::Bodies() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bodies;
}

}  // namespace threatd::healing::testing
