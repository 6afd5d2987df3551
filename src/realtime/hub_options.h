// HubOptions: the knobs of the /ws/realtime hub, with their defaults.
//
// The `realtime:` configuration section maps onto these fields
// (HubOptionsFromConfig). realtime.client_queue is not here: the per-client
// bounded queue (drop-oldest) is the WebSocket session's own send queue, so
// the app sets http::ServerOptions::ws_send_queue_limit from it.
// Thread-safety: a plain value, copied into the hub at construction.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

#include "config/options.h"

namespace threatd::realtime {

struct HubOptions {
  // stats_update broadcast period (skipped while no client is connected).
  std::chrono::milliseconds stats_interval{5000};
  // {"type":"ping"} broadcast period.
  std::chrono::milliseconds ping_interval{30000};
  // A client that is not authenticated this long after connecting is closed.
  std::chrono::milliseconds auth_timeout{5000};
  // A client whose messages keep being dropped this long is disconnected.
  std::chrono::milliseconds max_lag{30000};
  // Per client; predictions beyond it are coalesced (counted, not sent). 0 = unlimited.
  size_t max_predictions_per_second = 500;
  // Messages waiting for the fan-out thread; beyond it the oldest are dropped.
  size_t fanout_queue = 16384;
};

inline HubOptions HubOptionsFromConfig(const config::RealtimeSection& s) {
  HubOptions o;
  o.stats_interval = s.stats_interval;
  o.ping_interval = s.ping_interval;
  o.max_lag = s.max_lag;
  o.max_predictions_per_second = static_cast<size_t>(std::max(0, s.max_predictions_per_second));
  return o;
}

}  // namespace threatd::realtime
