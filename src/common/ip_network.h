// IpNetwork: an IPv4 or IPv6 address or CIDR range, parsed strictly and
// printed in one canonical form - what the whitelist stores and matches.
//
// Parsing (inet_pton underneath, so no DNS, no zone ids "%eth0", no octal or
// shortened IPv4 forms like "10.1"):
//   "192.0.2.7"          a host (prefix 32)
//   "192.0.2.0/24"       a range; the prefix is decimal 0..32 (0..128 for v6)
//   "2001:DB8::1/128"    -> "2001:db8::1"
//   "::ffff:192.0.2.7"   an IPv4-mapped IPv6 address is the IPv4 address
//                        ("192.0.2.7"); "::ffff:192.0.2.0/120" -> "192.0.2.0/24"
// Host bits: REJECTED, not masked. "10.0.0.5/24" is ambiguous (a typo for
// the host or for the network?), so Parse fails with a message naming the
// network "10.0.0.0/24"; whitelisting more than intended is the worse error.
// Anything longer than kMaxTextLength, with whitespace or other junk fails
// with Validation.
//
// Canonical text (ToString): IPv4 dotted quad, IPv6 in RFC 5952 form
// (lower case, longest zero run compressed), "/n" only for ranges (a host
// prints without "/32" or "/128"). Parse(x.ToString()) == x.
//
// Thread-safety: a value type; copy freely. No call blocks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd {

class IpNetwork {
 public:
  enum class Family { kV4, kV6 };
  // Longest accepted input: a full IPv6 address with an embedded IPv4 and a
  // prefix is 49 characters (the ip_whitelist column's limit).
  static constexpr size_t kMaxTextLength = 49;

  // An address or a CIDR range. Validation on failure, with the reason.
  static Result<IpNetwork> Parse(std::string_view text);
  // A single address only (no "/n"), e.g. a flow's source address.
  static Result<IpNetwork> ParseAddress(std::string_view text);

  Family family() const { return family_; }
  int prefix_length() const { return prefix_; }
  // A single address: /32 for IPv4, /128 for IPv6.
  bool is_host() const { return prefix_ == MaxPrefix(family_); }
  std::string ToString() const;

  // True when every address of `other` lies in this network (same family).
  bool Contains(const IpNetwork& other) const;
  // Parses `address` (a single address); false when it does not parse.
  bool Contains(std::string_view address) const;
  // True when the two share at least one address (one contains the other).
  bool Overlaps(const IpNetwork& other) const { return Contains(other) || other.Contains(*this); }
  // The enclosing network of `prefix` bits (clamped to 0..max): host bits
  // cleared. E.g. 2001:db8::1 -> 2001:db8::/64 for 64. A shorter prefix than
  // this network's widens it; a longer one returns *this.
  IpNetwork Supernet(int prefix) const;

  bool operator==(const IpNetwork& o) const = default;

 private:
  static int MaxPrefix(Family f) { return f == Family::kV4 ? 32 : 128; }

  Family family_ = Family::kV4;
  int prefix_ = 32;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4 bytes
};

}  // namespace threatd
