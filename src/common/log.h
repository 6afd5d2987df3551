// Logging: spdlog with one process-wide pattern that carries the request id.
//
// A request id set with ScopedRequestId on the thread that handles a request
// appears on every line logged from that thread until the scope ends, so a
// response's X-Request-Id can be found in the logs. Secrets (API keys,
// passwords) are never passed to the logger.
//
// Thread-safety: the logger is thread-safe; the request id is thread-local.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd::log {

// Sets the global level ("trace".."critical", "off") and the pattern.
// Returns InvalidArgument naming the accepted levels for an unknown level.
Status Init(std::string_view level);

// Accepted level names, for configuration validation.
bool IsValidLevel(std::string_view level);

class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string_view id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// The current thread's request id, or "-" outside a request.
const std::string& CurrentRequestId();

// A new random request id: 16 lowercase hex characters.
std::string NewRequestId();

}  // namespace threatd::log
