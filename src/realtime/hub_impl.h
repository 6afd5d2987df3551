// Internals of RealtimeHub, shared by hub.cpp (sessions, public API),
// hub_fanout.cpp (delivery thread) and hub_control.cpp (timers, auth, stats).
// Not part of the component's interface.
//
// Locks: clients_mu guards the client table and the recipients snapshot;
// fan_mu the fan-out queue; ctl_mu the control task queue. They are never
// nested, except that Session::Send (its own short mutex) is called under
// clients_mu when a client is admitted, so that "connected" is its first message.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "realtime/hub.h"
#include "realtime/hub_stats.h"
#include "realtime/token_bucket.h"

namespace threatd::realtime {

struct OutMessage {
  std::string text;
  bool prediction = false;  // subject to the per-client rate limit
};
using MessageBatch = std::vector<OutMessage>;

struct Client {
  Client(std::shared_ptr<http::WebSocketSession> s, Clock::MonoTime now, size_t rate)
      : session(std::move(s)), opened(now), bucket(rate, now) {}

  const std::shared_ptr<http::WebSocketSession> session;
  const Clock::MonoTime opened;
  std::atomic<bool> authenticated{false};
  std::atomic<bool> auth_pending{false};
  std::atomic<bool> closing{false};  // the hub is closing it (reason already counted)
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> dropped_unreported{0};    // since the last stats_update
  std::atomic<uint64_t> coalesced_unreported{0};  // since the last stats_update

  // Fan-out thread only.
  TokenBucket bucket;
  uint64_t seen_dropped = 0;  // session->Dropped() at the last look
  std::optional<Clock::MonoTime> lagging_since;
};

using ClientList = std::vector<std::shared_ptr<Client>>;

struct RealtimeHub::Impl {
  Impl(HubOptions o, auth::ApiKeyService& k, StatsQuery q, Clock& c, metrics::Registry& r)
      : options(o), keys(k), stats_query(std::move(q)), clock(c), stats(r) {}

  // --- clients (hub.cpp) ---
  std::shared_ptr<Client> Find(uint64_t id) const;
  std::shared_ptr<const ClientList> Recipients() const;
  void RebuildRecipientsLocked();
  // Marks the client authenticated and sends "connected" as its first message.
  void Admit(const std::shared_ptr<Client>& client);
  // Sends an error, closes the session and counts `reason` (once per client).
  // Sends an error message, then closes with `close_code` (1008 policy
  // violation for authentication, 1013 try again later for overload).
  void Reject(const std::shared_ptr<Client>& client, std::string_view message, metrics::Counter& reason,
              uint16_t close_code = http::WebSocketSession::kPolicyViolation);
  bool Send(Client& client, std::string text);

  // --- fan-out (hub_fanout.cpp) ---
  void Enqueue(std::shared_ptr<const MessageBatch> batch);
  void FanOutLoop();
  void Deliver(const MessageBatch& batch, const ClientList& targets);
  void CheckLag(const std::shared_ptr<Client>& client, bool sent_any, Clock::MonoTime now);

  // --- control (hub_control.cpp) ---
  void Post(std::function<void()> task);
  void ControlLoop();
  void Authenticate(const std::shared_ptr<Client>& client, std::string token);
  void ExpireUnauthenticated(Clock::MonoTime now);
  // Runs the stats query; sends stats_update to `only`, or to every recipient.
  void SendStats(const std::shared_ptr<Client>& only);

  const HubOptions options;
  auth::ApiKeyService& keys;
  const StatsQuery stats_query;
  Clock& clock;
  HubStats stats;
  std::atomic<bool> running{false};
  std::atomic<uint64_t> dropped_total{0};
  std::atomic<uint64_t> coalesced_total{0};

  mutable std::mutex clients_mu;
  std::unordered_map<uint64_t, std::shared_ptr<Client>> clients;  // guarded by clients_mu; every open session
  std::shared_ptr<const ClientList> recipients = std::make_shared<ClientList>();  // guarded by clients_mu
  std::atomic<size_t> authenticated{0};  // recipients->size()

  std::mutex fan_mu;
  std::condition_variable fan_cv;
  std::deque<std::shared_ptr<const MessageBatch>> fan_queue;  // guarded by fan_mu
  size_t fan_pending = 0;                                      // messages in fan_queue; guarded by fan_mu
  bool fan_stop = false;                                       // guarded by fan_mu

  std::mutex ctl_mu;
  std::condition_variable ctl_cv;
  std::deque<std::function<void()>> tasks;  // guarded by ctl_mu
  bool ctl_stop = false;                    // guarded by ctl_mu
  std::optional<std::string> stats_error;   // guarded by ctl_mu; the last stats query failure

  std::mutex lifecycle_mu;  // Start/Stop
  std::thread fanout_thread;
  std::thread control_thread;
};

}  // namespace threatd::realtime
