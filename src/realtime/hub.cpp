// RealtimeHub: sessions (OnOpen/OnMessage/OnClose), the client table and the
// public API. Delivery is in hub_fanout.cpp, timers and auth in hub_control.cpp.
#include "realtime/hub.h"

#include <spdlog/spdlog.h>

#include "common/thread_name.h"
#include "realtime/hub_impl.h"
#include "realtime/messages.h"

namespace threatd::realtime {
namespace {

constexpr std::string_view kAuthHint =
    "authenticate first: send {\"type\":\"auth\",\"api_key\":\"<key>\"} or connect with ?api_key=<key>";

}  // namespace

// --- Impl: clients ---

std::shared_ptr<Client> RealtimeHub::Impl::Find(uint64_t id) const {
  std::lock_guard lock(clients_mu);
  auto it = clients.find(id);
  return it == clients.end() ? nullptr : it->second;
}

std::shared_ptr<const ClientList> RealtimeHub::Impl::Recipients() const {
  std::lock_guard lock(clients_mu);
  return recipients;
}

void RealtimeHub::Impl::RebuildRecipientsLocked() {
  auto list = std::make_shared<ClientList>();
  for (const auto& [id, c] : clients)
    if (c->authenticated.load() && !c->closing.load()) list->push_back(c);
  authenticated.store(list->size());
  stats.connections.Set(static_cast<double>(list->size()));
  recipients = std::move(list);
}

void RealtimeHub::Impl::Admit(const std::shared_ptr<Client>& client) {
  std::lock_guard lock(clients_mu);
  if (client->closing.load() || !clients.count(client->session->Id())) return;
  client->authenticated.store(true);
  RebuildRecipientsLocked();
  // Under clients_mu: the fan-out thread cannot see this client before "connected" is queued.
  Send(*client, ConnectedMessage(recipients->size(), clock.Now()));
}

void RealtimeHub::Impl::Reject(const std::shared_ptr<Client>& client, std::string_view message,
                               metrics::Counter& reason, uint16_t close_code) {
  if (client->closing.exchange(true)) return;
  {
    std::lock_guard lock(clients_mu);
    RebuildRecipientsLocked();
  }
  reason.Inc();  // after the rebuild: whoever sees the count sees the client gone
  client->session->Send(ErrorMessage(message));
  client->session->Close(close_code, std::string(message.substr(0, message.find(':'))));
}

bool RealtimeHub::Impl::Send(Client& client, std::string text) {
  if (!client.session->Send(std::move(text))) return false;
  stats.sent.Inc();
  return true;
}

// --- RealtimeHub ---

RealtimeHub::RealtimeHub(HubOptions options, auth::ApiKeyService& keys, StatsQuery stats, Clock& clock,
                         metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(options, keys, std::move(stats), clock, registry)) {}

RealtimeHub::~RealtimeHub() { Stop(); }

void RealtimeHub::Start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->running.load()) return;
  {
    std::lock_guard l(impl_->fan_mu);
    impl_->fan_stop = false;
  }
  {
    std::lock_guard l(impl_->ctl_mu);
    impl_->ctl_stop = false;
  }
  impl_->running.store(true);
  impl_->fanout_thread = std::thread([this] {
    NameThisThread("ws-fanout");
    impl_->FanOutLoop();
  });
  impl_->control_thread = std::thread([this] {
    NameThisThread("ws-control");
    impl_->ControlLoop();
  });
}

void RealtimeHub::Stop() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (!impl_->running.exchange(false)) return;
  {
    std::lock_guard l(impl_->fan_mu);
    impl_->fan_stop = true;
    impl_->fan_queue.clear();
    impl_->fan_pending = 0;
  }
  impl_->fan_cv.notify_all();
  {
    std::lock_guard l(impl_->ctl_mu);
    impl_->ctl_stop = true;
    impl_->tasks.clear();
  }
  impl_->ctl_cv.notify_all();
  impl_->fanout_thread.join();
  impl_->control_thread.join();
  // Let go of every session now: a session must not outlive the server that
  // owns its socket and io_context (the app stops the hub before the server).
  std::unordered_map<uint64_t, std::shared_ptr<Client>> dropped;
  {
    std::lock_guard l(impl_->clients_mu);
    dropped.swap(impl_->clients);
    impl_->recipients = std::make_shared<ClientList>();
    impl_->authenticated.store(0);
  }
}

