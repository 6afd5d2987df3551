// Options: every setting of the threatd service, with its built-in default.
//
// This struct is the reference documentation of the configuration: each
// member corresponds to one key of the key table (config/keys.cpp), which
// gives its file key (`http.port`), environment names (`THREATD_HTTP_PORT`
// plus the original system's names such as `DATABASE_URL`), accepted values
// and whether it is a secret. configs/threatd.example.yaml documents every
// key; a test keeps the two in step.
//
// Thread-safety: a plain value, loaded once at start and then read-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace threatd::config {

using Seconds = std::chrono::milliseconds;  // durations are stored in ms

struct HttpSection {
  std::string host = "127.0.0.1";          // interface to listen on
  uint16_t port = 8000;                     // 0 picks a free port (tests)
  int io_threads = 2;                       // Asio threads
  int worker_threads = 4;                   // threads running blocking handlers
  int max_connections = 1024;               // beyond it: 503 and close
  Seconds header_timeout{10'000};
  Seconds read_timeout{30'000};
  Seconds idle_timeout{60'000};
  Seconds shutdown_grace{10'000};           // in-flight requests finish within it
  size_t max_body_bytes = 1 << 20;          // default per-route JSON body limit
  size_t max_upload_bytes = 0;              // 0 = unlimited (uploads are streamed)
  std::vector<std::string> cors_origins;    // empty = same origin only
  bool metrics_public = true;               // false: /metrics needs a viewer key
  std::string assets_dir;                   // API docs + console; "" = next to the binary
};

struct DatabaseSection {
  std::string url;     // "" = sqlite:///<data_dir>/threatd.db
  int pool_size = 4;   // PostgreSQL connections / SQLite readers
};

struct KafkaSection {
  std::string bootstrap_servers;  // "" = Kafka disabled (the embedded default)
  std::string topic_realtime = "network-traffic";
  std::string topic_external = "external-traffic";
  std::string topic_predictions = "predictions";
  std::string topic_actions = "self-healing-actions";  // self-healing decisions ("" = not published)
  std::string group_id = "threat-detection-consumer";
  std::string external_group_id = "external-data-consumer";
  std::string auto_offset_reset = "earliest";  // where a new consumer group starts: earliest | latest
  int batch_max_messages = 5000;               // messages per pipeline batch from a topic
  Seconds batch_wait{10};                      // longest wait to fill a batch (bounds the added latency)
  int fetch_queue_kbytes = 262'144;            // messages fetched ahead per consumer (librdkafka queued.max.messages.kbytes)
  int producer_queue = 100'000;                // messages buffered per producer before they are dropped (counted)
  Seconds producer_linger{50};                 // how long the producer gathers messages into one request
  // Security of the internal cluster (librdkafka names: security.protocol, sasl.*, ssl.ca.location).
  std::string security_protocol;  // "" = plaintext
  std::string sasl_mechanism;
  std::string sasl_username;
  std::string sasl_password;
  std::string ssl_ca_location;
  // External providers' cluster: "" = same as the internal one (and its security settings).
  std::string external_bootstrap_servers;
  std::string external_security_protocol;
  std::string external_sasl_mechanism;
  std::string external_sasl_username;
  std::string external_sasl_password;
  std::string external_ssl_ca_location;
  // `threatd agent`: consumer group of this agent ("" = threatd-agent-<hostname>, so every agent sees every decision).
  std::string agent_group_id;
};

struct PipelineSection {
  int batch_size = 8192;      // flows per pipeline batch (uploads, test stream)
  int queue_capacity = 8;     // batches waiting before sources are slowed down
  int workers = 4;            // scoring + persisting threads (mostly waiting for the store; docs/benchmarks.md)
};

struct ModelsSection {
  std::string dir;           // uploaded bundles; "" = <data_dir>/models
  std::string defaults_dir;  // shipped default bundles; "" = <assets>/models
};

struct RetentionSection {
  int days = 30;               // traffic and predictions older than this are removed; 0 = keep
  Seconds interval{3'600'000}; // how often the clean-up runs
  int batch_rows = 5000;       // rows deleted per transaction
};

struct RealtimeSection {
  Seconds stats_interval{5'000};  // stats_update broadcast period
  Seconds ping_interval{30'000};  // server ping period
  int client_queue = 512;         // messages queued per client before drop-oldest
  Seconds max_lag{30'000};        // a client dropping messages this long is disconnected
  int max_predictions_per_second = 500;  // per client; beyond it predictions are coalesced (counted, not sent)
};

struct HealingSection {
  std::string mode = "enforce";       // enforce | dry_run (seeds the stored setting on first start)
  std::string backend = "log";        // log | nftables | script | webhook
  std::string policy_file;            // JSON policy (GET /api/v1/policy shape); "" = the default policy
  std::string protected_networks;     // comma-separated addresses/CIDRs added to the policy's
  bool cleanup_on_shutdown = false;   // remove the enforced state (nftables table) at shutdown
  std::string nftables_table = "threatd";
  std::string script_path;            // script backend: absolute path of the executable
  Seconds script_timeout{10'000};
  std::string webhook_url;            // webhook backend: http(s)://...
  std::string webhook_token;          // sent as "Authorization: Bearer <token>"
  Seconds webhook_timeout{5'000};
};

struct AuthSection {
  bool bootstrap_admin_key = true;  // first start with no keys: create and print one
};

struct Options {
  std::string data_dir = "./data";   // SQLite file, model bundles
  std::string log_level = "info";
  std::string api_prefix = "/api/v1";
  HttpSection http;
  DatabaseSection database;
  KafkaSection kafka;
  AuthSection auth;
  PipelineSection pipeline;
  ModelsSection models;
  RetentionSection retention;
  RealtimeSection realtime;
  HealingSection healing;

  // database.url, or the embedded SQLite default under data_dir.
  std::string EffectiveDatabaseUrl() const;
  // models.dir, or <data_dir>/models.
  std::string EffectiveModelsDir() const;
};

}  // namespace threatd::config
