#include <mutex>
#include <unordered_map>

#include "api/openapi_embedded.h"
#include "api/routes.h"

namespace threatd::api {

const nlohmann::json& OpenApiDocument(const std::string& api_prefix) {
  static std::mutex mu;
  static std::unordered_map<std::string, nlohmann::json> by_prefix;
  std::lock_guard lock(mu);
  auto it = by_prefix.find(api_prefix);
  if (it != by_prefix.end()) return it->second;
  // The document is written for the default prefix /api/v1; rewrite paths
  // for a configured API_V1_PREFIX.
  nlohmann::json doc = nlohmann::json::parse(kOpenApiJson);
  // Each route group's fragment adds its paths and schemas; a name defined
  // twice is a build mistake the OpenAPI test catches (the later one wins).
  for (const auto& fragment : kOpenApiFragments) {
    if (fragment.json == nullptr) break;
    const auto part = nlohmann::json::parse(fragment.json);
    const auto paths = part.value("paths", nlohmann::json::object());
    for (const auto& [path, item] : paths.items()) doc["paths"][path] = item;
    const auto schemas = part.value("components", nlohmann::json::object()).value("schemas", nlohmann::json::object());
    for (const auto& [name, schema] : schemas.items()) doc["components"]["schemas"][name] = schema;
  }
  nlohmann::json paths = nlohmann::json::object();
  for (auto& [path, item] : doc["paths"].items()) {
    std::string p = path;
    if (p.starts_with("/api/v1/") && api_prefix != "/api/v1") p = api_prefix + p.substr(7);
    paths[p] = item;
  }
  doc["paths"] = std::move(paths);
  return by_prefix.emplace(api_prefix, std::move(doc)).first->second;
}

}  // namespace threatd::api
