// RealtimeHub: the /ws/realtime endpoint. It sees every stored batch of the
// pipeline and publishes it to the connected, authenticated WebSocket clients:
//
//   prediction     one per stored flow (the original's shape + model versions)
//   action         one per flow with a self-healing action
//   stats_update   every stats_interval (and on {"type":"request_stats"}); the
//                  stats come from the injected StatsQuery; adds "coalesced"
//                  and "dropped" when this client missed messages since its
//                  previous stats_update
//   ping           every ping_interval ({"type":"ping","timestamp"})
//   <type>         anything Publish()ed, e.g. batch_progress
// Client -> hub: {"type":"auth","api_key"}, ping (-> pong), request_stats.
//
// Authentication: an API key of role viewer or above, either checked by the
// HTTP server at the upgrade (Authorization header or ?api_key=), or given as
// ?token=, or as the first message {"type":"auth","api_key":"..."} within
// auth_timeout. Until then a client gets only errors; a wrong key gets an
// error and the connection is closed.
//
// Slow clients never slow the pipeline: OnStored formats each message once
// (nothing at all when no client is authenticated) and hands the batch to the
// hub's fan-out thread. That thread applies each client's prediction rate
// limit (the excess is coalesced: counted, not sent) and Send()s to the
// session, whose bounded queue drops the oldest message when full. A client
// that keeps dropping for max_lag is disconnected.
//
// Threads: Start() runs a fan-out thread (delivery, lag checks) and a control
// thread (timers, API-key checks, stats queries - the blocking work), so no
// I/O thread and no pipeline thread ever blocks on the database.
// Ownership: references to the key service, clock and registry, which must
// outlive the hub; the hub must outlive the HTTP server and be removed from
// the pipeline (or the pipeline stopped) before it dies.
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/api_key_service.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "http/websocket.h"
#include "pipeline/pipeline.h"
#include "realtime/hub_options.h"

namespace threatd::realtime {

// The prediction statistics (the REST .../predictions/stats body). Runs on
// the hub's control thread; may block on the database.
using StatsQuery = std::function<Result<nlohmann::json>()>;

class RealtimeHub final : public pipeline::PipelineObserver, public http::WebSocketHandler {
 public:
  RealtimeHub(HubOptions options, auth::ApiKeyService& keys, StatsQuery stats, Clock& clock,
              metrics::Registry& registry);
  ~RealtimeHub() override;  // Stop()
  RealtimeHub(const RealtimeHub&) = delete;
  RealtimeHub& operator=(const RealtimeHub&) = delete;

  // Starts the fan-out and control threads. Idempotent.
  void Start();
  // Stops the threads; queued messages are discarded, sessions stay open
  // (the HTTP server closes them). Idempotent.
  void Stop();

  // pipeline::PipelineObserver: never blocks (a short mutex at most).
  void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) override;

  // Sends {"type":type,"timestamp":now,"data":data} to every authenticated
  // client, in order with the predictions. Never blocks.
  void Publish(std::string_view type, const nlohmann::json& data);

  // Authenticated clients.
  size_t Connections() const;
  // {"status":"ok|degraded|disabled","connections","dropped","coalesced"[,"last_error"]}:
  // degraded while the stats query fails, disabled before Start().
  nlohmann::json HealthCheck() const;

  // http::WebSocketHandler (I/O threads; never block).
  void OnOpen(const std::shared_ptr<http::WebSocketSession>& session) override;
  void OnMessage(const std::shared_ptr<http::WebSocketSession>& session, std::string_view text) override;
  void OnClose(const std::shared_ptr<http::WebSocketSession>& session) override;

  struct Impl;  // hub_impl.h

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::realtime
