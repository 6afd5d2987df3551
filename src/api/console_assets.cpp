#include "api/console_assets.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "http/error_mapping.h"

namespace threatd::api {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 5> kReserved = {"/api", "/ws", "/docs", "/health", "/metrics"};

// The console's page: scripts and styles only from this origin; WebSocket and
// fetch to this origin (CSP 'self' covers ws:/wss: to the same host).
void SecurityHeaders(http::Response& r) {
  r.WithHeader("Content-Security-Policy",
               "default-src 'self'; connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
               "frame-ancestors 'none'");
}

}  // namespace

bool ConsoleAssets::IsReservedPath(std::string_view path) {
  for (std::string_view prefix : kReserved) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    if (path.size() == prefix.size() || path[prefix.size()] == '/') return true;
  }
  return false;
}

std::string ConsoleAssets::ContentType(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},               {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},           {".webmanifest", "application/manifest+json"},
  };
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  auto it = kTypes.find(name.substr(dot));
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::shared_ptr<const ConsoleAssets> ConsoleAssets::Load(const std::string& assets_dir) {
  auto assets = std::make_shared<ConsoleAssets>();
  assets->dir_ = (fs::path(assets_dir) / "console").string();
  std::error_code ec;
  if (!fs::is_directory(assets->dir_, ec)) {
    spdlog::warn("web console not installed ({} missing): build it with `make` (needs npm)", assets->dir_);
    return assets;
  }
  for (auto it = fs::recursive_directory_iterator(assets->dir_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) {
      spdlog::warn("web console: cannot read {}", it->path().string());
      continue;
    }
    File f{ContentType(it->path().filename().string()),
           std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
    assets->files_["/" + fs::relative(it->path(), assets->dir_, ec).generic_string()] = std::move(f);
  }
  if (!assets->installed())
    spdlog::warn("web console incomplete ({} has no index.html): rebuild it with `make`", assets->dir_);
  return assets;
}

http::Response ConsoleAssets::Index() const {
  auto it = files_.find(std::string_view("/index.html"));
  if (it == files_.end()) {
    http::Response r = http::Response::Text(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>threatd</title></head><body>"
        "<h1>threatd is running, but its web console is not built</h1>"
        "<p>The console is built with npm when threatd is built. Install Node.js and npm "
        "(<code>scripts/setup.sh</code> does), then run <code>make run</code> again, or build it by hand: "
        "<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild threatd.</p>"
        "<p>The API works without it: see <a href=\"/docs\">/docs</a>.</p></body></html>",
        503, "text/html; charset=utf-8");
    r.WithHeader("Cache-Control", "no-cache");
    return r;
  }
  http::Response r = http::Response::Text(it->second.bytes, 200, it->second.type);
  r.WithHeader("Cache-Control", "no-cache");
  SecurityHeaders(r);
  return r;
}

http::Response ConsoleAssets::Serve(std::string_view path, bool wants_html) const {
  if (IsReservedPath(path))
    return http::Response::FromStatus(
        Status::NotFound(fmt::format("no endpoint at {}", path), "see /docs for the list of endpoints"));
  if (path == "/" || path == "/index.html") return Index();
  if (auto it = files_.find(path); it != files_.end()) {
    http::Response r = http::Response::Text(it->second.bytes, 200, it->second.type);
    const bool hashed = path.substr(0, 8) == "/assets/";
    r.WithHeader("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    return r;
  }
  const auto slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (last.find('.') != std::string_view::npos || path.substr(0, 8) == "/assets/")
    return http::Response::FromStatus(
        Status::NotFound(fmt::format("no console file at {}", path),
                         installed() ? "the console was rebuilt: reload the page"
                                     : "the web console is not built: run `make` (needs npm)"));
  if (!wants_html)
    return http::Response::FromStatus(
        Status::NotFound(fmt::format("no endpoint at {}", path), "see /docs for the list of endpoints"));
  return Index();
}

}  // namespace threatd::api
