// Configuration flags shared by every subcommand that needs Options:
// --config, --env-file, --set key=value, and shortcuts for common keys.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/loader.h"

namespace threatd::cli {

class ConfigFlags {
 public:
  // Adds the flags to `cmd`.
  void AddTo(CLI::App& cmd);
  // Loads Options from defaults, file, .env, environment and these flags.
  Result<config::Options> Load(config::Sources* sources = nullptr) const;

 private:
  std::string config_file_;
  std::string env_file_ = ".env";
  bool env_file_set_ = false;
  std::vector<std::string> sets_;
  std::vector<std::pair<std::string, std::string>> shortcuts_;
  std::string host_, port_, data_dir_, database_url_, log_level_;
};

}  // namespace threatd::cli
