// Route registration: one function per endpoint group, each in its own file.
// The app calls them all on one Router; the OpenAPI document
// (src/api/openapi.json) lists exactly these routes (a test checks it).
#pragma once

#include "api/api_context.h"
#include "http/router.h"

namespace threatd::api {

// GET /, /health, {prefix}/health/detailed, /metrics, {prefix}/openapi.json, /docs
void RegisterSystemRoutes(http::Router& router, ApiContext& ctx);

// {prefix}/auth/me, {prefix}/keys (list, create, revoke), {prefix}/audit
void RegisterKeyRoutes(http::Router& router, ApiContext& ctx);

// WebSocket /ws/realtime and GET /ws/connections
void RegisterRealtimeRoutes(http::Router& router, ApiContext& ctx);

// The OpenAPI 3.1 document with paths under the configured API prefix.
const nlohmann::json& OpenApiDocument(const std::string& api_prefix);

}  // namespace threatd::api
