#include "app/service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "api/build_info.h"
#include "api/routes.h"
#include "auth/api_key_service.h"
#include "http/server.h"
#include "storage/database.h"

namespace threatd::app {

namespace fs = std::filesystem;

// Every long-lived component, in construction order (destroyed in reverse).
struct Service::Parts {
  config::Options options;
  Clock* clock = nullptr;
  metrics::Registry registry;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<auth::ApiKeyService> keys;
  api::HealthRegistry health;
  std::unique_ptr<api::ApiContext> ctx;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::optional<std::string> bootstrap_key;
  bool stopped = false;
};

namespace {

http::ServerOptions ToServerOptions(const config::HttpSection& h) {
  http::ServerOptions s;
  s.host = h.host;
  s.port = h.port;
  s.io_threads = static_cast<size_t>(h.io_threads);
  s.worker_threads = static_cast<size_t>(h.worker_threads);
  s.max_connections = static_cast<size_t>(h.max_connections);
  s.header_timeout = h.header_timeout;
  s.read_timeout = h.read_timeout;
  s.idle_timeout = h.idle_timeout;
  s.shutdown_grace = h.shutdown_grace;
  s.default_body_limit = h.max_body_bytes;
  s.cors_origins = h.cors_origins;
  return s;
}

// SQLite needs its directory to exist; PostgreSQL needs nothing local.
Status PrepareDataDir(const config::Options& o) {
  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  if (ec)
    return Status::InvalidArgument(fmt::format("cannot create data_dir '{}': {}", o.data_dir, ec.message()),
                                   "set data_dir (THREATD_DATA_DIR) to a writable directory");
  return Status::Ok();
}

void RegisterHealthChecks(Service::Parts& p);

}  // namespace

std::string ResolveAssetsDir(const config::Options& options) {
  if (!options.http.assets_dir.empty()) return options.http.assets_dir;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "share/threatd";
  return (exe.parent_path().parent_path() / "share" / "threatd").string();
}

Result<std::unique_ptr<Service>> Service::Create(const config::Options& options, Clock& clock) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->clock = &clock;
  THREATD_RETURN_IF_ERROR(PrepareDataDir(options));

  storage::StorageOptions so;
  so.url = options.EffectiveDatabaseUrl();
  so.pool_size = options.database.pool_size;
  auto db = storage::OpenDatabase(so, p->registry, clock);
  if (!db.ok()) return db.status().WithContext("opening the database");
  p->db = std::move(db).value();
  auto migrated = p->db->Migrate();
  if (!migrated.ok())
    return Status(migrated.status().code(), "database migration failed: " + migrated.status().message(),
                  "the database was left as it was before the failing migration; fix the cause and restart");

  p->keys = std::make_unique<auth::ApiKeyService>(*p->db, clock, p->registry);
  if (options.auth.bootstrap_admin_key) {
    auto created = p->keys->BootstrapAdminIfNone();
    if (!created.ok()) return created.status().WithContext("creating the first admin key");
    if (created->has_value()) p->bootstrap_key = (*created)->plaintext;
  }

  p->registry
      .GetGauge("threatd_build_info", "Build facts of this binary",
                {{"version", build::kVersion}, {"commit", build::kGitCommit}, {"build_type", build::kBuildType}})
      .Set(1);

  p->ctx = std::make_unique<api::ApiContext>(api::ApiContext{
      p->options, *p->db, *p->keys, p->registry, p->health, clock, ResolveAssetsDir(options), nullptr});
  api::RegisterSystemRoutes(p->router, *p->ctx);
  api::RegisterKeyRoutes(p->router, *p->ctx);
  api::RegisterRealtimeRoutes(p->router, *p->ctx);

  auto* keys = p->keys.get();
  p->server = std::make_unique<http::Server>(ToServerOptions(options.http), p->router, p->registry,
                                             [keys](std::string_view token) { return keys->Authenticate(token); });
  auto* server = p->server.get();
  p->ctx->websocket_connections = [server] { return server->WebSocketConnections(); };
  RegisterHealthChecks(*p);
  return std::unique_ptr<Service>(new Service(std::move(p)));
}

namespace {

void RegisterHealthChecks(Service::Parts& p) {
  auto* db = p.db.get();
  p.health.Add("database", [db]() -> nlohmann::json {
    auto latency = db->Ping();
    if (!latency.ok())
      return {{"status", "error"}, {"dialect", db->Dialect()}, {"error", latency.status().message()}};
    return {{"status", "ok"}, {"dialect", db->Dialect()}, {"latency_ms", *latency}};
  }, /*critical=*/true);

  const bool kafka_configured = !p.options.kafka.bootstrap_servers.empty();
  const std::string kafka_reason = kafka_configured
      ? "Kafka ingestion is not part of this build yet; bootstrap_servers is ignored"
      : "kafka.bootstrap_servers (KAFKA_BOOTSTRAP_SERVERS) is not set";
  p.health.Add("kafka", [kafka_reason]() -> nlohmann::json {
    return {{"status", "disabled"}, {"reason", kafka_reason}};
  });
  p.health.Add("consumers", [kafka_reason]() -> nlohmann::json {
    return {{"status", "disabled"},
            {"internal", {{"status", "disabled"}, {"reason", kafka_reason}}},
            {"external", {{"status", "disabled"}, {"reason", kafka_reason}}}};
  });
  p.health.Add("models", []() -> nlohmann::json {
    return {{"status", "disabled"}, {"reason", "no detection models are loaded by this build yet"}};
  });
  auto* server = p.server.get();
  p.health.Add("websocket", [server]() -> nlohmann::json {
    return {{"status", "ok"}, {"connections", server->WebSocketConnections()}};
  });
}

}  // namespace

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Service::~Service() { Stop(); }

Status Service::Start() {
  THREATD_RETURN_IF_ERROR(parts_->server->Start());
  spdlog::info("threatd {} listening on {} (database: {})", build::kVersion, BaseUrl(), parts_->db->RedactedUrl());
  return Status::Ok();
}

uint16_t Service::Port() const { return parts_->server->Port(); }

std::string Service::BaseUrl() const {
  const std::string& host = parts_->options.http.host;
  const std::string shown = host == "0.0.0.0" || host == "::" ? "localhost" : host;
  return fmt::format("http://{}:{}", shown, Port());
}

const std::optional<std::string>& Service::BootstrapKey() const { return parts_->bootstrap_key; }

void Service::Stop() {
  if (!parts_ || parts_->stopped) return;
  parts_->stopped = true;
  parts_->server->Stop();
  if (Status s = parts_->db->Flush(); !s.ok()) spdlog::error("flushing storage at shutdown: {}", s.ToString());
  parts_->db->Close();
  spdlog::info("threatd stopped");
}

}  // namespace threatd::app
