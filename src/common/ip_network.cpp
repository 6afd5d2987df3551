#include "common/ip_network.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace threatd {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
constexpr const char* kHint = "use an address like 192.0.2.7 or 2001:db8::7, or a range like 192.0.2.0/24";

Status Invalid(std::string_view text, std::string_view why) {
  // The input is echoed in the message: keep it short and printable.
  std::string shown;
  for (char c : text.substr(0, IpNetwork::kMaxTextLength)) {
    const auto u = static_cast<unsigned char>(c);
    shown += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return Status::Validation(fmt::format("Invalid IP address or CIDR range: {}", shown), fmt::format("{}; {}", why, kHint));
}

// Zeroes every bit after the first `prefix` bits; true when none was set.
bool MaskHostBits(std::array<uint8_t, 16>& bytes, int prefix, int total_bits) {
  bool clean = true;
  for (int bit = prefix; bit < total_bits; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    if (bytes[bit / 8] & mask) {
      clean = false;
      bytes[bit / 8] = static_cast<uint8_t>(bytes[bit / 8] & ~mask);
    }
  }
  return clean;
}

}  // namespace

Result<IpNetwork> IpNetwork::Parse(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  if (text.size() > kMaxTextLength) return Invalid(text, fmt::format("longer than {} characters", kMaxTextLength));
  for (char c : text) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
                    c == ':' || c == '/';
    if (!ok) return Invalid(text, "unexpected character");
  }

  const size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  std::optional<int> prefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0') ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Invalid(text, "the prefix length after '/' must be a decimal number");
    }
    int n = 0;
    for (char c : digits) n = n * 10 + (c - '0');
    prefix = n;
  }

  const std::string addr_text(addr);  // inet_pton needs a terminated string
  IpNetwork net;
  if (addr.find(':') == std::string_view::npos) {
    net.family_ = Family::kV4;
    if (inet_pton(AF_INET, addr_text.c_str(), net.bytes_.data()) != 1) return Invalid(text, "not an IPv4 address");
    net.prefix_ = prefix.value_or(32);
    if (net.prefix_ > 32) return Invalid(text, "an IPv4 prefix length is 0..32");
  } else {
    net.family_ = Family::kV6;
    if (inet_pton(AF_INET6, addr_text.c_str(), net.bytes_.data()) != 1) return Invalid(text, "not an IPv6 address");
    net.prefix_ = prefix.value_or(128);
    if (net.prefix_ > 128) return Invalid(text, "an IPv6 prefix length is 0..128");
    if (std::memcmp(net.bytes_.data(), kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
      if (net.prefix_ < 96) return Invalid(text, "an IPv4-mapped range needs a prefix of at least 96");
      std::array<uint8_t, 16> v4{};
      std::memcpy(v4.data(), net.bytes_.data() + 12, 4);
      net.bytes_ = v4;
      net.family_ = Family::kV4;
      net.prefix_ -= 96;
    }
  }

  std::array<uint8_t, 16> masked = net.bytes_;
  if (!MaskHostBits(masked, net.prefix_, MaxPrefix(net.family_))) {
    IpNetwork suggestion = net;
    suggestion.bytes_ = masked;
    return Status::Validation(
        fmt::format("Invalid IP address or CIDR range: {}", text),
        fmt::format("host bits are set after the prefix: did you mean the network {} or the single address {}?",
                    suggestion.ToString(),
                    [&] {
                      IpNetwork host = net;
                      host.prefix_ = MaxPrefix(net.family_);
                      return host.ToString();
                    }()));
  }
  return net;
}

Result<IpNetwork> IpNetwork::ParseAddress(std::string_view text) {
  if (text.find('/') != std::string_view::npos) return Invalid(text, "expected a single address, not a range");
  return Parse(text);
}

std::string IpNetwork::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  const int af = family_ == Family::kV4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes_.data(), buf, sizeof(buf)) == nullptr) return "?";  // cannot fail for these sizes
  if (is_host()) return buf;
  return fmt::format("{}/{}", buf, prefix_);
}

bool IpNetwork::Contains(const IpNetwork& other) const {
  if (other.family_ != family_ || other.prefix_ < prefix_) return false;
  std::array<uint8_t, 16> masked = other.bytes_;
  MaskHostBits(masked, prefix_, MaxPrefix(family_));
  return masked == bytes_;
}

IpNetwork IpNetwork::Supernet(int prefix) const {
  if (prefix >= prefix_) return *this;
  IpNetwork n = *this;
  n.prefix_ = std::max(prefix, 0);
  MaskHostBits(n.bytes_, n.prefix_, MaxPrefix(family_));
  return n;
}

bool IpNetwork::Contains(std::string_view address) const {
  auto a = ParseAddress(address);
  return a.ok() && Contains(*a);
}

}  // namespace threatd
