// Route registration: one function per endpoint group, each in its own file.
// The app calls them all on one Router; the OpenAPI document
// (src/api/openapi.json) lists exactly these routes (a test checks it).
#pragma once

#include "api/api_context.h"
#include "http/router.h"

namespace threatd::realtime {
class RealtimeHub;
}  // namespace threatd::realtime

namespace threatd::ingest {
class UploadService;
class SourceStates;
class WhitelistMatcher;
class TestStream;
}

namespace threatd::healing {
class Healer;
}  // namespace threatd::healing

namespace threatd::registry {
class ModelRegistry;
}  // namespace threatd::registry

namespace threatd::api {

// GET /, /health, {prefix}/health/detailed, /metrics, {prefix}/openapi.json, /docs
void RegisterSystemRoutes(http::Router& router, ApiContext& ctx);

// {prefix}/auth/me, {prefix}/keys (list, create, revoke), {prefix}/audit
void RegisterKeyRoutes(http::Router& router, ApiContext& ctx);

// WebSocket /ws/realtime (served by `hub`, which must outlive the server) and
// GET /ws/connections
void RegisterRealtimeRoutes(http::Router& router, ApiContext& ctx, realtime::RealtimeHub& hub);

// POST {prefix}/upload/csv (streamed multipart CSV; ?async=true -> 202)
void RegisterUploadRoutes(http::Router& router, ApiContext& ctx, ingest::UploadService& uploads);

// {prefix}/predictions/recent|stats|threats|attacks|actions|attack-distribution|
// action-distribution|{traffic_data_id} (viewer)
void RegisterPredictionRoutes(http::Router& router, ApiContext& ctx);

// GET {prefix}/upload/batches, GET {prefix}/upload/batch/{batch_id} (viewer)
void RegisterUploadBatchRoutes(http::Router& router, ApiContext& ctx);

// {prefix}/models: upload, list, get, activate, deactivate, rollback/{model_type},
// delete, stats/storage, info/supported-formats, profile/{model_type}
// (`models` must outlive the server)
void RegisterModelRoutes(http::Router& router, ApiContext& ctx, registry::ModelRegistry& models);

// {prefix}/config/whitelist (list, create, get, patch, delete {ip_id}) and
// {prefix}/config/sources (list, get, patch {name}); changes are applied to
// `sources` and `matcher` before the response (both must outlive the server).
// `on_whitelist_changed` (optional) runs after each whitelist change, once the
// matcher has the change (self-healing lifts the blocks the whitelist now covers).
void RegisterConfigRoutes(http::Router& router, ApiContext& ctx, ingest::SourceStates& sources,
                          ingest::WhitelistMatcher& matcher, std::function<void()> on_whitelist_changed = nullptr);

// {prefix}/actions (list, active, get {action_id}, create, revoke),
// {prefix}/policy (get, put), {prefix}/healing/mode (get, put)
// (`healer` must outlive the server)
void RegisterHealingRoutes(http::Router& router, ApiContext& ctx, healing::Healer& healer);

// POST {prefix}/test/start-stream, stop-stream, send-single; GET {prefix}/test/status
// (`stream` must outlive the server)
void RegisterTestRoutes(http::Router& router, ApiContext& ctx, ingest::TestStream& stream);

// The OpenAPI 3.1 document with paths under the configured API prefix.
const nlohmann::json& OpenApiDocument(const std::string& api_prefix);

}  // namespace threatd::api
