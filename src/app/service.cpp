#include "app/service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "api/build_info.h"
#include "api/routes.h"
#include "auth/api_key_service.h"
#include "healing/backend_factory.h"
#include "healing/healer.h"
#include "http/server.h"
#include "ingest/source_states.h"
#include "ingest/test_stream.h"
#include "ingest/upload_service.h"
#include "ingest/whitelist_matcher.h"
#include "kafka/flow_consumer.h"
#include "kafka/outputs.h"
#include "pipeline/pipeline.h"
#include "realtime/hub.h"
#include "realtime/hub_options.h"
#include "registry/model_registry.h"
#include "storage/database.h"
#include "storage/retention.h"

namespace threatd::app {

namespace fs = std::filesystem;

// Every long-lived component, in construction order (destroyed in reverse).
struct Service::Parts {
  config::Options options;
  Clock* clock = nullptr;
  metrics::Registry registry;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<auth::ApiKeyService> keys;
  std::unique_ptr<registry::ModelRegistry> models;
  std::thread model_loader;
  std::atomic<bool> models_loading{true};
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<realtime::RealtimeHub> hub;
  std::unique_ptr<ingest::SourceStates> sources;
  std::unique_ptr<ingest::WhitelistMatcher> whitelist;
  std::unique_ptr<kafka::KafkaOutputs> kafka_out;  // null unless kafka.bootstrap_servers is set
  std::unique_ptr<healing::Healer> healer;
  std::unique_ptr<ingest::TestStream> test_stream;
  std::unique_ptr<ingest::UploadService> uploads;
  std::unique_ptr<storage::RetentionWorker> retention;
  std::unique_ptr<kafka::FlowConsumer> kafka_internal;  // null unless kafka.bootstrap_servers is set
  std::unique_ptr<kafka::FlowConsumer> kafka_external;
  std::unique_ptr<storage::ChangeFeed> change_feed;  // null on SQLite
  api::HealthRegistry health;
  std::unique_ptr<api::ApiContext> ctx;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::optional<std::string> bootstrap_key;
  bool stopped = false;
};

namespace {

http::ServerOptions ToServerOptions(const config::HttpSection& h, const config::RealtimeSection& rt) {
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
  // The per-client WebSocket queue (drop-oldest); the hub disconnects a
  // client that keeps dropping for realtime.max_lag, before the server's own
  // slow-client timeout would.
  s.ws_send_queue_limit = static_cast<size_t>(rt.client_queue);
  s.ws_slow_client_timeout = std::max(s.ws_slow_client_timeout, 2 * rt.max_lag);
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

// healing.policy_file (or the default policy) plus healing.protected_networks.
Result<healing::PolicyConfig> InitialPolicy(const config::HealingSection& h) {
  healing::PolicyConfig policy = healing::DefaultPolicy();
  if (!h.policy_file.empty()) {
    std::ifstream in(h.policy_file);
    if (!in)
      return Status::InvalidArgument(fmt::format("cannot read healing.policy_file '{}'", h.policy_file),
                                     "give a readable JSON file (the shape GET /api/v1/policy returns)");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = healing::ParsePolicy(nlohmann::json::parse(text.str(), nullptr, false));
    if (!parsed.ok())
      return Status::InvalidArgument(fmt::format("healing.policy_file '{}': {}", h.policy_file, parsed.status().message()));
    policy = std::move(*parsed);
  }
  std::stringstream list(h.protected_networks);
  for (std::string item; std::getline(list, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    auto n = IpNetwork::Parse(item);
    if (!n.ok())
      return Status::InvalidArgument("healing.protected_networks: " + n.status().message(),
                                     "a comma-separated list of addresses and CIDR ranges");
    policy.protected_networks.push_back(*n);
  }
  return policy;
}

Status BuildHealing(Service::Parts& p) {
  const auto& h = p.options.healing;
  auto mode = healing::ParseMode(h.mode);
  if (!mode)
    return Status::InvalidArgument(fmt::format("healing.mode '{}' is not valid", h.mode), "use enforce or dry_run");
  auto policy = InitialPolicy(h);
  if (!policy.ok()) return policy.status();
  auto backend = healing::MakeBackend(h);
  if (!backend.ok()) return backend.status();
  healing::HealerOptions ho;
  ho.initial_mode = *mode;
  ho.initial_policy = std::move(*policy);
  ho.cleanup_on_shutdown = h.cleanup_on_shutdown;
  auto* hub = p.hub.get();
  auto* kafka_out = p.kafka_out.get();
  p.healer = std::make_unique<healing::Healer>(
      std::move(ho), p.db->Decisions(), *p.whitelist, std::move(*backend), *p.clock, p.registry,
      [hub, kafka_out](std::string_view type, const nlohmann::json& data) {
        hub->Publish(type, data);
        if (kafka_out) kafka_out->PublishDecision(type, data);
      });
  if (Status s = p.healer->Start(); !s.ok()) return s.WithContext("starting self-healing");
  p.pipeline->AddObserver(p.healer.get());
  return Status::Ok();
}

// The stats_update payload: the prediction totals plus the pipeline's rate.
nlohmann::json StatsJson(const pipeline::Pipeline& pipeline, const storage::PredictionStats& s) {
  nlohmann::json dist = nlohmann::json::object();
  for (const auto& [name, n] : s.attack_types.counts) dist[name] = n;
  const auto snap = pipeline.Snapshot();
  return {{"total_predictions", s.total_predictions},
          {"total_attacks", s.total_attacks},
          {"total_normal", s.total_normal},
          {"attack_rate", s.attack_rate},
          {"attack_type_distribution", std::move(dist)},
          {"flows_per_second", snap.flows_per_second},
          {"pipeline_queue_depth", snap.queue_depth}};
}

// The detection side: models -> pipeline -> WebSocket hub, and the sources
// that feed the pipeline (uploads, test stream), data-source flags,
// whitelist and retention.
Status BuildDetection(Service::Parts& p) {
  const auto& o = p.options;
  Clock& clock = *p.clock;
  storage::TrafficRepository& traffic = p.db->Traffic();
  if (auto n = traffic.FailAbandonedUploads(clock.Now()); n.ok() && *n > 0)
    spdlog::warn("{} upload(s) interrupted by the last shutdown were rolled back and marked failed", *n);

  const std::string assets = ResolveAssetsDir(o);
  registry::RegistryOptions ro;
  ro.models_dir = o.EffectiveModelsDir();
  ro.defaults_dir = o.models.defaults_dir.empty() ? assets + "/models" : o.models.defaults_dir;
  // Loaded by Service::Start() on a thread of its own once the server
  // listens: /health answers at once while the models load.
  p.models = std::make_unique<registry::ModelRegistry>(ro, p.db->Models(), clock, p.registry);

  pipeline::PipelineOptions po;
  po.queue_capacity = static_cast<size_t>(o.pipeline.queue_capacity);
  po.workers = static_cast<size_t>(o.pipeline.workers);
  p.pipeline = std::make_unique<pipeline::Pipeline>(po, *p.models, traffic, clock, p.registry);

  auto* pipe = p.pipeline.get();
  p.hub = std::make_unique<realtime::RealtimeHub>(
      realtime::HubOptionsFromConfig(o.realtime), *p.keys,
      [&traffic, pipe]() -> Result<nlohmann::json> {
        auto s = traffic.Stats({});
        if (!s.ok()) return s.status();
        return StatsJson(*pipe, *s);
      },
      clock, p.registry);
  p.pipeline->AddObserver(p.hub.get());
  p.hub->Start();

  p.sources = std::make_unique<ingest::SourceStates>(*p.db, clock);
  THREATD_RETURN_IF_ERROR(p.sources->Start());
  p.whitelist = std::make_unique<ingest::WhitelistMatcher>(p.db->Whitelist(), clock);
  THREATD_RETURN_IF_ERROR(p.whitelist->Start());
  // Kafka publishers (predictions, decisions, the test stream's flows); never wait for the brokers.
  if (!o.kafka.bootstrap_servers.empty()) {
    auto out = kafka::KafkaOutputs::Create(o.kafka, clock, p.registry);
    if (!out.ok()) return out.status().WithContext("creating the Kafka publishers");
    p.kafka_out = std::move(out).value();
    p.kafka_out->Start();
    if (auto* predictions = p.kafka_out->predictions()) p.pipeline->AddObserver(predictions);
  }
  THREATD_RETURN_IF_ERROR(BuildHealing(p));

  auto profile = ingest::LoadTrafficProfile(assets);
  ingest::TestStream::Sink stream_sink = p.kafka_out ? p.kafka_out->Flows() : nullptr;
  if (!stream_sink) stream_sink = [pipe](pipeline::FlowBatch b) { return pipe->Submit(std::move(b)); };
  p.test_stream = std::make_unique<ingest::TestStream>(std::move(stream_sink), profile.ok() ? *profile : nullptr,
                                                       *p.sources, clock, profile.ok() ? "" : profile.status().message());

  ingest::UploadOptions uo;
  uo.batch_size = static_cast<size_t>(o.pipeline.batch_size);
  p.uploads = std::make_unique<ingest::UploadService>(*p.pipeline, *p.models, traffic, clock, uo,
                                                      (fs::path(o.data_dir) / "uploads").string());
  auto* hub = p.hub.get();
  p.uploads->SetProgressSink([hub](const ingest::UploadProgress& g) {
    hub->Publish("batch_progress", {{"batch_id", g.batch_id},
                                    {"bytes_read", g.bytes_read},
                                    {"rows_read", g.rows_read},
                                    {"rows_stored", g.rows_stored},
                                    {"finished", g.finished}});
  });

  storage::RetentionOptions rto;
  rto.days = o.retention.days;
  rto.interval = o.retention.interval;
  rto.batch_rows = o.retention.batch_rows;
  p.retention = std::make_unique<storage::RetentionWorker>(traffic, rto, clock);
  p.retention->Start();

  // Kafka flow consumers (issue 6): their own threads; Start() never waits
  // for a broker, so /health answers whether the cluster is up or not.
  if (!o.kafka.bootstrap_servers.empty()) {
    auto submit = [pipe](pipeline::FlowBatch b) { return pipe->Submit(std::move(b)); };
    p.kafka_internal = std::make_unique<kafka::FlowConsumer>(kafka::InternalConsumerOptions(o.kafka), submit,
                                                             p.sources.get(), p.whitelist.get(), clock, p.registry);
    p.kafka_external = std::make_unique<kafka::FlowConsumer>(kafka::ExternalConsumerOptions(o.kafka), submit,
                                                             p.sources.get(), p.whitelist.get(), clock, p.registry);
    THREATD_RETURN_IF_ERROR(p.kafka_internal->Start());
    THREATD_RETURN_IF_ERROR(p.kafka_external->Start());
  }
  return Status::Ok();
}

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
  THREATD_RETURN_IF_ERROR(BuildDetection(*p));

  p->ctx = std::make_unique<api::ApiContext>(api::ApiContext{
      p->options, *p->db, *p->keys, p->registry, p->health, clock, ResolveAssetsDir(options), nullptr});
  api::RegisterSystemRoutes(p->router, *p->ctx);
  api::RegisterKeyRoutes(p->router, *p->ctx);
  api::RegisterRealtimeRoutes(p->router, *p->ctx, *p->hub);
  api::RegisterUploadRoutes(p->router, *p->ctx, *p->uploads);
  api::RegisterUploadBatchRoutes(p->router, *p->ctx);
  api::RegisterPredictionRoutes(p->router, *p->ctx);
  api::RegisterModelRoutes(p->router, *p->ctx, *p->models);
  auto* healer = p->healer.get();
  api::RegisterConfigRoutes(p->router, *p->ctx, *p->sources, *p->whitelist, [healer] {
    if (auto n = healer->ApplyWhitelist(); !n.ok()) spdlog::error("lifting whitelisted blocks: {}", n.status().ToString());
  });
  api::RegisterHealingRoutes(p->router, *p->ctx, *p->healer);
  api::RegisterTestRoutes(p->router, *p->ctx, *p->test_stream);

  auto* keys = p->keys.get();
  p->server = std::make_unique<http::Server>(ToServerOptions(options.http, options.realtime), p->router, p->registry,
                                             [keys](std::string_view token) { return keys->Authenticate(token); });
  auto* hub = p->hub.get();
  p->ctx->websocket_connections = [hub] { return hub->Connections(); };
  p->change_feed = p->db->OpenChangeFeed();
  RegisterHealthChecks(*p);
  return std::unique_ptr<Service>(new Service(std::move(p)));
}

namespace {

// Other instances sharing the database change the whitelist, sources, policy,
// decisions and models; the change feed says which, and the caches reload.
// Runs on the feed's thread.
void OnSharedStateChanged(Service::Parts& p, const std::set<std::string>& tables) {
  auto changed = [&](const char* table) { return tables.count(storage::kAllTables) || tables.count(table); };
  auto log = [](std::string_view what, const Status& s) {
    if (!s.ok()) spdlog::warn("reloading {} after a change by another instance: {}", what, s.ToString());
  };
  if (changed("ip_whitelist")) {
    log("the whitelist", p.whitelist->Refresh());
    if (auto n = p.healer->ApplyWhitelist(); !n.ok()) log("whitelisted decisions", n.status());
  }
  if (changed("data_source_config")) log("the data sources", p.sources->Refresh());
  if (changed("healing_settings")) log("the self-healing settings", p.healer->ReloadSettings());
  if (changed("self_healing_actions")) {
    if (auto n = p.healer->SyncDecisions(); !n.ok()) log("the self-healing decisions", n.status());
  }
  // While the first load runs, it reads the active rows itself.
  if (changed("ml_models") && !p.models_loading.load()) log("the models", p.models->Reload());
}

// "kafka" (the cluster, from the internal consumer's cached metadata: never
// blocks), "consumers" (internal / external consumer state) and "publishers".
// The consumers and the publishers exist together, when Kafka is configured.
void RegisterKafkaHealth(Service::Parts& p) {
  if (!p.kafka_internal) {
    const std::string reason = "kafka.bootstrap_servers (KAFKA_BOOTSTRAP_SERVERS) is not set";
    p.health.Add("publishers", [reason]() -> nlohmann::json { return {{"status", "disabled"}, {"reason", reason}}; });
    p.health.Add("kafka", [reason]() -> nlohmann::json { return {{"status", "disabled"}, {"reason", reason}}; });
    p.health.Add("consumers", [reason]() -> nlohmann::json {
      return {{"status", "disabled"},
              {"internal", {{"status", "disabled"}, {"reason", reason}}},
              {"external", {{"status", "disabled"}, {"reason", reason}}}};
    });
    return;
  }
  auto* out = p.kafka_out.get();
  p.health.Add("publishers", [out] { return out->HealthCheck(); });
  auto* internal = p.kafka_internal.get();
  auto* external = p.kafka_external.get();
  p.health.Add("kafka", [internal] { return kafka::ClusterHealth(internal->Snapshot()); });
  p.health.Add("consumers", [internal, external]() -> nlohmann::json {
    nlohmann::json in = internal->HealthCheck(), ex = external->HealthCheck();
    // Worst of the two; a disabled consumer is not a fault.
    auto rank = [](const nlohmann::json& j) {
      const std::string s = j.value("status", "error");
      return s == "error" ? 3 : s == "degraded" ? 2 : s == "ok" ? 1 : 0;
    };
    const int worst = std::max(rank(in), rank(ex));
    const char* status = worst == 3 ? "error" : worst == 2 ? "degraded" : worst == 1 ? "ok" : "disabled";
    return {{"status", status}, {"internal", std::move(in)}, {"external", std::move(ex)}};
  });
}

void RegisterHealthChecks(Service::Parts& p) {
  auto* db = p.db.get();
  p.health.Add("database", [db]() -> nlohmann::json {
    auto latency = db->Ping();
    if (!latency.ok())
      return {{"status", "error"}, {"dialect", db->Dialect()}, {"error", latency.status().message()}};
    return {{"status", "ok"}, {"dialect", db->Dialect()}, {"latency_ms", *latency}};
  }, /*critical=*/true);

  RegisterKafkaHealth(p);
  auto* models = p.models.get();
  auto* loading = &p.models_loading;
  p.health.Add("models", [models, loading] {
    nlohmann::json j = models->HealthCheck();
    if (loading->load()) {
      j["status"] = "degraded";
      j["loading"] = true;
    }
    return j;
  });
  auto* pipe = p.pipeline.get();
  p.health.Add("pipeline", [pipe, &clock = *p.clock]() -> nlohmann::json {
    const auto s = pipe->Snapshot();
    // Degraded while the queue is full (sources are being slowed down) or a
    // batch failed within the last minute.
    const bool recent_error = s.last_error_at && clock.Now() - *s.last_error_at < std::chrono::minutes(1);
    const bool full = s.queue_depth >= s.queue_capacity;
    nlohmann::json j = {{"status", recent_error || full ? "degraded" : "ok"},
                        {"queue_depth", s.queue_depth},
                        {"queue_capacity", s.queue_capacity},
                        {"queued_flows", s.queued_flows},
                        {"flows_total", s.flows_total},
                        {"flows_per_second", s.flows_per_second},
                        {"batches_failed", s.batches_failed}};
    j["last_error"] = s.last_error ? nlohmann::json(*s.last_error) : nlohmann::json(nullptr);
    j["last_error_at"] = s.last_error_at ? nlohmann::json(FormatIso8601(*s.last_error_at)) : nlohmann::json(nullptr);
    return j;
  });
  auto* hub = p.hub.get();
  p.health.Add("websocket", [hub] { return hub->HealthCheck(); });
  auto* sources = p.sources.get();
  p.health.Add("sources", [sources] { return sources->HealthCheck(); });
  auto* whitelist = p.whitelist.get();
  p.health.Add("whitelist", [whitelist] { return whitelist->HealthCheck(); });
  auto* healer = p.healer.get();
  p.health.Add("self_healing", [healer] { return healer->HealthCheck(); });
  auto* stream = p.test_stream.get();
  p.health.Add("test_stream", [stream] { return stream->HealthCheck(); });
  if (auto* feed = p.change_feed.get()) p.health.Add("change_feed", [feed] { return feed->HealthCheck(); });
}

}  // namespace

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Service::~Service() { Stop(); }

Status Service::Start() {
  THREATD_RETURN_IF_ERROR(parts_->server->Start());
  if (parts_->change_feed)
    parts_->change_feed->Start(
        [p = parts_.get()](const std::set<std::string>& tables) { OnSharedStateChanged(*p, tables); });
  parts_->model_loader = std::thread([p = parts_.get()] {
    if (Status s = p->models->Start(); !s.ok()) spdlog::error("loading the models failed: {}", s.ToString());
    p->models_loading = false;
  });
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

const http::Router& Service::router() const { return parts_->router; }

void Service::Stop() {
  if (!parts_ || parts_->stopped) return;
  parts_->stopped = true;
  // The hub first: it lets go of its WebSocket sessions while the server that
  // owns their sockets still exists.
  if (parts_->change_feed) parts_->change_feed->Stop();
  parts_->hub->Stop();
  parts_->server->Stop();
  if (parts_->model_loader.joinable()) parts_->model_loader.join();
  // Sources first, then the pipeline drains what they queued, then the rest.
  // The Kafka consumers finish their in-flight batches and commit first.
  if (parts_->kafka_internal) parts_->kafka_internal->Stop();
  if (parts_->kafka_external) parts_->kafka_external->Stop();
  parts_->test_stream->Stop();
  parts_->uploads->Stop();
  parts_->pipeline->Stop();
  parts_->healer->Stop();  // after the pipeline: its last detections are decided
  if (parts_->kafka_out) parts_->kafka_out->Stop();  // after both: their last messages are flushed
  parts_->retention->Stop();
  parts_->whitelist->Stop();
  parts_->sources->Stop();
  if (Status s = parts_->db->Flush(); !s.ok()) spdlog::error("flushing storage at shutdown: {}", s.ToString());
  parts_->db->Close();
  spdlog::info("threatd stopped");
}

}  // namespace threatd::app
