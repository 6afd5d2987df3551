// ServerState: what connections share with the Server that accepted them.
//
// Lives inside Server::Impl and outlives every connection (Stop() destroys
// the io_context, and with it any connection, before destroying this).
// Thread-safety: immutable members plus atomics and a mutex-guarded registry
// of live connections (used by Stop() to close them).
// Internal to the http component.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/http_stats.h"
#include "http/response_writer.h"
#include "http/router.h"
#include "http/server.h"
#include "http/server_options.h"

namespace threatd::http {

// A live connection the server can ask to go away.
class Connection {
 public:
  virtual ~Connection() = default;
  // Posts to the connection's strand. force=false: close if idle, otherwise
  // close after the in-flight response; force=true: close the socket now.
  virtual void Shutdown(bool force) = 0;
};

struct ServerState {
  ServerState(ServerOptions o, const Router& r, metrics::Registry& registry, Authenticator a,
              boost::asio::io_context& io, boost::asio::thread_pool& pool)
      : options(std::move(o)), router(r), stats(registry), authenticator(std::move(a)), cors(options.cors_origins),
        ioc(io), workers(pool) {}

  const ServerOptions options;
  const Router& router;
  HttpStats stats;
  const Authenticator authenticator;
  const CorsPolicy cors;
  boost::asio::io_context& ioc;
  boost::asio::thread_pool& workers;

  std::atomic<bool> stopping{false};
  std::atomic<size_t> active{0};
  std::atomic<size_t> websockets{0};
  std::atomic<uint64_t> next_id{1};

  std::mutex mu;
  std::condition_variable drained;  // notified when `active` drops
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mu

  void Register(uint64_t id, std::weak_ptr<Connection> c) {
    std::lock_guard lock(mu);
    connections[id] = std::move(c);
  }
  void Unregister(uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
  }
  void ShutdownAll(bool force) {
    std::vector<std::shared_ptr<Connection>> live;
    {
      std::lock_guard lock(mu);
      for (auto& [id, weak] : connections)
        if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    for (auto& c : live) c->Shutdown(force);
  }
};

// Counts one open connection for max_connections and the gauge; moves from
// the HTTP connection to the WebSocket session on upgrade.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(ServerState& s) : state_(s) {
    state_.active.fetch_add(1);
    state_.stats.connections_active.Add(1);
  }
  ~ConnectionSlot() {
    state_.stats.connections_active.Add(-1);
    {
      std::lock_guard lock(state_.mu);
      state_.active.fetch_sub(1);
    }
    state_.drained.notify_all();
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  ServerState& state_;
};

}  // namespace threatd::http
