#include "threatd_process.h"

#include "support/http_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

namespace threatd::testing {

namespace fs = std::filesystem;

namespace {

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string ThreatdProcess::BinaryPath() {
  const char* p = std::getenv("THREATD_BINARY");
  return p ? p : THREATD_BINARY_PATH;
}

std::string ThreatdProcess::SourceDir() {
  const char* p = std::getenv("THREATD_SOURCE_DIR");
  return p ? p : ".";
}

ThreatdProcess::ThreatdProcess(std::string shared_data_dir) {
  if (!shared_data_dir.empty()) {
    data_dir_ = std::move(shared_data_dir);
    owns_data_dir_ = false;
    return;
  }
  char tmpl[] = "/tmp/threatd-e2e-XXXXXX";
  data_dir_ = ::mkdtemp(tmpl);
}

ThreatdProcess::~ThreatdProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  std::error_code ec;
  if (owns_data_dir_) fs::remove_all(data_dir_, ec);
}

std::vector<std::string> ThreatdProcess::Environment() const {
  // A minimal, hermetic environment: no THREATD_ or original variables leak
  // in from the developer's shell.
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + data_dir_, "ASAN_OPTIONS=detect_leaks=1"};
  for (const auto& [k, v] : env_) env.push_back(k + "=" + v);
  return env;
}

bool ThreatdProcess::Start(std::string* error, std::chrono::milliseconds timeout) {
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return false;
  // The child runs in data_dir_, so only a .env placed there is read.
  std::vector<std::string> args = {BinaryPath(), "serve", "--port", "0", "--data-dir", data_dir_};
  args.insert(args.end(), flags_.begin(), flags_.end());
  auto env = Environment();
  const auto started = std::chrono::steady_clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::chdir(data_dir_.c_str());
    auto argv = CStrings(args);
    auto envp = CStrings(env);
    ::execve(argv[0], argv.data(), envp.data());
    std::_Exit(127);
  }
  ::close(out_pipe[1]);
  stdout_fd_ = out_pipe[0];

  static const std::regex kReady(R"(threatd listening on http://[^:]+:(\d+))");
  static const std::regex kKey(R"(\n\s+(tdk_[A-Za-z0-9_]+)\n)");
  const auto deadline = started + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) > 0) {
      const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;  // the process closed stdout (exited)
      stdout_.append(buf, static_cast<size_t>(n));
      std::smatch m;
      if (std::regex_search(stdout_, m, kReady)) {
        startup_time_ =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
        std::smatch k;
        if (std::regex_search(stdout_, k, kKey)) admin_key_ = k[1];
        return WaitForModels(error, timeout);
      }
    }
  }
  if (error) *error = "threatd did not become ready; stdout:\n" + stdout_;
  return false;
}

// The models load in the background once the server listens; tests that
// score flows need them, so Start() waits for the load to finish.
bool ThreatdProcess::WaitForModels(std::string* error, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpClient client("127.0.0.1", port_);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.Request("GET", "/api/v1/health/detailed");
    if (r.ok() && !r->json()["checks"]["models"].value("loading", false)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (error) *error = "threatd's models did not finish loading; stdout:\n" + stdout_;
  return false;
}

void ThreatdProcess::SendSignal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int ThreatdProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return DecodeStatus(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int ThreatdProcess::Stop(int sig, std::chrono::milliseconds timeout) {
  SendSignal(sig);
  return Wait(timeout);
}

CommandResult ThreatdProcess::Run(const std::vector<std::string>& args) const {
  std::vector<std::string> argv_s = {BinaryPath()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto env = Environment();
  const std::string out_path = data_dir_ + "/cmd.out", err_path = data_dir_ + "/cmd.err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::chdir(data_dir_.c_str());
    auto argv = CStrings(argv_s);
    auto envp = CStrings(env);
    ::execve(argv[0], argv.data(), envp.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto slurp = [](const std::string& path) {
    std::string s;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char b[4096];
      size_t n;
      while ((n = std::fread(b, 1, sizeof b, f)) > 0) s.append(b, n);
      std::fclose(f);
    }
    return s;
  };
  return {DecodeStatus(status), slurp(out_path), slurp(err_path)};
}

}  // namespace threatd::testing
