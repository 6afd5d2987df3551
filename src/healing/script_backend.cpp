#include "healing/script_backend.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>  // strerror, sigdescr_np (glibc)
#include <utility>

#include <fmt/format.h>

#include "healing/subprocess.h"

namespace threatd::healing {
namespace {

constexpr size_t kMaxStderrLines = 3;
constexpr size_t kMaxStderrChars = 512;

// The last few non-empty lines of stderr, " | "-joined, for the failure message.
std::string LastLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < kMaxStderrLines) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.empty()) break;
    const size_t nl = text.find_last_of('\n');
    const std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back(line);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(0, nl);
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!out.empty()) out += " | ";
    out.append(*it);
  }
  if (out.size() > kMaxStderrChars) out = "..." + out.substr(out.size() - kMaxStderrChars);
  return out.empty() ? "(nothing on stderr)" : out;
}

std::string SignalText(int sig) {
  const char* d = sigdescr_np(sig);
  return "signal " + std::to_string(sig) + (d ? std::string(" (") + d + ")" : std::string());
}

}  // namespace

ScriptBackend::ScriptBackend(ScriptBackendOptions options) : options_(std::move(options)) {}

bool ScriptBackend::Supports(ActionType action) const {
  return std::find(options_.actions.begin(), options_.actions.end(), action) != options_.actions.end();
}

Status ScriptBackend::Start() {
  const std::string& path = options_.path;
  Status s;
  struct stat st {};
  if (path.empty()) {
    s = Status::InvalidArgument("script backend: no script configured",
                                "set the script path to the absolute path of an executable");
  } else if (path.front() != '/') {
    s = Status::InvalidArgument("script backend: '" + path + "' is not an absolute path",
                                "give the script as an absolute path (it is run directly, without a shell or PATH)");
  } else if (::stat(path.c_str(), &st) != 0) {
    s = Status::InvalidArgument("script backend: " + path + " cannot be used: " + std::strerror(errno),
                                "create the script or fix the configured path");
  } else if (!S_ISREG(st.st_mode)) {
    s = Status::InvalidArgument("script backend: " + path + " is not a regular file",
                                "point the script path at an executable file");
  } else if (::access(path.c_str(), X_OK) != 0) {
    s = Status::InvalidArgument("script backend: " + path + " is not executable by the threatd user",
                                "chmod +x " + path + " (and give it a \"#!\" line if it is a script)");
  } else if (options_.timeout.count() <= 0 || options_.kill_grace.count() < 0 || options_.output_limit == 0) {
    s = Status::InvalidArgument("script backend: timeout must be > 0, kill_grace >= 0 and output_limit > 0",
                                "fix the script backend options");
  }
  if (!s.ok()) {
    std::lock_guard lock(mu_);
    last_error_ = s.message();
    return s;
  }
  spdlog::info("healing: script backend ready: {} ({} argument(s), timeout {} ms)", path, options_.args.size(),
               options_.timeout.count());
  return Status::Ok();
}

Status ScriptBackend::Run(HookEvent event, const std::vector<Enforcement>& items) {
  ProcessOptions p;
  p.path = options_.path;
  p.args = options_.args;
  p.stdin_data = HookPayloadText(event, items);
  p.timeout = options_.timeout;
  p.kill_grace = options_.kill_grace;
  p.output_limit = options_.output_limit;

  Result<ProcessResult> r = RunProcess(p);
  if (!r.ok()) {
    const Status s = Status::Unavailable("script " + options_.path + " could not be started: " + r.status().message(),
                                         r.status().hint());
    Record(s, std::nullopt, std::chrono::milliseconds(0), false);
    return s;
  }
  const ProcessResult& pr = *r;
  if (!pr.out.empty()) spdlog::debug("healing: script {} ({}) stdout: {}", options_.path, ToString(event), pr.out);

  Status s;
  if (pr.timed_out) {
    s = Status::Timeout(fmt::format("script {} timed out after {} ms and was killed ({}): {}", options_.path,
                                    options_.timeout.count(),
                                    pr.killed ? "SIGTERM, then SIGKILL" : "SIGTERM", LastLines(pr.err)),
                        "make the script finish within the timeout, or raise the timeout");
  } else if (!pr.exited) {
    s = Status::Unavailable(fmt::format("script {} was killed by {}: {}", options_.path, SignalText(pr.term_signal),
                                        LastLines(pr.err)),
                            "run the script by hand with the event JSON on stdin to see why");
  } else if (pr.exit_code != 0) {
    s = Status::Unavailable(fmt::format("script {} exited with {}: {}", options_.path, pr.exit_code,
                                        LastLines(pr.err)),
                            "run the script by hand with the event JSON on stdin to see why");
  }
  if (s.ok()) {
    spdlog::info("healing: script {} handled {} of {} decision(s) in {} ms", options_.path, ToString(event),
                 items.size(), pr.elapsed.count());
  } else {
    spdlog::warn("healing: {}", s.message());
  }
  Record(s, pr.exited ? std::optional<int>(pr.exit_code) : std::nullopt, pr.elapsed, pr.timed_out);
  return s;
}

void ScriptBackend::Record(const Status& outcome, std::optional<int> exit_code, std::chrono::milliseconds elapsed,
                           bool timed_out) {
  std::lock_guard lock(mu_);
  ++runs_;
  if (!outcome.ok()) ++failures_;
  if (timed_out) ++timeouts_;
  last_exit_code_ = exit_code;
  last_duration_ms_ = elapsed.count();
  last_error_ = outcome.ok() ? std::nullopt : std::optional<std::string>(outcome.message());
}

Status ScriptBackend::Apply(const std::vector<Enforcement>& items,
                            std::vector<std::pair<int64_t, std::string>>* failed) {
  if (items.empty()) return Status::Ok();
  Status s = Run(HookEvent::kApply, items);
  if (!s.ok()) {
    if (failed != nullptr)
      for (const Enforcement& e : items) failed->emplace_back(e.decision_id, s.message());
    return s;  // one run: either every item is applied or none is
  }
  accepted_.Add(items);
  return s;
}

Status ScriptBackend::Remove(const std::vector<Enforcement>& items) {
  if (items.empty()) return Status::Ok();
  THREATD_RETURN_IF_ERROR(Run(HookEvent::kRemove, items));
  accepted_.Remove(items);
  return Status::Ok();
}

Status ScriptBackend::Reconcile(const std::vector<Enforcement>& active) {
  THREATD_RETURN_IF_ERROR(Run(HookEvent::kReconcile, active));
  accepted_.Reset(active);
  return Status::Ok();
}

Result<Drift> ScriptBackend::Measure(const std::vector<Enforcement>& /*active*/) { return Drift{}; }

Status ScriptBackend::Shutdown(bool cleanup) {
  if (!cleanup || accepted_.empty()) return Status::Ok();
  const std::vector<Enforcement> items = accepted_.All();
  spdlog::info("healing: script backend cleanup: removing {} decision(s)", items.size());
  return Remove(items);
}

nlohmann::json ScriptBackend::Health() const {
  std::lock_guard lock(mu_);
  return {{"backend", "script"},
          {"status", last_error_ ? "error" : "ok"},
          {"path", options_.path},
          {"runs", runs_},
          {"failures", failures_},
          {"timeouts", timeouts_},
          {"last_exit_code", last_exit_code_ ? nlohmann::json(*last_exit_code_) : nlohmann::json()},
          {"last_error", last_error_ ? nlohmann::json(*last_error_) : nlohmann::json()},
          {"last_duration_ms", last_duration_ms_}};
}

}  // namespace threatd::healing
