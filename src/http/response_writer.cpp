#include "http/response_writer.h"

#include <boost/beast/http/status.hpp>
#include <charconv>

#include "http/request.h"

namespace threatd::http {

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  for (const auto& o : origins_)
    if (o == "*") any_ = true;
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  for (const auto& o : origins_)
    if (o == origin) return true;
  return false;
}

namespace {

void AppendHeader(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

bool SafeHeaderText(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

void AppendNumber(std::string* out, size_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

}  // namespace

void SerializeResponse(const Response& response, const ResponseContext& ctx, std::string* out) {
  out->clear();
  out->append("HTTP/1.1 ");
  AppendNumber(out, static_cast<size_t>(response.status));
  out->push_back(' ');
  const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status));
  out->append(reason.data(), reason.size());
  out->append("\r\n");
  const bool no_body = response.status == 204 || response.status == 304 || (response.status >= 100 && response.status < 200);
  if (!response.content_type.empty() && !no_body) AppendHeader(out, "Content-Type", response.content_type);
  if (!no_body) {
    out->append("Content-Length: ");
    AppendNumber(out, response.body.size());
    out->append("\r\n");
  }
  AppendHeader(out, "X-Request-Id", ctx.request_id);
  out->append(
      "X-Content-Type-Options: nosniff\r\n"
      "X-Frame-Options: DENY\r\n"
      "Referrer-Policy: no-referrer\r\n"
      "Content-Security-Policy: default-src 'self'\r\n");
  bool has_cache_control = false;
  for (const auto& [name, value] : response.headers)
    if (EqualsIgnoreCase(name, "Cache-Control")) has_cache_control = true;
  if (!has_cache_control && response.content_type.find("json") != std::string::npos) {
    out->append("Cache-Control: no-store\r\n");
  }
  if (!ctx.cors_origin.empty() && SafeHeaderText(ctx.cors_origin)) {
    AppendHeader(out, "Access-Control-Allow-Origin", ctx.cors_origin);
    out->append("Vary: Origin\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    if (!SafeHeaderText(name) || !SafeHeaderText(value)) continue;  // header injection guard
    AppendHeader(out, name, value);
  }
  if (!ctx.keep_alive) out->append("Connection: close\r\n");
  out->append("\r\n");
  if (!ctx.head && !no_body) out->append(response.body);
}

Response PreflightResponse(std::string_view allow_methods) {
  Response r = Response::NoContent();
  r.WithHeader("Access-Control-Allow-Methods", std::string(allow_methods));
  r.WithHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id");
  r.WithHeader("Access-Control-Max-Age", "600");
  return r;
}

}  // namespace threatd::http
