// ConsoleAssets: the built web console (Vite output in <assets>/console),
// served by `threatd serve` on the API's port.
//
// Load() reads every file under <assets_dir>/console into memory once at
// start-up (the build is a few hundred kB; a rebuild needs a restart). Serve()
// answers a GET for a path no API route matched:
//   - /api, /ws, /docs, /health and /metrics (and anything under them) are
//     never shadowed: 404 with the API's JSON error, as without a console;
//   - an existing file: its bytes with a content type from its extension;
//     files under /assets/ are content-hashed by Vite, so they are cached
//     for a year ("immutable"), everything else is revalidated (no-cache);
//   - a missing path whose last segment has an extension: 404 (a broken
//     asset link must not come back as HTML);
//   - any other path: index.html (single-page-app routes like /dashboard)
//     when the client takes HTML (a browser navigating); for API clients
//     (curl, scripts: no text/html in Accept) the API's 404 JSON, so a typo
//     in an endpoint path is not answered 200 with a web page.
// When the console is not installed (npm missing at build time), Index()
// answers 503 with a page that says how to build it.
//
// Thread-safety: immutable after Load(); Serve() and Index() are safe from
// any thread. Errors: Load() never fails (a missing directory means "not
// installed"); unreadable files are skipped and logged.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "http/response.h"

namespace threatd::api {

class ConsoleAssets {
 public:
  static std::shared_ptr<const ConsoleAssets> Load(const std::string& assets_dir);

  bool installed() const { return files_.count("/index.html") != 0; }
  // `wants_html`: the request's Accept header names text/html.
  http::Response Serve(std::string_view path, bool wants_html = true) const;
  http::Response Index() const;

  // True for paths the console must never answer (API, WebSocket, docs, probes).
  static bool IsReservedPath(std::string_view path);
  // Content type for a file name, by extension ("application/octet-stream" if unknown).
  static std::string ContentType(std::string_view name);

 private:
  struct File {
    std::string type;
    std::string bytes;
  };
  std::string dir_;
  std::map<std::string, File, std::less<>> files_;  // "/index.html", "/assets/index-abc123.js", ...
};

}  // namespace threatd::api
