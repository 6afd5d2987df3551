// Safety checks every decision passes twice - when it is made and again right
// before it is enforced - on top of the whitelist (ingest::WhitelistMatcher):
//
// ProtectedNetworks: addresses threatd never blocks, isolates or rate-limits:
//   built in - loopback, unspecified, link-local, multicast, broadcast, and
//   this host's own interface addresses (read once at construction);
//   configured - the policy's protected_networks (gateways, NAT addresses,
//   DNS servers, infrastructure ranges). A target that OVERLAPS one counts
//   (a /24 containing the gateway is refused too).
//
// CircuitBreaker: caps new enforced blocks per sliding minute. When the cap is
// reached it is "open": Allow() refuses (the Healer turns the decision into an
// alert) until the oldest blocks leave the window.
//
// Thread-safety: ProtectedNetworks is immutable after construction.
// CircuitBreaker is not thread-safe (the Healer serialises calls).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ip_network.h"

namespace threatd::healing {

class ProtectedNetworks {
 public:
  // include_host_addresses: add this host's interface addresses (getifaddrs).
  ProtectedNetworks(const std::vector<IpNetwork>& configured, bool include_host_addresses);

  // Why `target` must not be acted on, e.g. "172.16.0.1 is protected
  // (configured: 172.16.0.1)"; nullopt when it may be.
  std::optional<std::string> Check(const IpNetwork& target) const;
  const std::vector<std::pair<IpNetwork, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<IpNetwork, std::string>> entries_;  // network, why
};

class CircuitBreaker {
 public:
  explicit CircuitBreaker(int64_t max_per_minute) : max_(max_per_minute) {}

  // Counts one block and returns true, or returns false (open) when
  // max_per_minute blocks were already allowed within the last minute.
  bool Allow(Clock::WallTime now);
  bool open(Clock::WallTime now);
  int64_t recent(Clock::WallTime now);  // blocks allowed within the last minute
  int64_t limit() const { return max_; }
  uint64_t trips() const { return trips_; }
  void set_limit(int64_t max_per_minute) { max_ = max_per_minute; }

 private:
  void Expire(Clock::WallTime now);
  int64_t max_;
  std::deque<Clock::WallTime> allowed_;
  uint64_t trips_ = 0;  // times Allow() refused
};

}  // namespace threatd::healing
