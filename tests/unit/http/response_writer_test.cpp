#include "http/response_writer.h"

#include <gtest/gtest.h>

namespace threatd::http {
namespace {

bool Has(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

TEST(SerializeResponse, JsonResponseCarriesSecurityHeaders) {
  std::string out;
  SerializeResponse(Response::Json({{"status", "ok"}}), {"req-1", {}, false, true}, &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_TRUE(Has(out, "Content-Type: application/json\r\n"));
  EXPECT_TRUE(Has(out, "Content-Length: 15\r\n"));
  EXPECT_TRUE(Has(out, "X-Request-Id: req-1\r\n"));
  EXPECT_TRUE(Has(out, "X-Content-Type-Options: nosniff\r\n"));
  EXPECT_TRUE(Has(out, "X-Frame-Options: DENY\r\n"));
  EXPECT_TRUE(Has(out, "Referrer-Policy: no-referrer\r\n"));
  EXPECT_TRUE(Has(out, "Content-Security-Policy: default-src 'self'\r\n"));
  EXPECT_TRUE(Has(out, "Cache-Control: no-store\r\n"));
  EXPECT_FALSE(Has(out, "Connection: close"));
  EXPECT_FALSE(Has(out, "Access-Control-Allow-Origin"));
  EXPECT_TRUE(Has(out, "\r\n\r\n{\"status\":\"ok\"}"));
}

TEST(SerializeResponse, HeadKeepsLengthDropsBody) {
  std::string out;
  SerializeResponse(Response::Text("hello"), {"r", {}, true, false}, &out);
  EXPECT_TRUE(Has(out, "Content-Length: 5\r\n"));
  EXPECT_TRUE(Has(out, "Connection: close\r\n"));
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
  EXPECT_FALSE(Has(out, "Cache-Control"));  // not JSON
}

TEST(SerializeResponse, CorsAndExtraHeadersWithInjectionGuard) {
  std::string out;
  Response r = Response::Json({});
  r.WithHeader("Location", "/x").WithHeader("X-Evil", "a\r\nSet-Cookie: b").WithHeader("Cache-Control", "max-age=5");
  SerializeResponse(r, {"r", "https://console.example", false, true}, &out);
  EXPECT_TRUE(Has(out, "Access-Control-Allow-Origin: https://console.example\r\nVary: Origin\r\n"));
  EXPECT_TRUE(Has(out, "Location: /x\r\n"));
  EXPECT_FALSE(Has(out, "Set-Cookie"));
  EXPECT_FALSE(Has(out, "no-store"));  // the handler's Cache-Control wins
}

TEST(SerializeResponse, NoContentHasNoBodyHeaders) {
  std::string out;
  SerializeResponse(Response::NoContent(), {"r", {}, false, true}, &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
  EXPECT_FALSE(Has(out, "Content-Length"));
}

TEST(CorsPolicy, ListedOrWildcard) {
  CorsPolicy none({});
  EXPECT_FALSE(none.Allows("https://a.example"));
  CorsPolicy listed({"https://a.example"});
  EXPECT_TRUE(listed.Allows("https://a.example"));
  EXPECT_FALSE(listed.Allows("https://b.example"));
  EXPECT_FALSE(listed.Allows(""));
  CorsPolicy any({"*"});
  EXPECT_TRUE(any.Allows("https://b.example"));
}

}  // namespace
}  // namespace threatd::http
