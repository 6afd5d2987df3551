// Loading configuration: built-in defaults < config file (YAML) < .env file <
// environment < command-line flags. Every layer is strict: an unknown key (a
// file key, or an environment/.env name starting with THREATD_) or a bad value
// stops the start with a message naming the key and what it accepts.
//
// Environment names of the original system (DATABASE_URL, KAFKA_*,
// API_V1_PREFIX, BACKEND_CORS_ORIGINS) are honoured. Other variables in the
// environment or in .env (e.g. POSTGRES_PASSWORD for docker compose) are
// ignored.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/options.h"

namespace threatd::config {

struct LoadRequest {
  std::string config_file;   // "" = none (THREATD_CONFIG also names one)
  std::string env_file = ".env";  // missing file is fine unless explicit
  bool env_file_explicit = false;
  std::vector<std::pair<std::string, std::string>> flags;  // key -> value, in order
  std::map<std::string, std::string> environment;  // usually the process environment
};

// Where the effective value of each key came from: "default", "file", ...
using Sources = std::map<std::string, std::string>;

Result<Options> Load(const LoadRequest& request, Sources* sources = nullptr);

// Parsers shared with the key table and the tests.
Result<Seconds> ParseDuration(std::string_view text);  // "500ms", "10s", "2m", "1h", "30" (s)
Result<size_t> ParseSize(std::string_view text);        // "1024", "64KiB", "1MiB", "2GB"
std::vector<std::string> ParseList(std::string_view text);  // "a,b" or ["a","b"]

// The process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

// "postgresql://user:***@host/db": passwords replaced.
std::string RedactUrl(std::string_view url);

// `threatd config show`: one "key = value  # source" line per key, secrets redacted.
std::string Render(const Options& options, const Sources& sources);

}  // namespace threatd::config
