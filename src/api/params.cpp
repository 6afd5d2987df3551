#include "api/params.h"

#include <fmt/format.h>

#include <charconv>

namespace threatd::api {

Result<int64_t> IntParam(std::string_view name, std::string_view text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi)
    return Status::Validation(fmt::format("'{}' must be an integer from {} to {}, got '{}'", name, lo, hi, text));
  return v;
}

Status ParsePage(const http::Request& req, int64_t* limit, int64_t* offset) {
  if (auto v = req.Query("limit")) {
    auto n = IntParam("limit", *v, 1, 1000);
    if (!n.ok()) return n.status();
    *limit = *n;
  }
  if (auto v = req.Query("offset")) {
    auto n = IntParam("offset", *v, 0, INT64_MAX);
    if (!n.ok()) return n.status();
    *offset = *n;
  }
  return Status::Ok();
}

Result<bool> BoolParam(std::string_view name, std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return Status::Validation(fmt::format("'{}' must be true or false, got '{}'", name, text));
}

}  // namespace threatd::api
