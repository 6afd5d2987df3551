// The configuration key table: one row per setting in Options.
//
// Each key knows its file name (`http.port`), its environment names, what it
// accepts, whether it is a secret, and how to parse a string into Options
// (failing with a message that names the key and the accepted values) and
// render it back. The loader, `threatd config show` and the example-file test
// all walk this one table.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/options.h"

namespace threatd::config {

struct KeySpec {
  std::string key;                    // dotted file key: "http.port"
  std::vector<std::string> env;       // THREATD_HTTP_PORT first, then legacy names
  std::string accepted;               // "integer 0..65535", "true|false", ...
  std::string help;                   // one line
  bool secret = false;                // redacted by `config show`
  std::function<Status(Options&, std::string_view)> set;
  std::function<std::string(const Options&)> get;
};

const std::vector<KeySpec>& Keys();
const KeySpec* FindKey(std::string_view key);
const KeySpec* FindKeyByEnv(std::string_view env_name);

}  // namespace threatd::config
