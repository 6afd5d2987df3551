#include "cli/config_flags.h"

namespace threatd::cli {

void ConfigFlags::AddTo(CLI::App& cmd) {
  cmd.add_option("-c,--config", config_file_, "YAML config file (see configs/threatd.example.yaml)");
  cmd.add_option_function<std::string>("--env-file", [this](const std::string& v) {
    env_file_ = v;
    env_file_set_ = true;
  }, "dotenv file read before the environment (default: ./.env if present)");
  cmd.add_option("--set", sets_, "override any key: --set http.port=9000 (repeatable)");
  cmd.add_option("--host", host_, "shortcut for --set http.host=...");
  cmd.add_option("--port", port_, "shortcut for --set http.port=...");
  cmd.add_option("--data-dir", data_dir_, "shortcut for --set data_dir=...");
  cmd.add_option("--database-url", database_url_, "shortcut for --set database.url=...");
  cmd.add_option("--log-level", log_level_, "shortcut for --set log_level=...");
}

Result<config::Options> ConfigFlags::Load(config::Sources* sources) const {
  config::LoadRequest r;
  r.config_file = config_file_;
  r.env_file = env_file_;
  r.env_file_explicit = env_file_set_;
  r.environment = config::ProcessEnvironment();
  for (const auto& s : sets_) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("--set expects key=value, got '" + s + "'", "e.g. --set http.port=9000");
    r.flags.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  // Shortcuts apply after --set, in a fixed order.
  const std::pair<const char*, const std::string*> shortcuts[] = {
      {"http.host", &host_}, {"http.port", &port_}, {"data_dir", &data_dir_},
      {"database.url", &database_url_}, {"log_level", &log_level_}};
  for (const auto& [key, value] : shortcuts)
    if (!value->empty()) r.flags.emplace_back(key, *value);
  return config::Load(r, sources);
}

}  // namespace threatd::cli
