// RealtimeHub fan-out thread: takes formatted batches off the queue and hands
// each message to every recipient's session (whose bounded queue drops the
// oldest when full), applying the per-client prediction rate limit and
// disconnecting clients that keep dropping for max_lag.
#include <spdlog/spdlog.h>

#include "realtime/hub_impl.h"
#include "realtime/messages.h"

namespace threatd::realtime {

void RealtimeHub::Impl::Enqueue(std::shared_ptr<const MessageBatch> batch) {
  size_t lost = 0;
  {
    std::lock_guard lock(fan_mu);
    if (fan_stop) return;
    fan_pending += batch->size();
    fan_queue.push_back(std::move(batch));
    // The fan-out thread is behind: drop the oldest batches, never block the caller.
    while (fan_pending > options.fanout_queue && fan_queue.size() > 1) {
      lost += fan_queue.front()->size();
      fan_pending -= fan_queue.front()->size();
      fan_queue.pop_front();
    }
  }
  fan_cv.notify_one();
  if (lost > 0) {
    const uint64_t n = lost * authenticated.load();
    stats.dropped.Inc(n);
    dropped_total.fetch_add(n);
  }
}

void RealtimeHub::Impl::FanOutLoop() {
  for (;;) {
    std::shared_ptr<const MessageBatch> batch;
    {
      std::unique_lock lock(fan_mu);
      fan_cv.wait(lock, [&] { return fan_stop || !fan_queue.empty(); });
      if (fan_stop) return;
      batch = std::move(fan_queue.front());
      fan_queue.pop_front();
      fan_pending -= batch->size();
    }
    try {
      Deliver(*batch, *Recipients());
    } catch (const std::exception& e) {
      spdlog::error("realtime hub: delivering {} messages failed: {}", batch->size(), e.what());
    }
  }
}

void RealtimeHub::Impl::Deliver(const MessageBatch& batch, const ClientList& targets) {
  size_t predictions = 0;
  for (const auto& m : batch) predictions += m.prediction ? 1 : 0;
  const auto now = clock.Monotonic();
  for (const auto& client : targets) {
    if (client->closing.load()) continue;
    const size_t granted = predictions == 0 ? 0 : client->bucket.Take(predictions, now);
    if (granted < predictions) {
      const uint64_t skipped = predictions - granted;
      client->coalesced_unreported.fetch_add(skipped);
      coalesced_total.fetch_add(skipped);
      stats.coalesced.Inc(skipped);
    }
    size_t sent_predictions = 0;
    bool sent_any = false;
    for (const auto& m : batch) {
      if (m.prediction && sent_predictions++ >= granted) continue;
      if (!Send(*client, m.text)) break;  // the session is gone; OnClose follows
      sent_any = true;
    }
    CheckLag(client, sent_any, now);
  }
}

void RealtimeHub::Impl::CheckLag(const std::shared_ptr<Client>& client, bool sent_any, Clock::MonoTime now) {
  const uint64_t dropped_now = client->session->Dropped();
  if (dropped_now > client->seen_dropped) {
    const uint64_t delta = dropped_now - client->seen_dropped;
    client->seen_dropped = dropped_now;
    client->dropped.fetch_add(delta);
    client->dropped_unreported.fetch_add(delta);
    dropped_total.fetch_add(delta);
    stats.dropped.Inc(delta);
    if (!client->lagging_since) client->lagging_since = now;
    if (now - *client->lagging_since >= options.max_lag) {
      spdlog::warn("realtime hub: disconnecting WebSocket client {}: its messages were dropped for {} ms ({} so far)",
                   client->session->Id(), options.max_lag.count(), client->dropped.load());
      Reject(client,
             "disconnected: this client read too slowly and lost messages for more than " +
                 std::to_string(options.max_lag.count()) + " ms; reconnect (try again later)",
             stats.disconnected_slow, http::WebSocketSession::kTryAgainLater);
    }
  } else if (sent_any) {
    client->lagging_since.reset();  // its queue had room: the client is keeping up
  }
}

}  // namespace threatd::realtime
