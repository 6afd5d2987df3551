// Response serialisation and the headers every response carries.
//
// Writes the status line and headers straight into a reused buffer (no
// per-header allocations): Content-Type, Content-Length, X-Request-Id, the
// security headers (X-Content-Type-Options, X-Frame-Options,
// Referrer-Policy, Content-Security-Policy, Cache-Control: no-store for
// JSON), CORS headers when the origin is allowed, the handler's extra
// headers (CR/LF-bearing values are dropped), Connection: close when the
// connection ends after this response. HEAD responses keep Content-Length
// but carry no body.
// Thread-safety: CorsPolicy is immutable; SerializeResponse is pure.
// Internal to the http component.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/response.h"

namespace threatd::http {

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> origins);
  // True when a browser at `origin` may call the API.
  bool Allows(std::string_view origin) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

struct ResponseContext {
  std::string_view request_id;
  std::string_view cors_origin;  // echoed in Access-Control-Allow-Origin when non-empty
  bool head = false;             // HEAD request: omit the body
  bool keep_alive = true;
};

void SerializeResponse(const Response& response, const ResponseContext& ctx, std::string* out);

// The 204 answer to a CORS preflight for an allowed origin.
Response PreflightResponse(std::string_view allow_methods);

}  // namespace threatd::http
