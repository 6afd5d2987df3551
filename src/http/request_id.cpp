#include "http/request_id.h"

#include "common/log.h"

namespace threatd::http {

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string RequestIdFor(std::string_view incoming) {
  if (IsSaneRequestId(incoming)) return std::string(incoming);
  return log::NewRequestId();
}

}  // namespace threatd::http
