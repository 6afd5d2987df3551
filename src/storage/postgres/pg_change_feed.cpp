#include "storage/postgres/pg_change_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <pqxx/notification>
#include <pqxx/pqxx>
#include <thread>

#include "common/thread_name.h"

namespace threatd::storage::pg {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Payload "<table> <application_name of the writer>" (migration 0005).
// Changes this instance made itself are already in its caches: skipped.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, std::string self, std::set<std::string>& tables)
      : pqxx::notification_receiver(c, kChangeChannel), self_(std::move(self)), tables_(tables) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    const auto space = payload.find(' ');
    const std::string table = payload.substr(0, space);
    if (space != std::string::npos && payload.compare(space + 1, std::string::npos, self_) == 0) return;
    tables_.insert(table.empty() ? std::string(kAllTables) : table);
  }

 private:
  const std::string self_;
  std::set<std::string>& tables_;
};

class PgChangeFeed final : public ChangeFeed {
 public:
  PgChangeFeed(PgPool& pool, milliseconds coalesce) : pool_(pool), coalesce_(coalesce) {}
  ~PgChangeFeed() override { Stop(); }

  void Start(Callback on_change) override {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    on_change_ = std::move(on_change);
    thread_ = std::thread([this] {
      NameThisThread("pg-listen");
      Loop();
    });
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  nlohmann::json HealthCheck() const override {
    std::lock_guard lock(mu_);
    return {{"status", listening_ ? "ok" : "degraded"},
            {"listening", listening_},
            {"notifications", notifications_},
            {"reconnects", reconnects_},
            {"last_error", last_error_ ? nlohmann::json(*last_error_) : nlohmann::json(nullptr)}};
  }

 private:
  // Sleeps up to `d`; false when stopping.
  bool Sleep(milliseconds d) {
    std::unique_lock lock(mu_);
    return !wake_.wait_for(lock, d, [&] { return stopping_; });
  }
  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  void SetListening(bool on, std::optional<std::string> error) {
    std::lock_guard lock(mu_);
    listening_ = on;
    if (error) last_error_ = std::move(error);
  }

  void Loop() {
    milliseconds backoff{1000};
    bool connected_once = false;
    while (!Stopping()) {
      auto conn = pool_.Connect();
      if (!conn.ok()) {
        SetListening(false, conn.status().message());
        if (!Sleep(backoff)) return;
        backoff = std::min(backoff * 2, milliseconds(30000));
        continue;
      }
      try {
        std::set<std::string> tables;
        Receiver receiver(**conn, pool_.application_name(), tables);
        (*conn)->get_notifs();  // issues the pending LISTEN
        SetListening(true, std::nullopt);
        if (connected_once) {
          std::lock_guard lock(mu_);
          ++reconnects_;
        }
        connected_once = true;
        // Whatever changed before we listened is unknown: reload everything.
        tables.insert(kAllTables);
        backoff = milliseconds(1000);
        while (!Stopping()) {
          if (tables.empty()) (*conn)->await_notification(0, 200'000);
          if (tables.empty()) continue;
          // Coalesce a burst (e.g. one per decision batch) into one call.
          const auto until = steady_clock::now() + coalesce_;
          while (steady_clock::now() < until) (*conn)->await_notification(0, 20'000);
          std::set<std::string> changed;
          changed.swap(tables);
          {
            std::lock_guard lock(mu_);
            notifications_ += changed.size();
          }
          if (on_change_) on_change_(changed);
        }
        return;
      } catch (const std::exception& e) {
        std::string why = e.what();
        while (!why.empty() && why.back() == '\n') why.pop_back();
        spdlog::warn("change feed: lost the PostgreSQL LISTEN connection ({}); reconnecting", why);
        SetListening(false, why);
        if (!Sleep(backoff)) return;
        backoff = std::min(backoff * 2, milliseconds(30000));
      }
    }
  }

  PgPool& pool_;
  const milliseconds coalesce_;
  Callback on_change_;  // set before the thread starts
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
  bool stopping_ = false;      // guarded by mu_
  bool listening_ = false;     // guarded by mu_
  uint64_t notifications_ = 0;  // guarded by mu_
  uint64_t reconnects_ = 0;     // guarded by mu_
  std::optional<std::string> last_error_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<ChangeFeed> MakePgChangeFeed(PgPool& pool, milliseconds coalesce) {
  return std::make_unique<PgChangeFeed>(pool, coalesce);
}

}  // namespace threatd::storage::pg
