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
