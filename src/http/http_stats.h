// HttpStats: the server's metrics, obtained from the Registry once.
//
// Metric names are part of the API (dashboards and alerts use them):
//   http_requests_total{route,method,status}   route = pattern, "unmatched" for 404/405
//   http_request_duration_seconds{route}       histogram
//   http_connections_active                    gauge (HTTP + WebSocket)
//   http_connections_rejected_total            over max_connections
//   websocket_connections_active               gauge
//   websocket_messages_dropped_total           drop-oldest on a full client queue
//
// The hot path touches only atomics: per route a small lock-free cache maps
// (method, status) to its Counter; the Registry is consulted once per new pair.
// Thread-safety: all members are safe for concurrent use.
// Internal to the http component.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "http/method.h"

namespace threatd::http {

class RouteStats {
 public:
  RouteStats(metrics::Registry& registry, std::string route);
  void Record(Method method, int status, double seconds);

 private:
  static constexpr size_t kSlots = 32;
  struct Slot {
    std::atomic<uint32_t> key{0};  // 0 = empty; else (method + 1) << 16 | status
    std::atomic<metrics::Counter*> counter{nullptr};
  };
  metrics::Counter& Lookup(Method method, int status);

  metrics::Registry& registry_;
  std::string route_;
  metrics::Histogram& duration_;
  std::array<Slot, kSlots> slots_;
};

struct HttpStats {
  explicit HttpStats(metrics::Registry& registry);

  metrics::Registry& registry;
  metrics::Gauge& connections_active;
  metrics::Counter& connections_rejected;
  metrics::Gauge& websocket_active;
  metrics::Counter& websocket_dropped;
  RouteStats unmatched;
  std::vector<std::unique_ptr<RouteStats>> routes;            // by Route::index
  std::vector<std::unique_ptr<RouteStats>> websocket_routes;  // by WebSocketRoute::index (status 101)
};

}  // namespace threatd::http
