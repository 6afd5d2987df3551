#include "realtime/hub_stats.h"

namespace threatd::realtime {
namespace {

constexpr const char* kDisconnected = "threatd_ws_clients_disconnected_total";
constexpr const char* kDisconnectedHelp = "WebSocket clients disconnected by the realtime hub, by reason";

}  // namespace

HubStats::HubStats(metrics::Registry& r)
    : connections(r.GetGauge("threatd_ws_connections", "Authenticated /ws/realtime clients")),
      sent(r.GetCounter("threatd_ws_messages_sent_total", "Messages handed to /ws/realtime clients")),
      dropped(r.GetCounter("threatd_ws_messages_dropped_total",
                           "Messages /ws/realtime clients never got because their queue was full")),
      coalesced(r.GetCounter("threatd_ws_predictions_coalesced_total",
                             "Predictions not sent because a client's rate limit was reached")),
      disconnected_slow(r.GetCounter(kDisconnected, kDisconnectedHelp, {{"reason", "slow"}})),
      disconnected_auth_failed(r.GetCounter(kDisconnected, kDisconnectedHelp, {{"reason", "auth_failed"}})),
      disconnected_auth_timeout(r.GetCounter(kDisconnected, kDisconnectedHelp, {{"reason", "auth_timeout"}})),
      disconnected_client(r.GetCounter(kDisconnected, kDisconnectedHelp, {{"reason", "client"}})) {}

}  // namespace threatd::realtime
