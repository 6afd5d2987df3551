// SourceStates: the data_source_config flags (packet_capture, external_kafka,
// internal_kafka) cached in memory, so that a source can ask "am I enabled?"
// per message without a database round trip.
//
// Freshness: Refresh() reloads the table; the background thread (Start)
// calls it every Options::refresh_interval, so a change made by another
// instance is seen within that interval. Update() (the API's PATCH) writes
// the row and applies it here before returning, so this instance sees its
// own changes at once. When a refresh fails the last known flags stay in
// force and HealthCheck reports "degraded" with the error.
//
// Subscribers are told about every change of a source's `enabled` flag
// (name, enabled), on the thread that noticed it (the refresh thread or the
// caller of Update); they must not block and must not call Subscribe or
// Unsubscribe from the callback.
//
// Components report whether they actually run with SetRunning(), which
// HealthCheck shows next to the flag:
//   {"status":"ok", "sources":{"internal_kafka":{"enabled":true,"running":false,"detail":""}}}
//
// Ownership: references the repository and clock (they outlive it).
// Thread-safety: every method is thread-safe. Refresh/Update/Start block on
// database I/O; IsEnabled/Get/List/HealthCheck only take a mutex.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/status.h"
#include "storage/data_source_repository.h"

namespace threatd::ingest {

// The source names the system knows (seeded by the first migration).
inline constexpr std::string_view kPacketCaptureSource = "packet_capture";
inline constexpr std::string_view kExternalKafkaSource = "external_kafka";
inline constexpr std::string_view kInternalKafkaSource = "internal_kafka";  // the test stream

class SourceStates {
 public:
  using Listener = std::function<void(const std::string& name, bool enabled)>;
  struct Options {
    std::chrono::milliseconds refresh_interval{1000};
  };

  SourceStates(storage::DataSourceRepository& repo, Clock& clock, Options options);
  SourceStates(storage::DataSourceRepository& repo, Clock& clock) : SourceStates(repo, clock, Options{}) {}
  ~SourceStates();  // Stop()
  SourceStates(const SourceStates&) = delete;
  SourceStates& operator=(const SourceStates&) = delete;

  // Loads once (returning that result) and starts the refresh thread.
  Status Start();
  void Stop();  // idempotent; joins the thread

  // Reloads every row; notifies subscribers of changed flags.
  Status Refresh();
  // Writes is_enabled (and config_params when given, as JSON text), then
  // applies the row here. NotFound "Data source not found: {name}".
  Result<storage::DataSource> Update(std::string_view name, bool enabled, std::optional<std::string> config_json);

  // False for an unknown source or before the first successful load.
  bool IsEnabled(std::string_view name) const;
  std::optional<storage::DataSource> Get(std::string_view name) const;
  // Ordered by name.
  std::vector<storage::DataSource> List() const;
  // True once a load succeeded.
  bool loaded() const;

  int Subscribe(Listener listener);
  void Unsubscribe(int id);

  // A component reports whether it runs, with a short detail.
  void SetRunning(std::string_view name, bool running, std::string detail = {});

  nlohmann::json HealthCheck() const;

 private:
  struct Runtime {
    bool running = false;
    std::string detail;
  };
  // Replaces the rows in `rows` (all of them when `full`), then notifies.
  void Apply(std::vector<storage::DataSource> rows, bool full);

  storage::DataSourceRepository& repo_;
  Clock& clock_;
  const Options options_;

  mutable std::mutex mu_;
  std::map<std::string, storage::DataSource, std::less<>> sources_;  // guarded by mu_
  std::map<std::string, Runtime, std::less<>> runtime_;              // guarded by mu_
  bool loaded_ = false;                                              // guarded by mu_
  std::optional<std::string> last_error_;                            // guarded by mu_
  std::optional<Clock::WallTime> last_refresh_;                      // guarded by mu_
  std::map<int, Listener> listeners_;                                // guarded by mu_
  int next_listener_ = 1;                                            // guarded by mu_

  std::mutex notify_mu_;  // serialises notifications so subscribers see changes in order
  PeriodicThread refresher_;  // last: stopped first
};

}  // namespace threatd::ingest
