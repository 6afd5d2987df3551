#include "healing/nft_interval_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <iterator>

namespace threatd::healing::nft {
namespace {

int Width(IpNetwork::Family family) { return family == IpNetwork::Family::kV4 ? 32 : 128; }

// All ones in the low `bits` bits (bits 0..128).
Key LowMask(int bits) { return bits >= 128 ? ~Key{0} : (Key{1} << bits) - 1; }

}  // namespace

Key MaxKey(IpNetwork::Family family) { return LowMask(Width(family)); }

bool ParseKey(IpNetwork::Family family, std::string_view text, Key* out) {
  if (text.size() > 63) return false;
  const std::string s(text);
  std::array<unsigned char, 16> bytes{};
  const bool v4 = family == IpNetwork::Family::kV4;
  if (inet_pton(v4 ? AF_INET : AF_INET6, s.c_str(), bytes.data()) != 1) return false;
  Key k = 0;
  for (int i = 0; i < (v4 ? 4 : 16); ++i) k = (k << 8) | bytes[static_cast<size_t>(i)];
  *out = k;
  return true;
}

std::string FormatKey(IpNetwork::Family family, Key key) {
  const bool v4 = family == IpNetwork::Family::kV4;
  const int n = v4 ? 4 : 16;
  std::array<unsigned char, 16> bytes{};
  for (int i = n - 1; i >= 0; --i) {
    bytes[static_cast<size_t>(i)] = static_cast<unsigned char>(key & 0xff);
    key >>= 8;
  }
  std::array<char, INET6_ADDRSTRLEN> buf{};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf.data(), buf.size());
  return buf.data();
}

Range ToRange(const IpNetwork& network) {
  std::string text = network.ToString();
  if (auto slash = text.find('/'); slash != std::string::npos) text.resize(slash);
  Key lo = 0;
  // A valid IpNetwork always prints a parseable address.
  ParseKey(network.family(), text, &lo);
  const Key mask = LowMask(Width(network.family()) - network.prefix_length());
  return {lo & ~mask, (lo & ~mask) | mask};
}

std::string FormatRange(IpNetwork::Family family, Key lo, Key hi) {
  if (lo == hi) return FormatKey(family, lo);
  const Key size_minus_one = hi - lo;
  const bool prefix = (size_minus_one & (size_minus_one + 1)) == 0 && (lo & size_minus_one) == 0;
  if (prefix) {
    int host_bits = 0;
    for (Key s = size_minus_one; s != 0; s >>= 1) ++host_bits;
    return FormatKey(family, lo) + "/" + std::to_string(Width(family) - host_bits);
  }
  return FormatKey(family, lo) + "-" + FormatKey(family, hi);
}

std::vector<Segment> ComputeSegments(const std::vector<Member>& members, Key max_key, int64_t now_ms) {
  struct Event {
    Key at;
    bool start;
    int64_t expiry;
  };
  std::vector<Event> events;
  events.reserve(members.size() * 2);
  for (const auto& m : members) {
    if (m.expiry_ms <= now_ms) continue;
    events.push_back({m.lo, true, m.expiry_ms});
    if (m.hi != max_key) events.push_back({m.hi + 1, false, m.expiry_ms});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
  std::multiset<int64_t> active;
  std::vector<Segment> out;
  for (size_t i = 0; i < events.size();) {
    const Key at = events[i].at;
    for (; i < events.size() && events[i].at == at; ++i) {
      if (events[i].start) {
        active.insert(events[i].expiry);
      } else {
        active.erase(active.find(events[i].expiry));
      }
    }
    if (active.empty()) continue;
    // No end event left: a member runs to the family's last address.
    const Key end = i < events.size() ? events[i].at - 1 : max_key;
    const int64_t expiry = *active.rbegin();
    if (!out.empty() && out.back().hi + 1 == at && out.back().expiry_ms == expiry) {
      out.back().hi = end;
    } else {
      out.push_back({at, end, expiry});
    }
  }
  return out;
}

void NftIntervalSet::Reset(const std::vector<Member>& members, int64_t now_ms) {
  members_.clear();
  by_expiry_.clear();
  clusters_.clear();
  segment_count_ = 0;
  Commit();
  for (const auto& m : members) SetMember(m);
  std::vector<Member> all;
  all.reserve(members_.size());
  for (const auto& [id, m] : members_) all.push_back(m);
  InsertClusters(std::move(all), now_ms);
}

void NftIntervalSet::PurgeExpired(int64_t now_ms) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ms) {
    Erase(by_expiry_.begin()->second, now_ms);
  }
}

void NftIntervalSet::Begin() {
  Commit();
  staging_ = true;
}

void NftIntervalSet::Upsert(const Member& m, int64_t now_ms) {
  if (members_.contains(m.id)) Erase(m.id, now_ms);
  std::vector<Member> group{m};
  // Clusters are disjoint and sorted, so those overlapping [lo, hi] are the
  // ones just before the first cluster starting after hi, back to the first
  // that ends before lo.
  auto next = clusters_.upper_bound(m.hi);
  while (next != clusters_.begin()) {
    auto it = std::prev(next);
    if (it->second.hi < m.lo) break;
    for (int64_t id : it->second.ids) group.push_back(members_.at(id));
    RemoveCluster(it);
  }
  SetMember(m);
  InsertClusters(std::move(group), now_ms);
}

