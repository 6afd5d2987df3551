#include "ingest/source_states.h"

#include <fmt/format.h>

#include "common/log.h"

namespace threatd::ingest {

SourceStates::SourceStates(storage::DataSourceRepository& repo, Clock& clock, Options options)
    : repo_(repo), clock_(clock), options_(options) {}

SourceStates::~SourceStates() { Stop(); }

Status SourceStates::Start() {
  Status first = Refresh();
  // Failures are kept in last_error_ and reported by HealthCheck.
  refresher_.Start(options_.refresh_interval, [this] { (void)Refresh(); });
  return first;
}

void SourceStates::Stop() { refresher_.Stop(); }

Status SourceStates::Refresh() {
  auto rows = repo_.ListDataSources();
  if (!rows.ok()) {
    std::lock_guard lock(mu_);
    if (last_error_ != rows.status().message())
      spdlog::warn("data source flags not refreshed (keeping the last known): {}", rows.status().ToString());
    last_error_ = rows.status().message();
    return rows.status();
  }
  Apply(std::move(rows).value(), /*full=*/true);
  return Status::Ok();
}

Result<storage::DataSource> SourceStates::Update(std::string_view name, bool enabled,
                                                 std::optional<std::string> config_json) {
  auto row = repo_.UpdateDataSource(name, enabled, std::move(config_json));
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound)
      return Status::NotFound(fmt::format("Data source not found: {}", name),
                              "the sources are packet_capture, external_kafka and internal_kafka");
    return row.status();
  }
  Apply({*row}, /*full=*/false);
  return row;
}

void SourceStates::Apply(std::vector<storage::DataSource> rows, bool full) {
  std::lock_guard notify(notify_mu_);
  std::vector<std::pair<std::string, bool>> changes;
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, storage::DataSource, std::less<>> next = full ? decltype(sources_){} : sources_;
    for (auto& r : rows) {
      // A refresh that read the table before a concurrent Update() must not undo it.
      auto mine = sources_.find(r.name);
      if (full && mine != sources_.end() && mine->second.updated_at > r.updated_at) r = mine->second;
      next[r.name] = std::move(r);
    }
    for (const auto& [name, src] : next) {
      auto old = sources_.find(name);
      const bool was = old != sources_.end() && old->second.enabled;
      if (!loaded_ || old == sources_.end() || was != src.enabled) changes.emplace_back(name, src.enabled);
    }
    for (const auto& [name, src] : sources_) {
      if (src.enabled && next.find(name) == next.end()) changes.emplace_back(name, false);  // row vanished
    }
    sources_ = std::move(next);
    if (full) {
      loaded_ = true;
      last_error_.reset();
      last_refresh_ = clock_.Now();
    }
    for (const auto& [id, l] : listeners_) listeners.push_back(l);
  }
  for (const auto& [name, enabled] : changes) {
    for (const auto& l : listeners) l(name, enabled);
  }
}

bool SourceStates::IsEnabled(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(name);
  return it != sources_.end() && it->second.enabled;
}

std::optional<storage::DataSource> SourceStates::Get(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(name);
  if (it == sources_.end()) return std::nullopt;
  return it->second;
}

std::vector<storage::DataSource> SourceStates::List() const {
  std::lock_guard lock(mu_);
  std::vector<storage::DataSource> out;
  for (const auto& [name, src] : sources_) out.push_back(src);
  return out;
}

bool SourceStates::loaded() const {
  std::lock_guard lock(mu_);
  return loaded_;
}

int SourceStates::Subscribe(Listener listener) {
  std::lock_guard lock(mu_);
  const int id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void SourceStates::Unsubscribe(int id) {
  std::lock_guard notify(notify_mu_);  // no call to it is in flight once this returns
  std::lock_guard lock(mu_);
  listeners_.erase(id);
}

void SourceStates::SetRunning(std::string_view name, bool running, std::string detail) {
  std::lock_guard lock(mu_);
  auto it = runtime_.find(name);
  if (it == runtime_.end()) it = runtime_.emplace(std::string(name), Runtime{}).first;
  it->second = {running, std::move(detail)};
}

nlohmann::json SourceStates::HealthCheck() const {
  std::lock_guard lock(mu_);
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& [name, src] : sources_) {
    auto rt = runtime_.find(name);
    sources[name] = {{"enabled", src.enabled},
                     {"running", rt != runtime_.end() && rt->second.running},
                     {"detail", rt != runtime_.end() ? rt->second.detail : std::string()}};
  }
  nlohmann::json j = {{"status", !loaded_ ? "error" : (last_error_ ? "degraded" : "ok")}, {"sources", sources}};
  if (last_error_) j["last_error"] = *last_error_;
  if (last_refresh_) j["last_refresh"] = FormatIso8601(*last_refresh_);
  return j;
}

}  // namespace threatd::ingest
