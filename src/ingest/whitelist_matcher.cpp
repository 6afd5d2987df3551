#include "ingest/whitelist_matcher.h"

#include <spdlog/spdlog.h>

namespace threatd::ingest {

WhitelistMatcher::WhitelistMatcher(storage::WhitelistRepository& repo, Clock& clock, Options options)
    : repo_(repo), clock_(clock), options_(options), snapshot_(std::make_shared<const Snapshot>()) {}

WhitelistMatcher::~WhitelistMatcher() { Stop(); }

Status WhitelistMatcher::Start() {
  Status first = Refresh();
  // Failures are kept in last_error_ and reported by HealthCheck.
  refresher_.Start(options_.refresh_interval, [this] { (void)Refresh(); });
  return first;
}

void WhitelistMatcher::Stop() { refresher_.Stop(); }

Status WhitelistMatcher::Refresh() {
  std::lock_guard serial(refresh_mu_);  // a slow older read must not overwrite a newer snapshot
  auto rows = repo_.ListWhitelistInEffect();
  if (!rows.ok()) {
    std::lock_guard lock(mu_);
    if (last_error_ != rows.status().message())
      spdlog::warn("IP whitelist not refreshed (keeping the last snapshot): {}", rows.status().ToString());
    last_error_ = rows.status().message();
    return rows.status();
  }
  auto next = std::make_shared<Snapshot>();
  for (const auto& e : *rows) {
    auto net = IpNetwork::Parse(e.ip_address);
    if (!net.ok()) {
      // Rows are canonicalised by the API; a hand-edited row is skipped, not fatal.
      spdlog::warn("IP whitelist entry {} ignored: {}", e.id, net.status().message());
      continue;
    }
    ++next->entries;
    if (net->is_host()) {
      auto [it, inserted] = next->hosts.emplace(net->ToString(), e.expires_at);
      if (!inserted && (!e.expires_at || (it->second && *it->second < *e.expires_at))) it->second = e.expires_at;
    } else {
      next->ranges.emplace_back(*net, e.expires_at);
    }
  }
  snapshot_.store(std::move(next));
  std::lock_guard lock(mu_);
  last_error_.reset();
  last_refresh_ = clock_.Now();
  return Status::Ok();
}

bool WhitelistMatcher::IsWhitelisted(std::string_view address) const {
  auto a = IpNetwork::ParseAddress(address);
  return a.ok() && IsWhitelisted(*a);
}

bool WhitelistMatcher::IsWhitelisted(const IpNetwork& address) const {
  if (!address.is_host()) return false;
  const auto snap = snapshot_.load();
  const auto now = clock_.Now();
  auto unexpired = [&](const std::optional<Clock::WallTime>& expiry) { return !expiry || *expiry > now; };
  if (!snap->hosts.empty()) {
    auto it = snap->hosts.find(address.ToString());
    if (it != snap->hosts.end() && unexpired(it->second)) return true;
  }
  for (const auto& [net, expiry] : snap->ranges) {
    if (net.Contains(address) && unexpired(expiry)) return true;
  }
  return false;
}

std::optional<std::string> WhitelistMatcher::Overlapping(const IpNetwork& target) const {
  const auto snap = snapshot_.load();
  const auto now = clock_.Now();
  auto unexpired = [&](const std::optional<Clock::WallTime>& expiry) { return !expiry || *expiry > now; };
  if (target.is_host()) {
    auto it = snap->hosts.find(target.ToString());
    if (it != snap->hosts.end() && unexpired(it->second)) return it->first;
  } else {
    for (const auto& [host, expiry] : snap->hosts) {
      if (unexpired(expiry) && target.Contains(host)) return host;
    }
  }
  for (const auto& [net, expiry] : snap->ranges) {
    if (unexpired(expiry) && net.Overlaps(target)) return net.ToString();
  }
  return std::nullopt;
}

size_t WhitelistMatcher::size() const { return snapshot_.load()->entries; }

nlohmann::json WhitelistMatcher::HealthCheck() const {
  nlohmann::json j = {{"entries", size()}};
  std::lock_guard lock(mu_);
  j["status"] = !last_refresh_ ? "error" : (last_error_ ? "degraded" : "ok");
  if (last_refresh_) j["last_refresh"] = FormatIso8601(*last_refresh_);
  if (last_error_) j["last_error"] = *last_error_;
  return j;
}

}  // namespace threatd::ingest
