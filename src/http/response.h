// Response: what a route handler returns.
//
// The server adds Content-Length, X-Request-Id, security headers, CORS and
// Connection headers; handlers set only status, content type, body and any
// extra headers of their own (Location, Allow, Retry-After, ...).
// Thread-safety: a plain value.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace threatd::http {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response Json(const nlohmann::json& j, int status = 200);
  static Response Text(std::string text, int status = 200, std::string content_type = "text/plain; charset=utf-8");
  static Response NoContent();  // 204, empty body
  // The one error shape (see error_mapping.h); an OK status gives 204.
  static Response FromStatus(const Status& status);

  Response& WithHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

}  // namespace threatd::http
