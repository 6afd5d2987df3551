#include "config/loader.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/ascii.h"
#include "config/keys.h"

extern char** environ;

namespace threatd::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Levenshtein distance, to suggest the key the user probably meant.
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

Status UnknownKey(std::string_view where, std::string_view key) {
  const KeySpec* best = nullptr;
  size_t best_d = 4;
  for (const auto& k : Keys()) {
    size_t d = Distance(key, k.key);
    if (d < best_d) best_d = d, best = &k;
  }
  std::string hint = best ? fmt::format("did you mean '{}'? ", best->key) : std::string();
  hint += "every key is listed in configs/threatd.example.yaml and by `threatd config show`";
  return Status::InvalidArgument(fmt::format("unknown configuration key '{}' in {}", key, where), hint);
}

Status Apply(Options& o, Sources* sources, std::string_view source, const KeySpec& k, std::string_view value) {
  Status s = k.set(o, Trim(value));
  if (!s.ok()) return s.WithContext(source);
  if (sources) (*sources)[k.key] = std::string(source);
  return Status::Ok();
}

// Flattens nested YAML maps into dotted keys; sequences become JSON lists.
Status FlattenYaml(const YAML::Node& node, const std::string& prefix, std::vector<std::pair<std::string, std::string>>* out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      THREATD_RETURN_IF_ERROR(FlattenYaml(item.second, prefix.empty() ? key : prefix + "." + key, out));
    }
    return Status::Ok();
  }
  if (node.IsSequence()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : node) list.push_back(item.as<std::string>());
    out->emplace_back(prefix, list.dump());
    return Status::Ok();
  }
  if (node.IsNull()) {
    out->emplace_back(prefix, "");
    return Status::Ok();
  }
  out->emplace_back(prefix, node.as<std::string>());
  return Status::Ok();
}

Status LoadFile(const std::string& path, Options& o, Sources* sources) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument(fmt::format("cannot read config file '{}'", path),
                                   "check the path given with --config or THREATD_CONFIG");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("config file '{}' is not valid YAML: {}", path, e.what()),
                                   "see configs/threatd.example.yaml for the format");
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap())
    return Status::InvalidArgument(fmt::format("config file '{}' must be a YAML mapping of keys", path),
                                   "see configs/threatd.example.yaml");
  std::vector<std::pair<std::string, std::string>> flat;
  try {
    THREATD_RETURN_IF_ERROR(FlattenYaml(root, "", &flat));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("config file '{}': {}", path, e.what()));
  }
  const std::string where = fmt::format("config file '{}'", path);
  for (const auto& [key, value] : flat) {
    const KeySpec* k = FindKey(key);
    if (!k) return UnknownKey(where, key);
    THREATD_RETURN_IF_ERROR(Apply(o, sources, where, *k, value));
  }
  return Status::Ok();
}

// KEY=VALUE lines; '#' comments; optional `export `; single or double quotes.
Result<std::map<std::string, std::string>> ParseEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument(fmt::format("cannot read env file '{}'", path));
  std::map<std::string, std::string> out;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#') continue;
    if (l.starts_with("export ")) l = Trim(l.substr(7));
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Status::InvalidArgument(fmt::format("{}:{}: expected KEY=VALUE", path, lineno));
    std::string_view value = Trim(l.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const size_t hash = value.find(" #"); hash != std::string_view::npos) {
      value = Trim(value.substr(0, hash));
    }
    out[std::string(Trim(l.substr(0, eq)))] = std::string(value);
  }
  return out;
}

