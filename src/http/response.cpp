#include "http/response.h"

#include "http/error_mapping.h"

namespace threatd::http {

Response Response::Json(const nlohmann::json& j, int status) {
  Response r;
  r.status = status;
  // Replace invalid UTF-8 instead of throwing: a bad byte in stored data must not become a 500.
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::Text(std::string text, int status, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(text);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response Response::FromStatus(const Status& status) {
  if (status.ok()) return NoContent();
  return ErrorResponse(status);
}

}  // namespace threatd::http
