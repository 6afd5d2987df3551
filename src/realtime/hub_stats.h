// HubStats: the /ws/realtime hub's counters, exported to /metrics.
//
// threatd_ws_connections                      authenticated clients
// threatd_ws_messages_sent_total              messages handed to sessions
// threatd_ws_messages_dropped_total           messages a client never got (queue full)
// threatd_ws_predictions_coalesced_total      predictions not sent (per-client rate limit)
// threatd_ws_clients_disconnected_total{reason}  slow|auth_failed|auth_timeout|client
//
// Thread-safety: atomics only; the references live as long as the registry.
#pragma once

#include "common/metrics.h"

namespace threatd::realtime {

struct HubStats {
  explicit HubStats(metrics::Registry& registry);

  metrics::Gauge& connections;
  metrics::Counter& sent;
  metrics::Counter& dropped;
  metrics::Counter& coalesced;
  metrics::Counter& disconnected_slow;
  metrics::Counter& disconnected_auth_failed;
  metrics::Counter& disconnected_auth_timeout;
  metrics::Counter& disconnected_client;
};

}  // namespace threatd::realtime
