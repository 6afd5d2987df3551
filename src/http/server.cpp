#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <thread>

#include "common/thread_name.h"
#include "http/http_connection.h"
#include "http/server_state.h"

namespace threatd::http {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;

struct Server::Impl {
  Impl(ServerOptions o, Router& r, metrics::Registry& reg, Authenticator a)
      : options(std::move(o)), router(r), registry(reg), authenticator(std::move(a)) {}

  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket);

  ServerOptions options;
  Router& router;
  metrics::Registry& registry;
  Authenticator authenticator;

  // Declaration order matters for destruction: the io_context (and with it
  // every connection) must go before the state the connections point to.
  std::unique_ptr<asio::thread_pool> workers;
  std::unique_ptr<ServerState> state;
  std::unique_ptr<asio::io_context> ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

void Server::Impl::DoAccept() {
  acceptor->async_accept(asio::make_strand(*ioc), [this](boost::system::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
  if (ec) {
    // EMFILE and friends: keep accepting; the log says what to raise.
    spdlog::warn("accept failed: {} (check the open-files limit)", ec.message());
    return DoAccept();
  }
  if (state->stopping.load()) return;
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (state->active.load() >= options.max_connections) {
    HttpConnection::Reject(*state, std::move(socket));
  } else {
    auto slot = std::make_unique<ConnectionSlot>(*state);
    std::make_shared<HttpConnection>(*state, std::move(socket), std::move(slot))->Start();
  }
  DoAccept();
}

Server::Server(ServerOptions options, Router& router, metrics::Registry& registry, Authenticator authenticator)
    : impl_(std::make_unique<Impl>(std::move(options), router, registry, std::move(authenticator))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  Impl& s = *impl_;
  if (s.started) return Status::Internal("http server already started", "a Server can be started once");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) {
    return Status::InvalidArgument("http.host '" + s.options.host + "' is not an IP address",
                                   "use e.g. 127.0.0.1, 0.0.0.0 or ::1");
  }
  const int io_threads = static_cast<int>(std::max<size_t>(1, s.options.io_threads));
  s.workers = std::make_unique<asio::thread_pool>(std::max<size_t>(1, s.options.worker_threads));
  s.ioc = std::make_unique<asio::io_context>(io_threads);
  s.state = std::make_unique<ServerState>(s.options, s.router, s.registry, s.authenticator, *s.ioc, *s.workers);
  for (const auto& route : s.router.routes()) {
    s.state->stats.routes.push_back(std::make_unique<RouteStats>(s.registry, route->pattern));
  }
  for (const auto& route : s.router.websocket_routes()) {
    s.state->stats.websocket_routes.push_back(std::make_unique<RouteStats>(s.registry, route->pattern));
  }

  const std::string where = s.options.host + ":" + std::to_string(s.options.port);
  s.acceptor.emplace(asio::make_strand(*s.ioc));
  const tcp::endpoint endpoint(address, s.options.port);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (ec == asio::error::address_in_use) {
    s.acceptor.reset();
    return Status::Unavailable("cannot listen on " + where + ": the port is already in use",
                               "stop the other process or choose another port (http.port)");
  }
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    s.acceptor.reset();
    return Status::Unavailable("cannot listen on " + where + ": " + ec.message(),
                               "check http.host and http.port and the process's permissions");
  }
  s.port = s.acceptor->local_endpoint().port();
  s.started = true;
  s.work.emplace(s.ioc->get_executor());
  s.DoAccept();
  for (int i = 0; i < io_threads; ++i) s.threads.emplace_back([ioc = s.ioc.get()] {
      NameThisThread("http-io");
      ioc->run();
    });
  spdlog::info("http server listening on {}:{}", s.options.host, s.port);
  return Status::Ok();
}

uint16_t Server::Port() const { return impl_->port; }

void Server::Stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  ServerState& state = *s.state;
  state.stopping.store(true);

  // 1. Refuse new connections.
  std::promise<void> closed;
  asio::post(s.acceptor->get_executor(), [&] {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();

  // 2. Close idle connections; busy ones close after their response.
  state.ShutdownAll(false);
  auto drained = [&state] { return state.active.load() == 0; };
  {
    std::unique_lock lock(state.mu);
    state.drained.wait_for(lock, s.options.shutdown_grace, drained);
  }
  // 3. Whatever is left after the grace period is cut off.
  if (!drained()) {
    spdlog::warn("http server: {} connection(s) still open after {} ms, closing them", state.active.load(),
                 s.options.shutdown_grace.count());
    state.ShutdownAll(true);
    std::unique_lock lock(state.mu);
    state.drained.wait_for(lock, std::chrono::seconds(1), drained);
  }
  // 4. Handlers still running finish (their connections are gone), then the loops stop.
  s.workers->join();
  s.work.reset();
  s.ioc->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.acceptor.reset();
  s.ioc.reset();  // destroys pending handlers and the connections they hold
  spdlog::info("http server on port {} stopped", s.port);
}

size_t Server::ActiveConnections() const { return impl_->state ? impl_->state->active.load() : 0; }

size_t Server::WebSocketConnections() const { return impl_->state ? impl_->state->websockets.load() : 0; }

}  // namespace threatd::http