Status ApplyVariables(const std::map<std::string, std::string>& vars, std::string_view where, Options& o,
                      Sources* sources) {
  // Legacy names first, THREATD_ names last, so the explicit one wins.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [name, value] : vars) {
      const bool ours = name.starts_with("THREATD_");
      if (ours != (pass == 1)) continue;
      if (name == "THREATD_CONFIG" || name == "THREATD_BINARY" || name == "THREATD_SOURCE_DIR") continue;
      const KeySpec* k = FindKeyByEnv(name);
      if (!k) {
        if (ours)
          return Status::InvalidArgument(fmt::format("unknown configuration variable '{}' in {}", name, where),
                                         "THREATD_ variables are THREATD_ + the key upper-cased with '.' as '_', "
                                         "e.g. THREATD_HTTP_PORT; see `threatd config show`");
        continue;  // someone else's variable
      }
      THREATD_RETURN_IF_ERROR(Apply(o, sources, fmt::format("{} ({})", where, name), *k, value));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Seconds> ParseDuration(std::string_view text) {
  text = Trim(text);
  double n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 0) return Status::InvalidArgument(fmt::format("invalid duration '{}'", text));
  std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  double ms;
  if (unit == "ms") ms = n;
  else if (unit == "s" || unit.empty()) ms = n * 1000;
  else if (unit == "m") ms = n * 60'000;
  else if (unit == "h") ms = n * 3'600'000;
  else if (unit == "d") ms = n * 86'400'000;
  else return Status::InvalidArgument(fmt::format("invalid duration unit '{}'", unit));
  return Seconds(static_cast<long long>(ms));
}

Result<size_t> ParseSize(std::string_view text) {
  text = Trim(text);
  unsigned long long n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) return Status::InvalidArgument(fmt::format("invalid size '{}'", text));
  const std::string unit = AsciiLower(std::string_view(p, static_cast<size_t>(text.data() + text.size() - p)));
  unsigned long long mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "kib" || unit == "k") mult = 1ULL << 10;
  else if (unit == "mib" || unit == "m") mult = 1ULL << 20;
  else if (unit == "gib" || unit == "g") mult = 1ULL << 30;
  else if (unit == "kb") mult = 1000;
  else if (unit == "mb") mult = 1000'000;
  else if (unit == "gb") mult = 1000'000'000;
  else return Status::InvalidArgument(fmt::format("invalid size unit '{}'", unit));
  return static_cast<size_t>(n * mult);
}

std::vector<std::string> ParseList(std::string_view text) {
  text = Trim(text);
  std::vector<std::string> out;
  if (text.starts_with("[")) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_array()) {
      for (const auto& v : j)
        if (v.is_string() && !v.get<std::string>().empty()) out.push_back(v.get<std::string>());
      return out;
    }
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::string RedactUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(url);
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

Result<Options> Load(const LoadRequest& request, Sources* sources) {
  Options o;
  if (sources) {
    sources->clear();
    for (const auto& k : Keys()) (*sources)[k.key] = "default";
  }
  std::string config_file = request.config_file;
  if (config_file.empty()) {
    auto it = request.environment.find("THREATD_CONFIG");
    if (it != request.environment.end()) config_file = it->second;
  }
  if (!config_file.empty()) THREATD_RETURN_IF_ERROR(LoadFile(config_file, o, sources));

  if (!request.env_file.empty()) {
    if (std::filesystem::exists(request.env_file)) {
      auto vars = ParseEnvFile(request.env_file);
      if (!vars.ok()) return vars.status();
      THREATD_RETURN_IF_ERROR(ApplyVariables(*vars, fmt::format("env file '{}'", request.env_file), o, sources));
    } else if (request.env_file_explicit) {
      return Status::InvalidArgument(fmt::format("env file '{}' does not exist", request.env_file));
    }
  }
  THREATD_RETURN_IF_ERROR(ApplyVariables(request.environment, "the environment", o, sources));

  for (const auto& [key, value] : request.flags) {
    const KeySpec* k = FindKey(key);
    if (!k) return UnknownKey("command-line flags", key);
    THREATD_RETURN_IF_ERROR(Apply(o, sources, "command line", *k, value));
  }
  return o;
}

std::string Render(const Options& options, const Sources& sources) {
  std::string out;
  for (const auto& k : Keys()) {
    std::string value = k.get(options);
    if (k.key == "database.url") {
      value = RedactUrl(options.EffectiveDatabaseUrl());
    } else if (k.secret && !value.empty()) {
      value = "***";
    }
    auto src = sources.find(k.key);
    out += fmt::format("{} = {}  # {}\n", k.key, value.empty() ? "\"\"" : value,
                       src == sources.end() ? "default" : src->second);
  }
  return out;
}

}  // namespace threatd::config
