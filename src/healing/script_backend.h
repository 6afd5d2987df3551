// ScriptBackend: enforces decisions by running an operator's executable.
//
// Each Apply/Remove/Reconcile batch is ONE run of `path` with `args` (no
// shell: arguments are passed verbatim) and the hook event on stdin (see
// hook_event.h):
//   {"event": "apply"|"remove"|"reconcile", "decisions": [ ... ]}
// Exit code 0 means the whole batch succeeded. Anything else fails every
// item of the batch with
//   "script <path> exited with N: <last stderr line(s)>"
// (or "... timed out after T ms and was killed ..." / "... was killed by
// signal S ..."). A run longer than `timeout` is stopped with SIGTERM to its
// process group, then SIGKILL after `kill_grace` (subprocess.h). Empty
// Apply/Remove batches do not run the script; Reconcile always does (an
// empty list tells the script to lift everything). Measure() returns an
// empty Drift (a script's state cannot be read back). The backend remembers
// what the script accepted (the last Reconcile plus successful Applies minus
// Removes), and Shutdown(cleanup = true) sends those as one "remove" event;
// Shutdown(false) runs nothing.
//
// Ownership: holds its options, counters and the accepted decisions; no
// process outlives a call.
// Errors: Start() fails, saying what to fix, when `path` is not an absolute
// path to an executable regular file or an option is out of range.
// Thread-safety: as EnforcementBackend - calls from one thread at a time;
// Health() from any thread. Apply/Remove/Reconcile block for at most
// timeout + kill_grace.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "healing/backend.h"
#include "healing/hook_event.h"

namespace threatd::healing {

struct ScriptBackendOptions {
  // Absolute path of the executable; run directly (a script needs a "#!" line).
  std::string path;
  // Arguments after argv[0]; passed as they are, never through a shell.
  std::vector<std::string> args;
  // Actions the script enforces; decisions with other actions are only
  // recorded by the Enforcer. Default: every action.
  std::vector<ActionType> actions = AllActionTypes();
  // Longest run; then SIGTERM to the script's process group.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // Time between SIGTERM and SIGKILL after a timeout.
  std::chrono::milliseconds kill_grace{std::chrono::seconds(2)};
  // Bytes kept of stdout (the first) and of stderr (the last) per run.
  size_t output_limit = 64 * 1024;
};

class ScriptBackend final : public EnforcementBackend {
 public:
  explicit ScriptBackend(ScriptBackendOptions options);

  std::string_view Name() const override { return "script"; }
  bool Supports(ActionType action) const override;
  Status Start() override;
  Status Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* failed) override;
  Status Remove(const std::vector<Enforcement>& items) override;
  Status Reconcile(const std::vector<Enforcement>& active) override;
  Result<Drift> Measure(const std::vector<Enforcement>& active) override;
  Status Shutdown(bool cleanup) override;
  // {"backend": "script", "status": "ok"|"error", "path", "runs", "failures",
  //  "timeouts", "last_exit_code" (null before a run or after a signal),
  //  "last_error" (null after a success), "last_duration_ms"}
  // "error" while the last run (or Start) failed.
  nlohmann::json Health() const override;

 private:
  // One run for the batch; OK or the failure message for every item.
  Status Run(HookEvent event, const std::vector<Enforcement>& items);
  void Record(const Status& outcome, std::optional<int> exit_code, std::chrono::milliseconds elapsed, bool timed_out);

  const ScriptBackendOptions options_;
  AcceptedDecisions accepted_;  // the caller's thread only

  mutable std::mutex mu_;  // guards the health fields below
  uint64_t runs_ = 0;
  uint64_t failures_ = 0;
  uint64_t timeouts_ = 0;
  std::optional<int> last_exit_code_;
  std::optional<std::string> last_error_;
  int64_t last_duration_ms_ = 0;
};

}  // namespace threatd::healing
