#include "config/keys.h"

#include <fmt/format.h>

#include <charconv>

#include "common/log.h"
#include "config/loader.h"

namespace threatd::config {
namespace {

Status BadValue(std::string_view key, std::string_view value, std::string_view accepted) {
  return Status::InvalidArgument(fmt::format("invalid value '{}' for configuration key '{}'", value, key),
                                 fmt::format("accepted values: {}", accepted));
}

// Binders: turn a member of Options into set/get functions with validation.
template <typename Member>
KeySpec Str(std::string key, std::vector<std::string> env, std::string help, Member member, bool secret = false) {
  KeySpec k{key, std::move(env), "any string", std::move(help), secret, nullptr, nullptr};
  k.set = [member](Options& o, std::string_view v) {
    member(o) = std::string(v);
    return Status::Ok();
  };
  k.get = [member](const Options& o) { return member(const_cast<Options&>(o)); };
  return k;
}

template <typename Member>
KeySpec Int(std::string key, std::vector<std::string> env, std::string help, long long lo, long long hi, Member member) {
  KeySpec k{key, std::move(env), fmt::format("integer {}..{}", lo, hi), std::move(help), false, nullptr, nullptr};
  k.set = [member, key, lo, hi, accepted = k.accepted](Options& o, std::string_view v) {
    long long n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) return BadValue(key, v, accepted);
    member(o) = static_cast<std::remove_reference_t<decltype(member(o))>>(n);
    return Status::Ok();
  };
  k.get = [member](const Options& o) { return std::to_string(member(const_cast<Options&>(o))); };
  return k;
}

template <typename Member>
KeySpec Bool(std::string key, std::vector<std::string> env, std::string help, Member member) {
  KeySpec k{key, std::move(env), "true|false (also 1|0, yes|no, on|off)", std::move(help), false, nullptr, nullptr};
  k.set = [member, key, accepted = k.accepted](Options& o, std::string_view v) {
    if (v == "true" || v == "1" || v == "yes" || v == "on") member(o) = true;
    else if (v == "false" || v == "0" || v == "no" || v == "off") member(o) = false;
    else return BadValue(key, v, accepted);
    return Status::Ok();
  };
  k.get = [member](const Options& o) { return std::string(member(const_cast<Options&>(o)) ? "true" : "false"); };
  return k;
}

template <typename Member>
KeySpec Duration(std::string key, std::vector<std::string> env, std::string help, Member member) {
  KeySpec k{key, std::move(env), "a duration such as 500ms, 10s, 2m, 1h", std::move(help), false, nullptr, nullptr};
  k.set = [member, key, accepted = k.accepted](Options& o, std::string_view v) {
    auto d = ParseDuration(v);
    if (!d.ok()) return BadValue(key, v, accepted);
    member(o) = *d;
    return Status::Ok();
  };
  k.get = [member](const Options& o) { return fmt::format("{}ms", member(const_cast<Options&>(o)).count()); };
  return k;
}

template <typename Member>
KeySpec Size(std::string key, std::vector<std::string> env, std::string help, Member member) {
  KeySpec k{key, std::move(env), "a size in bytes such as 1048576, 64KiB, 1MiB, 2GB", std::move(help), false, nullptr,
            nullptr};
  k.set = [member, key, accepted = k.accepted](Options& o, std::string_view v) {
    auto s = ParseSize(v);
    if (!s.ok()) return BadValue(key, v, accepted);
    member(o) = *s;
    return Status::Ok();
  };
  k.get = [member](const Options& o) { return std::to_string(member(const_cast<Options&>(o))); };
  return k;
}

template <typename Member>
KeySpec List(std::string key, std::vector<std::string> env, std::string help, Member member) {
  KeySpec k{key, std::move(env), "a comma-separated list or a JSON list of strings", std::move(help), false, nullptr,
            nullptr};
  k.set = [member](Options& o, std::string_view v) {
    member(o) = ParseList(v);
    return Status::Ok();
  };
  k.get = [member](const Options& o) { return fmt::format("{}", fmt::join(member(const_cast<Options&>(o)), ",")); };
  return k;
}

std::vector<KeySpec> BuildKeys() {
  std::vector<KeySpec> keys;
  keys.push_back(Str("data_dir", {"THREATD_DATA_DIR"}, "directory for the SQLite database and model bundles",
                     [](Options& o) -> std::string& { return o.data_dir; }));
  {
    auto k = Str("log_level", {"THREATD_LOG_LEVEL", "LOG_LEVEL"}, "log verbosity",
                 [](Options& o) -> std::string& { return o.log_level; });
    k.accepted = "trace|debug|info|warn|error|critical|off";
    k.set = [](Options& o, std::string_view v) {
      if (!log::IsValidLevel(v)) return BadValue("log_level", v, "trace|debug|info|warn|error|critical|off");
      o.log_level = std::string(v);
      return Status::Ok();
    };
    keys.push_back(std::move(k));
  }
  {
    auto k = Str("api_prefix", {"THREATD_API_PREFIX", "API_V1_PREFIX"}, "path prefix of the REST API",
                 [](Options& o) -> std::string& { return o.api_prefix; });
    k.accepted = "a path starting with '/' and not ending with '/', e.g. /api/v1";
    k.set = [accepted = k.accepted](Options& o, std::string_view v) {
      if (v.size() < 2 || v.front() != '/' || v.back() == '/' || v.find_first_of(" ?#{}") != std::string_view::npos)
        return BadValue("api_prefix", v, accepted);
      o.api_prefix = std::string(v);
      return Status::Ok();
    };
    keys.push_back(std::move(k));
  }
  keys.push_back(Str("http.host", {"THREATD_HTTP_HOST", "HOST"}, "address to listen on (0.0.0.0 for all interfaces)",
                     [](Options& o) -> std::string& { return o.http.host; }));
  keys.push_back(Int("http.port", {"THREATD_HTTP_PORT", "PORT"}, "TCP port (0 = any free port)", 0, 65535,
                     [](Options& o) -> uint16_t& { return o.http.port; }));
  keys.push_back(Int("http.io_threads", {"THREATD_HTTP_IO_THREADS"}, "network I/O threads", 1, 64,
                     [](Options& o) -> int& { return o.http.io_threads; }));
  keys.push_back(Int("http.worker_threads", {"THREATD_HTTP_WORKER_THREADS"}, "threads running blocking handlers", 1, 256,
                     [](Options& o) -> int& { return o.http.worker_threads; }));
  keys.push_back(Int("http.max_connections", {"THREATD_HTTP_MAX_CONNECTIONS"}, "open connections before 503", 1,
                     1'000'000, [](Options& o) -> int& { return o.http.max_connections; }));
  keys.push_back(Duration("http.header_timeout", {"THREATD_HTTP_HEADER_TIMEOUT"}, "time to receive request headers",
                          [](Options& o) -> Seconds& { return o.http.header_timeout; }));
  keys.push_back(Duration("http.read_timeout", {"THREATD_HTTP_READ_TIMEOUT"}, "time to receive a (non-upload) body",
                          [](Options& o) -> Seconds& { return o.http.read_timeout; }));
  keys.push_back(Duration("http.idle_timeout", {"THREATD_HTTP_IDLE_TIMEOUT"}, "keep-alive idle time before close",
                          [](Options& o) -> Seconds& { return o.http.idle_timeout; }));
  keys.push_back(Duration("http.shutdown_grace", {"THREATD_HTTP_SHUTDOWN_GRACE"},
                          "on SIGTERM, time allowed for in-flight requests",
                          [](Options& o) -> Seconds& { return o.http.shutdown_grace; }));
  keys.push_back(Size("http.max_body_bytes", {"THREATD_HTTP_MAX_BODY_BYTES"}, "largest JSON request body",
                      [](Options& o) -> size_t& { return o.http.max_body_bytes; }));
  keys.push_back(Size("http.max_upload_bytes", {"THREATD_HTTP_MAX_UPLOAD_BYTES"},
                      "largest streamed upload (0 = unlimited)", [](Options& o) -> size_t& { return o.http.max_upload_bytes; }));
  keys.push_back(List("http.cors_origins", {"THREATD_HTTP_CORS_ORIGINS", "BACKEND_CORS_ORIGINS"},
                      "origins allowed by CORS; empty = same origin only; * = any",
                      [](Options& o) -> std::vector<std::string>& { return o.http.cors_origins; }));
  keys.push_back(Bool("http.metrics_public", {"THREATD_HTTP_METRICS_PUBLIC"}, "serve /metrics without an API key",
                      [](Options& o) -> bool& { return o.http.metrics_public; }));
  keys.push_back(Str("http.assets_dir", {"THREATD_HTTP_ASSETS_DIR"},
                     "directory with the API docs and console assets (empty = next to the binary)",
                     [](Options& o) -> std::string& { return o.http.assets_dir; }));
  {
    auto k = Str("database.url", {"THREATD_DATABASE_URL", "DATABASE_URL"},
                 "sqlite:///path/to.db or postgresql://user:pass@host:5432/db (empty = SQLite under data_dir)",
                 [](Options& o) -> std::string& { return o.database.url; }, /*secret=*/true);
    k.accepted = "sqlite:///absolute/path.db, sqlite://relative/path.db, postgresql://... or postgres://...";
    k.set = [accepted = k.accepted](Options& o, std::string_view v) {
      if (!v.empty() && !v.starts_with("sqlite://") && !v.starts_with("postgresql://") && !v.starts_with("postgres://"))
        return BadValue("database.url", RedactUrl(v), accepted);
      o.database.url = std::string(v);
      return Status::Ok();
    };
    keys.push_back(std::move(k));
  }
  keys.push_back(Int("database.pool_size", {"THREATD_DATABASE_POOL_SIZE"}, "database connections (readers for SQLite)",
                     1, 256, [](Options& o) -> int& { return o.database.pool_size; }));
  keys.push_back(Str("kafka.bootstrap_servers", {"THREATD_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"},
                     "host:port list of Kafka brokers (empty = Kafka disabled)",
                     [](Options& o) -> std::string& { return o.kafka.bootstrap_servers; }));
  keys.push_back(Str("kafka.topic_realtime", {"THREATD_KAFKA_TOPIC_REALTIME", "KAFKA_TOPIC_REALTIME_DATA"},
                     "internal flow topic", [](Options& o) -> std::string& { return o.kafka.topic_realtime; }));
  keys.push_back(Str("kafka.topic_external", {"THREATD_KAFKA_TOPIC_EXTERNAL", "KAFKA_TOPIC_EXTERNAL_DATA"},
                     "external providers' flow topic", [](Options& o) -> std::string& { return o.kafka.topic_external; }));
  keys.push_back(Str("kafka.topic_predictions", {"THREATD_KAFKA_TOPIC_PREDICTIONS", "KAFKA_TOPIC_PREDICTIONS"},
                     "topic receiving every prediction",
                     [](Options& o) -> std::string& { return o.kafka.topic_predictions; }));
  keys.push_back(Str("kafka.group_id", {"THREATD_KAFKA_GROUP_ID", "KAFKA_GROUP_ID"}, "consumer group of the internal topic",
                     [](Options& o) -> std::string& { return o.kafka.group_id; }));
  keys.push_back(Str("kafka.external_group_id", {"THREATD_KAFKA_EXTERNAL_GROUP_ID", "KAFKA_EXTERNAL_CONSUMER_GROUP"},
                     "consumer group of the external topic",
                     [](Options& o) -> std::string& { return o.kafka.external_group_id; }));
  keys.push_back(Str("kafka.topic_actions", {"THREATD_KAFKA_TOPIC_ACTIONS", "KAFKA_TOPIC_SELF_HEALING_ACTIONS"},
                     "topic receiving every self-healing decision (empty = not published)",
                     [](Options& o) -> std::string& { return o.kafka.topic_actions; }));
  {
    auto k = Str("kafka.auto_offset_reset", {"THREATD_KAFKA_AUTO_OFFSET_RESET", "KAFKA_AUTO_OFFSET_RESET"},
                 "where a new consumer group starts reading", [](Options& o) -> std::string& { return o.kafka.auto_offset_reset; });
    k.accepted = "earliest or latest";
    k.set = [accepted = k.accepted](Options& o, std::string_view v) {
      if (v != "earliest" && v != "latest") return BadValue("kafka.auto_offset_reset", v, accepted);
      o.kafka.auto_offset_reset = std::string(v);
      return Status::Ok();
    };
    keys.push_back(std::move(k));
  }
  keys.push_back(Int("kafka.batch_max_messages", {"THREATD_KAFKA_BATCH_MAX_MESSAGES"},
                     "messages consumed into one pipeline batch", 1, 1 << 20,
                     [](Options& o) -> int& { return o.kafka.batch_max_messages; }));
  keys.push_back(Duration("kafka.batch_wait", {"THREATD_KAFKA_BATCH_WAIT"}, "longest wait to fill a consumer batch",
                     [](Options& o) -> Seconds& { return o.kafka.batch_wait; }));
  keys.push_back(Int("kafka.fetch_queue_kbytes", {"THREATD_KAFKA_FETCH_QUEUE_KBYTES"},
                     "kilobytes of messages each consumer fetches ahead of the pipeline", 1024, 2'097'151,
                     [](Options& o) -> int& { return o.kafka.fetch_queue_kbytes; }));
  keys.push_back(Int("kafka.producer_queue", {"THREATD_KAFKA_PRODUCER_QUEUE"},
                     "messages buffered per producer; beyond it messages are dropped and counted", 1, 10'000'000,
                     [](Options& o) -> int& { return o.kafka.producer_queue; }));
  keys.push_back(Duration("kafka.producer_linger", {"THREATD_KAFKA_PRODUCER_LINGER"},
                          "how long the producer gathers predictions and decisions into one request (0-900s)",
                          [](Options& o) -> Seconds& { return o.kafka.producer_linger; }));
  keys.push_back(Str("kafka.security_protocol", {"THREATD_KAFKA_SECURITY_PROTOCOL", "KAFKA_SECURITY_PROTOCOL"},
                     "plaintext, ssl, sasl_plaintext or sasl_ssl (empty = plaintext)",
                     [](Options& o) -> std::string& { return o.kafka.security_protocol; }));
  keys.push_back(Str("kafka.sasl_mechanism", {"THREATD_KAFKA_SASL_MECHANISM", "KAFKA_SASL_MECHANISM"},
                     "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", [](Options& o) -> std::string& { return o.kafka.sasl_mechanism; }));
  keys.push_back(Str("kafka.sasl_username", {"THREATD_KAFKA_SASL_USERNAME", "KAFKA_SASL_USERNAME"}, "SASL user name",
                     [](Options& o) -> std::string& { return o.kafka.sasl_username; }));
  keys.push_back(Str("kafka.sasl_password", {"THREATD_KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD"}, "SASL password",
                     [](Options& o) -> std::string& { return o.kafka.sasl_password; }, /*secret=*/true));
  keys.push_back(Str("kafka.ssl_ca_location", {"THREATD_KAFKA_SSL_CA_LOCATION", "KAFKA_SSL_CA_LOCATION"},
                     "CA certificate file used to verify the brokers (empty = system CAs)",
                     [](Options& o) -> std::string& { return o.kafka.ssl_ca_location; }));
  keys.push_back(Str("kafka.external_bootstrap_servers",
                     {"THREATD_KAFKA_EXTERNAL_BOOTSTRAP_SERVERS", "KAFKA_EXTERNAL_BOOTSTRAP_SERVERS"},
                     "brokers of the external providers' topic (empty = kafka.bootstrap_servers)",
                     [](Options& o) -> std::string& { return o.kafka.external_bootstrap_servers; }));
  keys.push_back(Str("kafka.external_security_protocol",
                     {"THREATD_KAFKA_EXTERNAL_SECURITY_PROTOCOL", "KAFKA_EXTERNAL_SECURITY_PROTOCOL"},
                     "security.protocol of the external cluster",
                     [](Options& o) -> std::string& { return o.kafka.external_security_protocol; }));
  keys.push_back(Str("kafka.external_sasl_mechanism", {"THREATD_KAFKA_EXTERNAL_SASL_MECHANISM", "KAFKA_EXTERNAL_SASL_MECHANISM"},
                     "SASL mechanism of the external cluster",
                     [](Options& o) -> std::string& { return o.kafka.external_sasl_mechanism; }));
  keys.push_back(Str("kafka.external_sasl_username", {"THREATD_KAFKA_EXTERNAL_SASL_USERNAME", "KAFKA_EXTERNAL_SASL_USERNAME"},
                     "SASL user name on the external cluster",
                     [](Options& o) -> std::string& { return o.kafka.external_sasl_username; }));
  keys.push_back(Str("kafka.external_sasl_password", {"THREATD_KAFKA_EXTERNAL_SASL_PASSWORD", "KAFKA_EXTERNAL_SASL_PASSWORD"},
                     "SASL password on the external cluster",
                     [](Options& o) -> std::string& { return o.kafka.external_sasl_password; }, /*secret=*/true));
  keys.push_back(Str("kafka.external_ssl_ca_location",
                     {"THREATD_KAFKA_EXTERNAL_SSL_CA_LOCATION", "KAFKA_EXTERNAL_SSL_CA_LOCATION"},
                     "CA certificate file of the external cluster",
                     [](Options& o) -> std::string& { return o.kafka.external_ssl_ca_location; }));
  keys.push_back(Str("kafka.agent_group_id", {"THREATD_KAFKA_AGENT_GROUP_ID"},
                     "consumer group of `threatd agent` (empty = threatd-agent-<hostname>)",
                     [](Options& o) -> std::string& { return o.kafka.agent_group_id; }));
  keys.push_back(Bool("auth.bootstrap_admin_key", {"THREATD_AUTH_BOOTSTRAP_ADMIN_KEY"},
                      "on first start with no API keys, create an admin key and print it once",
                      [](Options& o) -> bool& { return o.auth.bootstrap_admin_key; }));
  keys.push_back(Int("pipeline.batch_size", {"THREATD_PIPELINE_BATCH_SIZE"}, "flows per pipeline batch", 1, 1 << 20,
                     [](Options& o) -> int& { return o.pipeline.batch_size; }));
  keys.push_back(Int("pipeline.queue_capacity", {"THREATD_PIPELINE_QUEUE_CAPACITY"},
                     "batches waiting before sources are slowed down", 1, 4096,
                     [](Options& o) -> int& { return o.pipeline.queue_capacity; }));
  keys.push_back(Int("pipeline.workers", {"THREATD_PIPELINE_WORKERS"}, "scoring and persisting threads", 1, 64,
                     [](Options& o) -> int& { return o.pipeline.workers; }));
  keys.push_back(Str("models.dir", {"THREATD_MODELS_DIR"}, "directory of uploaded model bundles (empty = <data_dir>/models)",
                     [](Options& o) -> std::string& { return o.models.dir; }));
  keys.push_back(Str("models.defaults_dir", {"THREATD_MODELS_DEFAULTS_DIR"},
                     "directory of the shipped default models (empty = <assets>/models)",
                     [](Options& o) -> std::string& { return o.models.defaults_dir; }));
  keys.push_back(Str("healing.mode", {"THREATD_HEALING_MODE"},
                     "enforce or dry_run (first start; then PUT /api/v1/healing/mode)",
                     [](Options& o) -> std::string& { return o.healing.mode; }));
  keys.push_back(Str("healing.backend", {"THREATD_HEALING_BACKEND"}, "log, nftables, script or webhook",
                     [](Options& o) -> std::string& { return o.healing.backend; }));
  keys.push_back(Str("healing.policy_file", {"THREATD_HEALING_POLICY_FILE"},
                     "JSON self-healing policy for the first start (empty = the default policy)",
                     [](Options& o) -> std::string& { return o.healing.policy_file; }));
  keys.push_back(Str("healing.protected_networks", {"THREATD_HEALING_PROTECTED_NETWORKS"},
                     "comma-separated addresses/CIDRs never blocked (gateways, NAT, DNS), added to the policy's",
                     [](Options& o) -> std::string& { return o.healing.protected_networks; }));
  keys.push_back(Bool("healing.cleanup_on_shutdown", {"THREATD_HEALING_CLEANUP_ON_SHUTDOWN"},
                      "remove enforced state (the nftables table) at shutdown",
                      [](Options& o) -> bool& { return o.healing.cleanup_on_shutdown; }));
  keys.push_back(Str("healing.nftables_table", {"THREATD_HEALING_NFTABLES_TABLE"}, "nftables table (family inet)",
                     [](Options& o) -> std::string& { return o.healing.nftables_table; }));
  keys.push_back(Str("healing.script_path", {"THREATD_HEALING_SCRIPT_PATH"},
                     "script backend: executable receiving decisions as JSON on stdin",
                     [](Options& o) -> std::string& { return o.healing.script_path; }));
  keys.push_back(Duration("healing.script_timeout", {"THREATD_HEALING_SCRIPT_TIMEOUT"}, "script backend: time limit per run",
                          [](Options& o) -> Seconds& { return o.healing.script_timeout; }));
  keys.push_back(Str("healing.webhook_url", {"THREATD_HEALING_WEBHOOK_URL"}, "webhook backend: http(s) URL",
                     [](Options& o) -> std::string& { return o.healing.webhook_url; }));
  keys.push_back(Str("healing.webhook_token", {"THREATD_HEALING_WEBHOOK_TOKEN"},
                     "webhook backend: bearer token", [](Options& o) -> std::string& { return o.healing.webhook_token; },
                     /*secret=*/true));
  keys.push_back(Duration("healing.webhook_timeout", {"THREATD_HEALING_WEBHOOK_TIMEOUT"},
                          "webhook backend: time limit per attempt",
                          [](Options& o) -> Seconds& { return o.healing.webhook_timeout; }));
  keys.push_back(Int("retention.days", {"THREATD_RETENTION_DAYS"},
                     "remove traffic and predictions older than this many days (0 = keep forever)", 0, 36500,
                     [](Options& o) -> int& { return o.retention.days; }));
  keys.push_back(Duration("retention.interval", {"THREATD_RETENTION_INTERVAL"}, "how often the retention clean-up runs",
                          [](Options& o) -> Seconds& { return o.retention.interval; }));
  keys.push_back(Int("retention.batch_rows", {"THREATD_RETENTION_BATCH_ROWS"}, "rows deleted per retention transaction",
                     1, 1000000, [](Options& o) -> int& { return o.retention.batch_rows; }));
  keys.push_back(Duration("realtime.stats_interval", {"THREATD_REALTIME_STATS_INTERVAL"},
                          "period of stats_update messages on /ws/realtime",
                          [](Options& o) -> Seconds& { return o.realtime.stats_interval; }));
  keys.push_back(Duration("realtime.ping_interval", {"THREATD_REALTIME_PING_INTERVAL"},
                          "period of server pings on /ws/realtime",
                          [](Options& o) -> Seconds& { return o.realtime.ping_interval; }));
  keys.push_back(Int("realtime.client_queue", {"THREATD_REALTIME_CLIENT_QUEUE"},
                     "messages queued per WebSocket client before the oldest are dropped", 8, 1 << 20,
                     [](Options& o) -> int& { return o.realtime.client_queue; }));
  keys.push_back(Duration("realtime.max_lag", {"THREATD_REALTIME_MAX_LAG"},
                          "a WebSocket client that keeps dropping messages this long is disconnected",
                          [](Options& o) -> Seconds& { return o.realtime.max_lag; }));
  keys.push_back(Int("realtime.max_predictions_per_second", {"THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND"},
                     "prediction messages per second per client; beyond it they are coalesced into counts", 1,
                     1000000, [](Options& o) -> int& { return o.realtime.max_predictions_per_second; }));
  return keys;
}

}  // namespace

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec> keys = BuildKeys();
  return keys;
}

const KeySpec* FindKey(std::string_view key) {
  for (const auto& k : Keys())
    if (k.key == key) return &k;
  return nullptr;
}

const KeySpec* FindKeyByEnv(std::string_view env_name) {
  for (const auto& k : Keys())
    for (const auto& e : k.env)
      if (e == env_name) return &k;
  return nullptr;
}

std::string Options::EffectiveDatabaseUrl() const {
  if (!database.url.empty()) return database.url;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // An absolute dir gives sqlite:///abs/path, a relative one sqlite://rel/path.
  return "sqlite://" + dir + "/threatd.db";
}

std::string Options::EffectiveModelsDir() const {
  if (!models.dir.empty()) return models.dir;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/models";
}

}  // namespace threatd::config
