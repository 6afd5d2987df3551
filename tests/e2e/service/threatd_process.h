// ThreatdProcess: runs the real `threatd` binary for end-to-end tests.
//
// Start() forks/execs `threatd serve` (or any subcommand via Run()) with the
// given flags and environment, reads its stdout until the
// "threatd listening on http://HOST:PORT" line, and records the port and the
// first-run admin key it printed. Stop() sends SIGTERM and waits for exit.
// Each instance uses its own temporary data directory, port 0 and no .env.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace threatd::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

class ThreatdProcess {
 public:
  // With no argument: a fresh data directory, removed at destruction.
  // With one: that directory, shared with another instance and kept.
  explicit ThreatdProcess(std::string shared_data_dir = {});
  ~ThreatdProcess();  // kills the process if still running

  // Extra environment and flags for `serve`; call before Start().
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }
  void AddFlag(const std::string& flag) { flags_.push_back(flag); }

  // Starts `threatd serve --port 0 --data-dir DIR ...`; false (with the
  // process output in `error`) if it does not announce readiness in time.
  bool Start(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM (or `sig`), then waits up to `timeout`; returns the exit status
  // (128+signal if killed by a signal, -1 on timeout).
  int Stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void SendSignal(int sig);
  // Polls detailed health until the models have loaded (Start() calls it).
  bool WaitForModels(std::string* error, std::chrono::milliseconds timeout);
  // Waits for exit after a signal sent elsewhere.
  int Wait(std::chrono::milliseconds timeout);

  uint16_t port() const { return port_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& stdout_text() const { return stdout_; }
  // How long from fork to the readiness line.
  std::chrono::milliseconds startup_time() const { return startup_time_; }

  // Runs another subcommand with the same data dir and environment, to completion.
  CommandResult Run(const std::vector<std::string>& args) const;

  static std::string BinaryPath();
  static std::string SourceDir();
  pid_t pid() const { return pid_; }

 private:
  std::vector<std::string> Environment() const;

  std::map<std::string, std::string> env_;
  std::vector<std::string> flags_;
  std::string data_dir_;
  bool owns_data_dir_ = true;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
  std::string admin_key_;
  std::string stdout_;
  std::chrono::milliseconds startup_time_{0};
};

}  // namespace threatd::testing
