#include "healing/safety.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <fmt/format.h>

namespace threatd::healing {
namespace {

std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    out.emplace_back(buf);
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

ProtectedNetworks::ProtectedNetworks(const std::vector<IpNetwork>& configured, bool include_host_addresses) {
  const std::pair<const char*, const char*> builtin[] = {
      {"127.0.0.0/8", "loopback"},         {"::1", "loopback"},
      {"0.0.0.0/8", "unspecified"},        {"::", "unspecified"},
      {"169.254.0.0/16", "link-local"},    {"fe80::/10", "link-local"},
      {"224.0.0.0/4", "multicast"},        {"ff00::/8", "multicast"},
      {"255.255.255.255", "broadcast"},
  };
  for (const auto& [net, why] : builtin) entries_.emplace_back(*IpNetwork::Parse(net), why);
  if (include_host_addresses) {
    for (const auto& a : HostAddresses()) {
      auto n = IpNetwork::ParseAddress(a);  // "fe80::1%eth0" style scoped addresses do not parse: link-local anyway
      if (n.ok()) entries_.emplace_back(*n, "an address of this host");
    }
  }
  for (const auto& n : configured) entries_.emplace_back(n, "configured in the policy's protected_networks");
}

std::optional<std::string> ProtectedNetworks::Check(const IpNetwork& target) const {
  for (const auto& [net, why] : entries_) {
    if (net.Overlaps(target)) return fmt::format("{} is protected: {} ({})", target.ToString(), net.ToString(), why);
  }
  return std::nullopt;
}

void CircuitBreaker::Expire(Clock::WallTime now) {
  while (!allowed_.empty() && allowed_.front() <= now - std::chrono::minutes(1)) allowed_.pop_front();
}

bool CircuitBreaker::Allow(Clock::WallTime now) {
  Expire(now);
  if (static_cast<int64_t>(allowed_.size()) >= max_) {
    ++trips_;
    return false;
  }
  allowed_.push_back(now);
  return true;
}

bool CircuitBreaker::open(Clock::WallTime now) {
  Expire(now);
  return static_cast<int64_t>(allowed_.size()) >= max_;
}

int64_t CircuitBreaker::recent(Clock::WallTime now) {
  Expire(now);
  return static_cast<int64_t>(allowed_.size());
}

}  // namespace threatd::healing