bool NftIntervalSet::Erase(int64_t id, int64_t now_ms) {
  auto found = members_.find(id);
  if (found == members_.end()) return false;
  auto it = ClusterOf(found->second.lo);
  std::vector<Member> rest;
  for (int64_t other : it->second.ids) {
    if (other != id) rest.push_back(members_.at(other));
  }
  RemoveCluster(it);
  DropMember(id);
  InsertClusters(std::move(rest), now_ms);
  return true;
}

NftIntervalSet::Diff NftIntervalSet::PendingDiff(int64_t now_ms) const {
  std::vector<Segment> before;
  std::vector<Segment> after;
  for (const auto& [lo, c] : removed_clusters_) {
    for (const auto& s : c.segments) {
      if (s.expiry_ms > now_ms) before.push_back(s);
    }
  }
  for (Key lo : added_clusters_) {
    for (const auto& s : clusters_.at(lo).segments) {
      if (s.expiry_ms > now_ms) after.push_back(s);
    }
  }
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  Diff d;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(d.removed));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(d.added));
  return d;
}

void NftIntervalSet::Commit() {
  staging_ = false;
  removed_clusters_.clear();
  added_clusters_.clear();
  old_members_.clear();
}

void NftIntervalSet::Rollback() {
  for (Key lo : added_clusters_) {
    auto it = clusters_.find(lo);
    segment_count_ -= it->second.segments.size();
    clusters_.erase(it);
  }
  for (auto& [lo, c] : removed_clusters_) EmplaceCluster(lo, std::move(c));
  for (auto& [id, old] : old_members_) {
    if (auto cur = members_.find(id); cur != members_.end()) {
      if (cur->second.expiry_ms != kNever) by_expiry_.erase({cur->second.expiry_ms, id});
      members_.erase(cur);
    }
    if (old) {
      members_[id] = *old;
      if (old->expiry_ms != kNever) by_expiry_.insert({old->expiry_ms, id});
    }
  }
  Commit();
}

std::vector<Segment> NftIntervalSet::Segments(int64_t now_ms) const {
  std::vector<Segment> out;
  for (const auto& [lo, c] : clusters_) {
    for (const auto& s : c.segments) {
      if (s.expiry_ms > now_ms) out.push_back(s);
    }
  }
  return out;
}

void NftIntervalSet::EmplaceCluster(Key lo, Cluster c) {
  segment_count_ += c.segments.size();
  clusters_.emplace(lo, std::move(c));
}

void NftIntervalSet::RemoveCluster(std::map<Key, Cluster>::iterator it) {
  segment_count_ -= it->second.segments.size();
  if (staging_) {
    if (added_clusters_.erase(it->first) == 0) removed_clusters_.emplace_back(it->first, std::move(it->second));
  }
  clusters_.erase(it);
}

void NftIntervalSet::InsertClusters(std::vector<Member> members, int64_t now_ms) {
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.lo < b.lo; });
  for (size_t i = 0; i < members.size();) {
    const Key lo = members[i].lo;
    Key hi = members[i].hi;
    size_t j = i + 1;
    while (j < members.size() && members[j].lo <= hi) hi = std::max(hi, members[j++].hi);
    std::vector<Member> group(members.begin() + static_cast<std::ptrdiff_t>(i),
                              members.begin() + static_cast<std::ptrdiff_t>(j));
    Cluster c;
    c.hi = hi;
    c.ids.reserve(group.size());
    for (const auto& m : group) c.ids.push_back(m.id);
    c.segments = ComputeSegments(group, max_key_, now_ms);
    EmplaceCluster(lo, std::move(c));
    if (staging_) added_clusters_.insert(lo);
    i = j;
  }
}

void NftIntervalSet::SetMember(const Member& m) {
  auto cur = members_.find(m.id);
  if (staging_ && !old_members_.contains(m.id)) {
    old_members_.emplace(m.id, cur == members_.end() ? std::nullopt : std::optional<Member>(cur->second));
  }
  if (cur != members_.end() && cur->second.expiry_ms != kNever) by_expiry_.erase({cur->second.expiry_ms, m.id});
  members_[m.id] = m;
  if (m.expiry_ms != kNever) by_expiry_.insert({m.expiry_ms, m.id});
}

void NftIntervalSet::DropMember(int64_t id) {
  auto cur = members_.find(id);
  if (cur == members_.end()) return;
  if (staging_ && !old_members_.contains(id)) old_members_.emplace(id, cur->second);
  if (cur->second.expiry_ms != kNever) by_expiry_.erase({cur->second.expiry_ms, id});
  members_.erase(cur);
}

std::map<Key, NftIntervalSet::Cluster>::iterator NftIntervalSet::ClusterOf(Key lo) {
  // Every member lies in exactly one cluster, which starts at or before it.
  return std::prev(clusters_.upper_bound(lo));
}

}  // namespace threatd::healing::nft
