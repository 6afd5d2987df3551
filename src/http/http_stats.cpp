#include "http/http_stats.h"

namespace threatd::http {

RouteStats::RouteStats(metrics::Registry& registry, std::string route)
    : registry_(registry),
      route_(std::move(route)),
      duration_(registry.GetHistogram("http_request_duration_seconds", "HTTP request latency by route pattern",
                                      {{"route", route_}})) {}

metrics::Counter& RouteStats::Lookup(Method method, int status) {
  const uint32_t key = (static_cast<uint32_t>(method) + 1) << 16 | static_cast<uint32_t>(status & 0xFFFF);
  for (Slot& slot : slots_) {
    uint32_t k = slot.key.load(std::memory_order_acquire);
    if (k == key) {
      if (metrics::Counter* c = slot.counter.load(std::memory_order_acquire)) return *c;
      break;  // another thread is filling this slot; use the registry meanwhile
    }
    if (k == 0) {
      metrics::Counter& c = registry_.GetCounter(
          "http_requests_total", "HTTP requests by route pattern, method and status",
          {{"route", route_}, {"method", std::string(MethodName(method))}, {"status", std::to_string(status)}});
      if (slot.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) {
        slot.counter.store(&c, std::memory_order_release);
      }
      return c;
    }
  }
  // Cache full (unusual statuses): the registry is the source of truth anyway.
  return registry_.GetCounter(
      "http_requests_total", "HTTP requests by route pattern, method and status",
      {{"route", route_}, {"method", std::string(MethodName(method))}, {"status", std::to_string(status)}});
}

void RouteStats::Record(Method method, int status, double seconds) {
  Lookup(method, status).Inc();
  duration_.Observe(seconds);
}

HttpStats::HttpStats(metrics::Registry& r)
    : registry(r),
      connections_active(r.GetGauge("http_connections_active", "Open HTTP and WebSocket connections")),
      connections_rejected(r.GetCounter("http_connections_rejected_total",
                                        "Connections refused with 503 because max_connections was reached")),
      websocket_active(r.GetGauge("websocket_connections_active", "Open WebSocket connections")),
      websocket_dropped(r.GetCounter("websocket_messages_dropped_total",
                                     "WebSocket messages dropped because a client's send queue was full")),
      unmatched(r, "unmatched") {}

}  // namespace threatd::http
