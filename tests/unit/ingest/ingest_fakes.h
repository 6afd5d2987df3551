// In-memory fakes for the ingest unit tests: a data_source_config table and
// an ip_whitelist table, each with a switch that makes every call fail as a
// down database would (Unavailable), plus a tiny traffic profile.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sim/traffic_profile.h"
#include "storage/data_source_repository.h"
#include "storage/whitelist_repository.h"

namespace threatd::ingest::testing {

class FakeSourceRepository final : public storage::DataSourceRepository {
 public:
  explicit FakeSourceRepository(Clock& clock) : clock_(clock) {
    for (const char* name : {"external_kafka", "internal_kafka", "packet_capture"}) {
      rows_[name] = {static_cast<int64_t>(rows_.size() + 1), name, std::string(name) == "internal_kafka", "", {},
                     clock.Now()};
    }
  }
  // Another instance's write: changes the row behind the cache's back.
  void SetEnabledBehindTheBack(const std::string& name, bool enabled, std::optional<Clock::WallTime> at = {}) {
    std::lock_guard lock(mu_);
    rows_[name].enabled = enabled;
    rows_[name].updated_at = at.value_or(clock_.Now());
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  int lists() const {
    std::lock_guard lock(mu_);
    return lists_;
  }

  Result<std::vector<storage::DataSource>> ListDataSources() override {
    std::lock_guard lock(mu_);
    ++lists_;
    if (down_) return Status::Unavailable("database is down");
    std::vector<storage::DataSource> out;
    for (const auto& [n, r] : rows_) out.push_back(r);
    return out;
  }
  Result<std::optional<storage::DataSource>> GetDataSource(std::string_view name) override {
    std::lock_guard lock(mu_);
    if (down_) return Status::Unavailable("database is down");
    auto it = rows_.find(std::string(name));
    if (it == rows_.end()) return std::optional<storage::DataSource>();
    return std::optional<storage::DataSource>(it->second);
  }
  Result<storage::DataSource> UpdateDataSource(std::string_view name, bool enabled,
                                               std::optional<std::string> config_json) override {
    std::lock_guard lock(mu_);
    if (down_) return Status::Unavailable("database is down");
    auto it = rows_.find(std::string(name));
    if (it == rows_.end()) return Status::NotFound("data source does not exist");
    it->second.enabled = enabled;
    if (config_json) it->second.config_json = config_json;
    it->second.updated_at = clock_.Now();
    return it->second;
  }

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, storage::DataSource> rows_;
  bool down_ = false;
  int lists_ = 0;
};

class FakeWhitelistRepository final : public storage::WhitelistRepository {
 public:
  explicit FakeWhitelistRepository(Clock& clock) : clock_(clock) {}
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }

  Result<std::vector<storage::WhitelistEntry>> ListWhitelist(const storage::WhitelistQuery& q) override {
    std::lock_guard lock(mu_);
    if (down_) return Status::Unavailable("database is down");
    std::vector<storage::WhitelistEntry> out;
    for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
      if (!q.active_only || it->InEffect(clock_.Now())) out.push_back(*it);
    }
    return out;
  }
  Result<std::vector<storage::WhitelistEntry>> ListWhitelistInEffect() override {
    std::lock_guard lock(mu_);
    if (down_) return Status::Unavailable("database is down");
    std::vector<storage::WhitelistEntry> out;
    for (const auto& r : rows_) {
      if (r.InEffect(clock_.Now())) out.push_back(r);
    }
    return out;
  }
  Result<std::optional<storage::WhitelistEntry>> GetWhitelistEntry(int64_t id) override {
    std::lock_guard lock(mu_);
    for (const auto& r : rows_) {
      if (r.id == id) return std::optional<storage::WhitelistEntry>(r);
    }
    return std::optional<storage::WhitelistEntry>();
  }
  Result<storage::WhitelistEntry> CreateWhitelistEntry(const storage::NewWhitelistEntry& e) override {
    std::lock_guard lock(mu_);
    if (down_) return Status::Unavailable("database is down");
    storage::WhitelistEntry r;
    r.id = next_id_++;
    r.ip_address = e.ip_address;
    r.description = e.description;
    r.is_active = e.is_active;
    r.expires_at = e.expires_at;
    r.created_by = e.created_by;
    r.created_at = r.updated_at = clock_.Now();
    rows_.push_back(r);
    return r;
  }
  Result<storage::WhitelistEntry> UpdateWhitelistEntry(int64_t id, const storage::WhitelistUpdate& u) override {
    std::lock_guard lock(mu_);
    for (auto& r : rows_) {
      if (r.id != id) continue;
      if (u.is_active) r.is_active = *u.is_active;
      if (u.expires_at) r.expires_at = u.expires_at;
      return r;
    }
    return Status::NotFound("IP whitelist entry not found");
  }
  Status DeleteWhitelistEntry(int64_t id) override {
    std::lock_guard lock(mu_);
    auto it = std::find_if(rows_.begin(), rows_.end(), [&](const auto& r) { return r.id == id; });
    if (it == rows_.end()) return Status::NotFound("IP whitelist entry not found");
    rows_.erase(it);
    return Status::Ok();
  }

 private:
  Clock& clock_;
  std::mutex mu_;
  std::vector<storage::WhitelistEntry> rows_;
  int64_t next_id_ = 1;
  bool down_ = false;
};

// Three classes (BENIGN, DDoS, DoS Hulk), one feature each (flow_duration,
// class-specific values), so a test can tell the classes apart by label.
inline std::shared_ptr<const sim::TrafficProfile> TinyProfile() {
  auto p = std::make_shared<sim::TrafficProfile>();
  p->created_at = "2026-01-01T00:00:00Z";
  p->features = {"flow_duration"};
  double base = 1;
  for (const char* label : {"BENIGN", "DDoS", "DoS Hulk"}) {
    sim::ClassProfile c;
    c.label = label;
    c.rows = 100;
    sim::Component comp;
    comp.rows = 100;
    comp.protocols = {{6, 1.0}};
    sim::Marginal m;
    m.values = {base, base * 2, base * 4};
    comp.marginals = {m};
    comp.correlation = {1.0};
    c.components = {comp};
    p->classes.push_back(c);
    base *= 10;
  }
  return p;
}

}  // namespace threatd::ingest::testing
