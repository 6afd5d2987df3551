// RealtimeHub control thread: stats_update and ping timers, API-key checks,
// auth timeouts and request_stats - everything that may block or is periodic,
// kept off the I/O and pipeline threads.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "realtime/hub_impl.h"
#include "realtime/messages.h"

namespace threatd::realtime {
namespace {

constexpr std::chrono::milliseconds kTick{100};  // auth timeouts are checked this often

}  // namespace

void RealtimeHub::Impl::Post(std::function<void()> task) {
  {
    std::lock_guard lock(ctl_mu);
    if (ctl_stop) return;
    tasks.push_back(std::move(task));
  }
  ctl_cv.notify_one();
}

void RealtimeHub::Impl::ControlLoop() {
  auto next_stats = clock.Monotonic() + options.stats_interval;
  auto next_ping = clock.Monotonic() + options.ping_interval;
  for (;;) {
    std::deque<std::function<void()>> batch;
    {
      std::unique_lock lock(ctl_mu);
      const auto now = clock.Monotonic();
      const auto wait = std::clamp(std::min(next_stats, next_ping) - now, Clock::MonoTime::duration::zero(),
                                   Clock::MonoTime::duration(kTick));
      ctl_cv.wait_for(lock, wait, [&] { return ctl_stop || !tasks.empty(); });
      if (ctl_stop) return;
      batch.swap(tasks);
    }
    for (auto& task : batch) {
      try {
        task();
      } catch (const std::exception& e) {
        spdlog::error("realtime hub: control task failed: {}", e.what());
      }
    }
    const auto now = clock.Monotonic();
    try {
      if (now >= next_stats) {
        next_stats = now + options.stats_interval;
        if (authenticated.load() > 0) SendStats(nullptr);
      }
      if (now >= next_ping) {
        next_ping = now + options.ping_interval;
        if (authenticated.load() > 0) {
          auto ping = std::make_shared<MessageBatch>();
          ping->push_back({PingMessage(clock.Now()), false});
          Enqueue(std::move(ping));
        }
      }
      ExpireUnauthenticated(now);
    } catch (const std::exception& e) {
      spdlog::error("realtime hub: timer failed: {}", e.what());
    }
  }
}

void RealtimeHub::Impl::Authenticate(const std::shared_ptr<Client>& client, std::string token) {
  if (client->closing.load()) return;
  Result<Principal> principal = keys.Authenticate(token);
  client->auth_pending.store(false);
  if (principal.ok() && HasRole(*principal, Role::kViewer)) return Admit(client);
  if (!principal.ok() && principal.status().code() != ErrorCode::kUnauthenticated) {
    return Reject(client,
                  "cannot check the API key right now (" + principal.status().message() +
                      "); reconnect in a few seconds",
                  stats.disconnected_auth_failed, http::WebSocketSession::kTryAgainLater);
  }
  Reject(client, "invalid API key: check the key; revoked keys are rejected", stats.disconnected_auth_failed);
}

void RealtimeHub::Impl::ExpireUnauthenticated(Clock::MonoTime now) {
  ClientList expired;
  {
    std::lock_guard lock(clients_mu);
    for (const auto& [id, c] : clients)
      if (!c->authenticated.load() && !c->auth_pending.load() && !c->closing.load() &&
          now - c->opened >= options.auth_timeout)
        expired.push_back(c);
  }
  for (const auto& c : expired) {
    Reject(c,
           "authentication timed out: send {\"type\":\"auth\",\"api_key\":\"<key>\"} within " +
               std::to_string(options.auth_timeout.count()) + " ms of connecting, or connect with ?api_key=<key>",
           stats.disconnected_auth_timeout);
  }
}

void RealtimeHub::Impl::SendStats(const std::shared_ptr<Client>& only) {
  Result<nlohmann::json> data = stats_query ? stats_query() : Result<nlohmann::json>(nlohmann::json::object());
  {
    std::lock_guard lock(ctl_mu);
    if (data.ok()) {
      stats_error.reset();
    } else {
      stats_error = data.status().ToString();
    }
  }
  if (!data.ok()) {
    spdlog::warn("realtime hub: the prediction stats query failed: {}", data.status().ToString());
    if (only) {
      Send(*only, ErrorMessage("statistics are unavailable right now (" + data.status().message() +
                               "); retry request_stats later"));
    }
    return;
  }
  nlohmann::json message{{"type", "stats_update"}, {"timestamp", FormatIso8601(clock.Now())}, {"data", *data}};
  const std::string shared = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ClientList targets;
  if (only) {
    targets.push_back(only);
  } else {
    targets = *Recipients();
  }
  for (const auto& c : targets) {
    if (c->closing.load() || !c->authenticated.load()) continue;
    const uint64_t coalesced = c->coalesced_unreported.exchange(0);
    const uint64_t dropped = c->dropped_unreported.exchange(0);
    if (coalesced == 0 && dropped == 0) {
      Send(*c, shared);
      continue;
    }
    nlohmann::json own = message;  // this client missed messages: tell it how many
    if (coalesced > 0) own["coalesced"] = coalesced;
    if (dropped > 0) own["dropped"] = dropped;
    Send(*c, own.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

}  // namespace threatd::realtime
