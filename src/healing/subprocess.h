// RunProcess: runs an executable directly (posix_spawn, NO shell), writes
// `stdin_data` to its stdin, captures bounded stdout/stderr and enforces a
// timeout - what the script enforcement backend is built on.
//
// The child runs in a process group of its own, with default signal
// dispositions, an empty signal mask, the parent's environment and only
// fds 0-2 open. When the timeout passes, the whole group gets SIGTERM and,
// if the child has not exited `kill_grace` later, SIGKILL; the child is
// always reaped before RunProcess returns (no zombies), and after a timeout
// the rest of its group is SIGKILLed too (e.g. a `sleep` started by a shell
// script).
//
// Output: the FIRST `output_limit` bytes of stdout and the LAST
// `output_limit` bytes of stderr are kept (the end of stderr says why a
// script failed); both pipes are read continuously, so a chatty child never
// blocks on a full pipe. A child that exits without reading all its stdin is
// not an error (SIGPIPE is blocked and consumed on the calling thread).
//
// Errors: Unavailable when the process cannot be started (the message names
// the path and errno text); everything after a successful start (exit codes,
// signals, timeouts) is reported in ProcessResult, not as an error.
// Thread-safety: reentrant; blocks the calling thread for at most
// timeout + kill_grace (plus the time to reap a SIGKILLed child).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace threatd::healing {

struct ProcessOptions {
  std::string path;               // absolute path of the executable (argv[0])
  std::vector<std::string> args;  // argv[1..]
  std::string stdin_data;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds kill_grace{std::chrono::seconds(2)};
  size_t output_limit = 64 * 1024;
};

struct ProcessResult {
  pid_t pid = 0;
  bool exited = false;    // exited normally: exit_code is valid
  int exit_code = -1;
  int term_signal = 0;    // the signal that ended it, when !exited
  bool timed_out = false;
  bool killed = false;    // SIGKILL was needed (SIGTERM was not enough)
  std::string out;        // first output_limit bytes of stdout
  std::string err;        // last output_limit bytes of stderr
  bool out_truncated = false;
  bool err_truncated = false;
  std::chrono::milliseconds elapsed{0};

  bool ok() const { return exited && exit_code == 0 && !timed_out; }
};

Result<ProcessResult> RunProcess(const ProcessOptions& options);

}  // namespace threatd::healing
