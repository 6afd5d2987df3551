// The OpenAPI document lists exactly the routes the router serves.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <set>

#include "api/routes.h"
#include "app/service.h"
#include "http/method.h"

namespace threatd::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class OpenApiRoutes : public ::testing::TestWithParam<std::string> {};

// The routes come from the real composition root (app::Service), so a route
// added anywhere without its OpenAPI description fails here.
TEST_P(OpenApiRoutes, DocumentAndRouterAgree) {
  const std::string source = std::getenv("THREATD_SOURCE_DIR");
  const std::string dir = ::testing::TempDir() + "openapi_routes_" + std::to_string(::getpid());
  config::Options options;
  options.api_prefix = GetParam();
  options.data_dir = dir;
  options.database.url = "sqlite::memory:";
  options.http.port = 0;
  options.http.assets_dir = source;  // <source>/models holds the default models and traffic profile
  options.auth.bootstrap_admin_key = false;
  auto service = app::Service::Create(options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  const http::Router& router = (*service)->router();

  std::set<std::string> served;
  for (const auto& r : router.Routes()) served.insert(Lower(http::MethodName(r.method)) + " " + r.pattern);
  std::set<std::string> documented;
  const auto& doc = OpenApiDocument(options.api_prefix);
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items()) documented.insert(method + " " + path);

  for (const auto& s : served) EXPECT_TRUE(documented.count(s)) << "route missing from openapi.json: " << s;
  for (const auto& d : documented) EXPECT_TRUE(served.count(d)) << "documented but not routed: " << d;
  EXPECT_GE(served.size(), 10u);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, OpenApiRoutes, ::testing::Values("/api/v1", "/threatd/api"));

TEST(OpenApiDocument, ProtectedOperationsDeclareAuthErrors) {
  const auto& doc = OpenApiDocument("/api/v1");
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items()) {
      const bool is_public = op.contains("security") && op["security"].empty();
      if (!is_public) {
        EXPECT_TRUE(op["responses"].contains("401")) << method << " " << path;
      }
    }
}

}  // namespace
}  // namespace threatd::api
