#include "healing/webhook_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/ascii.h"

namespace threatd::healing {
namespace {

bool IsIpv4(const std::string& host) {
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& host) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

Status Bad(std::string what) {
  return Status::Validation("webhook url: " + std::move(what),
                            "use http://host[:port]/path or https://host[:port]/path");
}

}  // namespace

std::string WebhookUrl::Redacted() const {
  return std::string(tls ? "https://" : "http://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
         ":" + std::to_string(port);
}

std::string WebhookUrl::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

Result<WebhookUrl> ParseWebhookUrl(std::string_view text) {
  if (text.empty()) return Bad("no URL configured");
  for (const unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return Bad("contains whitespace or a control character");
  }
  WebhookUrl url;
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return Bad("'" + std::string(text) + "' has no scheme");
  const std::string scheme = AsciiLower(text.substr(0, scheme_end));
  if (scheme == "https") {
    url.tls = true;
    url.port = 443;
  } else if (scheme != "http") {
    return Bad("scheme '" + scheme + "' is not supported");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return Bad("fragments ('#') are not sent to servers; remove it");
  const size_t path_start = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_start);
  const std::string_view target = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    return Status::Validation("webhook url: credentials in the URL (user:password@) are not accepted",
                              "send them in a header instead, e.g. Authorization");
  }

  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad("unterminated '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad("unexpected text after ']'");
      port = after.substr(1);
      has_port = true;
    }
    url.host = AsciiLower(host);
    if (!IsIpv6(url.host)) return Bad("'" + url.host + "' is not an IPv6 address");
    url.host_is_ip = true;
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    url.host = AsciiLower(host);
    if (url.host.empty()) return Bad("no host");
    if (!ValidHostName(url.host)) return Bad("'" + url.host + "' is not a valid host");
    url.host_is_ip = IsIpv4(url.host);
  }
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Bad("port '" + std::string(port) + "' is not a number in 1..65535");
    }
    url.port = static_cast<uint16_t>(value);
  }
  url.target = target.empty() ? "/" : target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return url;
}

}  // namespace threatd::healing
