// GET /, /health, /api/v1/health/detailed, /metrics, /api/v1/openapi.json, /docs,
// and the web console (ConsoleAssets) for every other GET path.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "api/build_info.h"
#include "api/console_assets.h"
#include "api/routes.h"
#include "http/error_mapping.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;

// API docs assets, read once at start: Swagger UI from npm plus our page.
struct DocsAssets {
  std::map<std::string, std::pair<std::string, std::string>> files;  // name -> (type, bytes)
};

DocsAssets LoadDocsAssets(const std::string& assets_dir, const std::string& api_prefix) {
  static const std::map<std::string, std::string> kTypes = {
      {"index.html", "text/html; charset=utf-8"},
      {"init.js", "text/javascript; charset=utf-8"},
      {"swagger-ui.css", "text/css; charset=utf-8"},
      {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
      {"favicon-32x32.png", "image/png"},
  };
  DocsAssets assets;
  for (const auto& [name, type] : kTypes) {
    std::ifstream in(std::filesystem::path(assets_dir) / "docs" / name, std::ios::binary);
    if (!in) continue;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (name == "init.js") {
      const std::string placeholder = "__OPENAPI_URL__";
      if (auto pos = bytes.find(placeholder); pos != std::string::npos)
        bytes.replace(pos, placeholder.size(), api_prefix + "/openapi.json");
    }
    assets.files[name] = {type, std::move(bytes)};
  }
  return assets;
}

Response DocsFile(const DocsAssets& assets, const std::string& name) {
  auto it = assets.files.find(name);
  if (it == assets.files.end()) {
    if (assets.files.empty())
      return Response::FromStatus(Status::Unavailable(
          "the API docs assets are not installed",
          "build with `make` (it installs swagger-ui-dist from npm), or set http.assets_dir"));
    return Response::FromStatus(Status::NotFound(fmt::format("no docs asset '{}'", name)));
  }
  Response r = Response::Text(it->second.second, 200, it->second.first);
  // Swagger UI sets inline styles and loads the document from this origin.
  r.WithHeader("Content-Security-Policy",
               "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
  r.WithHeader("Cache-Control", "public, max-age=3600");
  return r;
}

}  // namespace

void RegisterSystemRoutes(http::Router& router, ApiContext& ctx) {
  const std::string prefix = ctx.options.api_prefix;

  // "/" is the console for a browser (Accept: text/html) and the JSON banner
  // of the original API for everything else.
  auto console = ConsoleAssets::Load(ctx.assets_dir);
  router.Add(Method::kGet, "/", [console](Request& req) {
    if (req.Header("Accept").find("text/html") != std::string_view::npos) return console->Index();
    return Response::Json({{"message", "AI Threat Detection System API"},
                           {"docs", "/docs"},
                           {"console", console->installed() ? nlohmann::json("/") : nlohmann::json(nullptr)},
                           {"version", build::kVersion},
                           {"service", "threatd"}});
  }, RouteOptions{.inline_handler = true, .summary = "Service banner (the web console for browsers)", .tag = "system"});
  router.SetFallback([console](Request& req) {
    return console->Serve(req.path, req.Header("Accept").find("text/html") != std::string_view::npos);
  },
                     RouteOptions{.inline_handler = true, .summary = "Web console files", .tag = "system"});

  // Static: answers even when the database or Kafka is down.
  static const std::string kHealthy = R"({"status":"healthy"})";
  router.Add(Method::kGet, "/health", [](Request&) {
    Response r;
    r.body = kHealthy;
    return r;
  }, RouteOptions{.inline_handler = true, .summary = "Liveness: the process answers", .tag = "system"});

  router.Add(Method::kGet, prefix + "/health/detailed", [&ctx](Request&) {
    nlohmann::json body = ctx.health.Evaluate();
    body["timestamp"] = FormatIso8601(ctx.clock.Now());
    body["version"] = build::kVersion;
    const int status = body["status"] == "unhealthy" ? 503 : 200;
    return Response::Json(body, status);
  }, RouteOptions{.summary = "Readiness: every dependency checked", .tag = "system"});

  router.Add(Method::kGet, "/metrics", [&ctx](Request&) {
    return Response::Text(ctx.registry.Render(), 200, "text/plain; version=0.0.4; charset=utf-8");
  }, RouteOptions{.min_role = ctx.options.http.metrics_public ? Role::kPublic : Role::kViewer,
                  .summary = "Prometheus metrics", .tag = "system"});

  router.Add(Method::kGet, prefix + "/openapi.json", [prefix](Request&) {
    return Response::Json(OpenApiDocument(prefix));
  }, RouteOptions{.summary = "This OpenAPI 3.1 document", .tag = "system"});

  auto assets = std::make_shared<DocsAssets>(LoadDocsAssets(ctx.assets_dir, prefix));
  router.Add(Method::kGet, "/docs", [assets](Request&) { return DocsFile(*assets, "index.html"); },
             RouteOptions{.summary = "Interactive API docs (Swagger UI, served locally)", .tag = "system"});
  router.Add(Method::kGet, "/docs/{asset}", [assets](Request& req) {
    return DocsFile(*assets, std::string(req.PathParam("asset")));
  }, RouteOptions{.summary = "API docs assets", .tag = "system"});
}

}  // namespace threatd::api
