// ApiContext: what the REST handlers may use, wired by the app.
//
// Ownership: every referenced object is owned by the app and outlives the
// router and server. Thread-safety: the referenced components are
// thread-safe; the context itself is immutable after construction.
#pragma once

#include <functional>
#include <string>

#include "api/health.h"
#include "auth/api_key_service.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "config/options.h"
#include "storage/database.h"

namespace threatd::api {

struct ApiContext {
  const config::Options& options;
  storage::Database& db;
  auth::ApiKeyService& keys;
  metrics::Registry& registry;
  HealthRegistry& health;
  Clock& clock;
  std::string assets_dir;  // resolved: API docs and console files
  std::function<size_t()> websocket_connections;  // set once the server exists
};

}  // namespace threatd::api
