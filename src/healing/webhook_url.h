// WebhookUrl: a webhook endpoint parsed from configuration text.
//
//   "https://hooks.example.com/threatd?team=soc"
//     -> tls, host "hooks.example.com", port 443, target "/threatd?team=soc"
//   "http://127.0.0.1:8080"  -> port 8080, target "/"
//   "https://[2001:db8::1]:8443/x" -> host "2001:db8::1" (no brackets)
// Accepted: http and https (any case), a host name, IPv4 or bracketed IPv6
// address, an optional port 1..65535, a path and query. Rejected with
// Validation (message names the problem): other schemes, user:password@
// (credentials belong in a header such as Authorization, which is never
// logged), fragments, whitespace and control characters.
//
// Redacted() is what logs, errors and Health() show: scheme://host:port
// only, because webhook paths and queries often carry secrets.
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd::healing {

struct WebhookUrl {
  bool tls = false;
  std::string host;    // without IPv6 brackets
  uint16_t port = 80;
  std::string target;  // path and query, starts with '/'
  bool host_is_ip = false;

  // "https://hooks.example.com:443"
  std::string Redacted() const;
  // The Host header: host, bracketed when IPv6, ":port" when not the scheme's default.
  std::string HostHeader() const;
};

Result<WebhookUrl> ParseWebhookUrl(std::string_view text);

}  // namespace threatd::healing
