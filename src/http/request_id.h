// Request ids: the X-Request-Id echoed on every response and logged with
// every line of the request (log::ScopedRequestId).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace threatd::http {

inline constexpr size_t kMaxRequestIdLength = 64;

// True for 1..64 characters of [A-Za-z0-9_-]; anything else could forge log
// lines or headers and is replaced.
bool IsSaneRequestId(std::string_view id);

// The incoming id if sane, else a new random one (log::NewRequestId()).
std::string RequestIdFor(std::string_view incoming);

}  // namespace threatd::http
