// NftIntervalSet: what threatd believes one nftables set holds, kept as
// decisions (members) and as the disjoint elements ("segments") derived from
// them - the model behind NftablesBackend's incremental updates.
//
// Why: an nftables interval set refuses overlapping elements ("interval
// overlaps with an existing one"), and `auto-merge` would fuse 10.0.0.0/24
// and 10.0.0.5 into one element, so lifting the /24 would also lift the
// still-active 10.0.0.5 and their different expiries would be lost. Instead
// every member keeps its own range and expiry, members whose ranges overlap
// form a cluster, and a cluster is installed as disjoint segments, each with
// the LATEST expiry of the members covering it. Example: /24 until 10:00
// plus .5 until 12:00 -> .0-.4 and .6-.255 until 10:00, .5 until 12:00. The
// kernel's timeouts then remove exactly what expires, and removing one
// member re-derives only its own cluster. Host sets (no interval flag) use
// the same model with single addresses; identical addresses form a cluster.
//
// Changes are staged: Begin(), then Upsert()/Erase(), then PendingDiff()
// says which segments to delete and add in the kernel; Commit() keeps the
// change, Rollback() restores the model exactly (when the transaction
// failed). Expired members are dropped with PurgeExpired(), which needs no
// kernel change: the kernel's timeouts already removed their segments and
// the surviving segments are unchanged by construction (a segment's expiry
// is its longest-living member's).
//
// Keys are unsigned 128-bit integers (IPv4 uses the low 32 bits); expiries
// are milliseconds since the Unix epoch, kNever for "until removed".
// Thread-safety: none; the owner serialises calls. No call blocks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/ip_network.h"
#include "common/status.h"

namespace threatd::healing::nft {

__extension__ typedef unsigned __int128 Key;  // NOLINT: GCC's 128-bit integer

inline constexpr int64_t kNever = INT64_MAX;

// An inclusive range of addresses.
struct Range {
  Key lo = 0;
  Key hi = 0;
  bool operator==(const Range&) const = default;
};

// One kernel element: a range and when the kernel drops it.
struct Segment {
  Key lo = 0;
  Key hi = 0;
  int64_t expiry_ms = kNever;
  bool operator==(const Segment&) const = default;
  bool operator<(const Segment& o) const {
    if (lo != o.lo) return lo < o.lo;
    if (hi != o.hi) return hi < o.hi;
    return expiry_ms < o.expiry_ms;
  }
};

// The largest key of a family: 2^32-1 or 2^128-1.
Key MaxKey(IpNetwork::Family family);
// The range an address or CIDR covers.
Range ToRange(const IpNetwork& network);
// Parses one address ("10.0.0.1", "fd00::1") of `family` into its key.
bool ParseKey(IpNetwork::Family family, std::string_view text, Key* out);
// "10.0.0.1", "fd00::1".
std::string FormatKey(IpNetwork::Family family, Key key);
// nft element text: "10.0.0.1" for one address, "10.0.0.0/24" when the range
// is a prefix, else "10.0.0.0-10.0.0.4".
std::string FormatRange(IpNetwork::Family family, Key lo, Key hi);

// Disjoint segments for members that overlap (or not): each maximal run of
// addresses with the same latest expiry, ignoring members expired at now_ms.
struct Member {
  int64_t id = 0;
  Key lo = 0;
  Key hi = 0;
  int64_t expiry_ms = kNever;
};
std::vector<Segment> ComputeSegments(const std::vector<Member>& members, Key max_key, int64_t now_ms);

class NftIntervalSet {
 public:
  struct Diff {
    std::vector<Segment> removed;  // installed before, not any more
    std::vector<Segment> added;    // to install
    bool empty() const { return removed.empty() && added.empty(); }
  };

  explicit NftIntervalSet(IpNetwork::Family family) : max_key_(MaxKey(family)) {}

  // Replaces everything with `members` (Reconcile); not staged.
  void Reset(const std::vector<Member>& members, int64_t now_ms);
  // Drops members expired at now_ms; not staged (see the header comment).
  void PurgeExpired(int64_t now_ms);

  void Begin();
  // Adds member `m` (replacing a member with the same id).
  void Upsert(const Member& m, int64_t now_ms);
  // Removes the member with this id; false when there is none.
  bool Erase(int64_t id, int64_t now_ms);
  // Segments to delete and to add for the staged changes, live at now_ms.
  Diff PendingDiff(int64_t now_ms) const;
  void Commit();
  void Rollback();

  bool Contains(int64_t id) const { return members_.contains(id); }
  size_t member_count() const { return members_.size(); }
  // Installed segments as of the last change or purge (O(1)).
  size_t segment_count() const { return segment_count_; }
  std::vector<Segment> Segments(int64_t now_ms) const;

 private:
  struct Cluster {
    Key hi = 0;
    std::vector<int64_t> ids;
    std::vector<Segment> segments;  // as installed (or to be installed)
  };

  void RemoveCluster(std::map<Key, Cluster>::iterator it);
  void EmplaceCluster(Key lo, Cluster c);
  void InsertClusters(std::vector<Member> members, int64_t now_ms);
  void SetMember(const Member& m);
  void DropMember(int64_t id);
  std::map<Key, Cluster>::iterator ClusterOf(Key lo);

  Key max_key_;
  std::unordered_map<int64_t, Member> members_;
  std::set<std::pair<int64_t, int64_t>> by_expiry_;  // (expiry_ms, id), finite expiries only
  std::map<Key, Cluster> clusters_;                   // by lo; disjoint
  size_t segment_count_ = 0;                          // over clusters_

  // Staging journal.
  bool staging_ = false;
  std::vector<std::pair<Key, Cluster>> removed_clusters_;  // committed clusters taken out
  std::set<Key> added_clusters_;                           // clusters created while staging
  std::unordered_map<int64_t, std::optional<Member>> old_members_;  // first value seen while staging
};

}  // namespace threatd::healing::nft