void RealtimeHub::OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) {
  if (!impl_->running.load() || impl_->authenticated.load() == 0) return;
  try {
    const size_t n = std::min(batch.flows.size(), ids.size());
    const std::string now = FormatIso8601(impl_->clock.Now());
    auto out = std::make_shared<MessageBatch>();
    out->reserve(n + n / 4);
    for (size_t i = 0; i < n; ++i) {
      if (ids[i].duplicate) continue;  // already stored (and published) before
      out->push_back({EnvelopeText("prediction", PredictionData(batch, i, ids[i]), now), true});
    }
    if (!out->empty()) impl_->Enqueue(std::move(out));
  } catch (const std::exception& e) {  // never into the pipeline thread
    spdlog::error("realtime hub: formatting a batch of {} flows failed: {}", batch.flows.size(), e.what());
  }
}

void RealtimeHub::Publish(std::string_view type, const nlohmann::json& data) {
  if (!impl_->running.load() || impl_->authenticated.load() == 0) return;
  auto out = std::make_shared<MessageBatch>();
  out->push_back({Envelope(type, data, impl_->clock.Now()), false});
  impl_->Enqueue(std::move(out));
}

size_t RealtimeHub::Connections() const { return impl_->authenticated.load(); }

nlohmann::json RealtimeHub::HealthCheck() const {
  nlohmann::json h{{"status", "ok"},
                   {"connections", impl_->authenticated.load()},
                   {"dropped", impl_->dropped_total.load()},
                   {"coalesced", impl_->coalesced_total.load()}};
  if (!impl_->running.load()) {
    h["status"] = "disabled";
    return h;
  }
  std::lock_guard lock(impl_->ctl_mu);
  if (impl_->stats_error) {
    h["status"] = "degraded";
    h["last_error"] = *impl_->stats_error;
  }
  return h;
}

void RealtimeHub::OnOpen(const std::shared_ptr<http::WebSocketSession>& session) {
  if (!impl_->running.load()) {  // stopping: keep no session (see Stop)
    session->Close(http::WebSocketSession::kTryAgainLater, "shutting down");
    return;
  }
  auto client =
      std::make_shared<Client>(session, impl_->clock.Monotonic(), impl_->options.max_predictions_per_second);
  {
    std::lock_guard lock(impl_->clients_mu);
    impl_->clients[session->Id()] = client;
  }
  if (const auto& principal = session->Principal()) {  // checked by the server at the upgrade
    if (HasRole(*principal, Role::kViewer)) return impl_->Admit(client);
    return impl_->Reject(client, "this endpoint needs role 'viewer'", impl_->stats.disconnected_auth_failed);
  }
  if (auto token = session->UpgradeRequest().Query("token"); token && !token->empty()) {
    client->auth_pending.store(true);
    impl_->Post([impl = impl_.get(), client, t = std::string(*token)]() mutable {
      impl->Authenticate(client, std::move(t));
    });
  }
}

void RealtimeHub::OnMessage(const std::shared_ptr<http::WebSocketSession>& session, std::string_view text) {
  auto client = impl_->Find(session->Id());
  if (!client || client->closing.load()) return;
  auto msg = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded() || !msg.is_object()) {
    impl_->Send(*client, ErrorMessage("Invalid JSON format"));
    return;
  }
  const auto type_it = msg.find("type");
  const std::string type = type_it != msg.end() && type_it->is_string() ? type_it->get<std::string>() : "";
  if (!client->authenticated.load()) {
    if (type != "auth") {
      impl_->Send(*client, ErrorMessage(std::string("not authenticated: ") + std::string(kAuthHint)));
      return;
    }
    std::string token;
    for (const char* field : {"api_key", "token"})
      if (auto it = msg.find(field); it != msg.end() && it->is_string()) token = it->get<std::string>();
    if (token.empty()) {
      impl_->Send(*client, ErrorMessage("the auth message needs a string field 'api_key'"));
      return;
    }
    if (client->auth_pending.exchange(true)) return;  // one check at a time
    impl_->Post([impl = impl_.get(), client, t = std::move(token)]() mutable { impl->Authenticate(client, std::move(t)); });
    return;
  }
  if (type == "ping") {
    impl_->Send(*client, PongMessage(impl_->clock.Now()));
  } else if (type == "request_stats") {
    impl_->Post([impl = impl_.get(), client] { impl->SendStats(client); });
  } else if (type == "auth") {
    impl_->Send(*client, ErrorMessage("already authenticated"));
  } else {
    impl_->Send(*client, ErrorMessage("unknown message type '" + type + "'; send ping or request_stats"));
  }
}

void RealtimeHub::OnClose(const std::shared_ptr<http::WebSocketSession>& session) {
  std::shared_ptr<Client> client;
  {
    std::lock_guard lock(impl_->clients_mu);
    auto it = impl_->clients.find(session->Id());
    if (it == impl_->clients.end()) return;
    client = std::move(it->second);
    impl_->clients.erase(it);
    if (!client->closing.exchange(true)) impl_->stats.disconnected_client.Inc();
    impl_->RebuildRecipientsLocked();
  }
}

}  // namespace threatd::realtime
