#include "healing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace threatd::healing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// An owned file descriptor (-1 when empty).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Status MakePipe(Pipe* p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Unavailable(std::string("pipe2 failed: ") + std::strerror(errno));
  p->read = UniqueFd(fds[0]);
  p->write = UniqueFd(fds[1]);
  return Status::Ok();
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Blocks SIGPIPE on the calling thread while a child's stdin is written, and
// consumes a SIGPIPE raised by that write (a child that stopped reading), so
// the default action (killing threatd) never happens.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_set_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// posix_spawn attributes and file actions, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child: its own process group (so a timeout can signal the whole
  // group), default dispositions and an empty mask (a parent that ignores or
  // blocks signals must not pass that on), pipes on 0-2, nothing else open.
  int Prepare(int in_fd, int out_fd, int err_fd) {
    sigset_t defaults;
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    sigset_t empty;
    sigemptyset(&empty);
    int rc = posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr_, 0);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr_, &defaults);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr_, &empty);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, in_fd, STDIN_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, out_fd, STDOUT_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, err_fd, STDERR_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
    return rc;
  }

  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

// True once the child has exited; leaves it a zombie (WNOWAIT) so its pid,
// which is also its process group id, cannot be reused before we reap it.
bool HasExited(pid_t pid) {
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return info.si_pid == pid;
}

// Reads everything available now. Keeps the first `limit` bytes (keep_tail
// false) or the last `limit` bytes (keep_tail true). Closes `fd` at EOF or on
// an error. `budget` bounds a drain after exit (a grandchild may keep writing).
void ReadAvailable(UniqueFd* fd, std::string* into, bool* truncated, size_t limit, bool keep_tail,
                   size_t budget = SIZE_MAX) {
  std::array<char, 16 * 1024> buf;
  size_t total = 0;
  while (fd->valid() && total < budget) {
    const ssize_t n = ::read(fd->get(), buf.data(), buf.size());
    if (n > 0) {
      total += static_cast<size_t>(n);
      const std::string_view chunk(buf.data(), static_cast<size_t>(n));
      if (keep_tail) {
        into->append(chunk);
        if (into->size() > limit) {
          into->erase(0, into->size() - limit);
          *truncated = true;
        }
      } else {
        const size_t room = limit > into->size() ? limit - into->size() : 0;
        into->append(chunk.substr(0, room));
        if (chunk.size() > room) *truncated = true;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    fd->Reset();  // EOF or a read error
  }
}

}  // namespace

Result<ProcessResult> RunProcess(const ProcessOptions& options) {
  Pipe in;
  Pipe out;
  Pipe err;
  THREATD_RETURN_IF_ERROR(MakePipe(&in));
  THREATD_RETURN_IF_ERROR(MakePipe(&out));
  THREATD_RETURN_IF_ERROR(MakePipe(&err));

  SpawnSetup setup;
  if (const int rc = setup.Prepare(in.read.get(), out.write.get(), err.write.get()); rc != 0) {
    return Status::Internal(std::string("preparing posix_spawn failed: ") + std::strerror(rc));
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(options.path.c_str()));
  for (const std::string& a : options.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  SigpipeGuard sigpipe_guard;
  ProcessResult result;
  const auto start = SteadyClock::now();
  if (const int rc = posix_spawn(&result.pid, options.path.c_str(), setup.actions(), setup.attr(), argv.data(), environ);
      rc != 0) {
    return Status::Unavailable("cannot start " + options.path + ": " + std::strerror(rc),
                               "check that the path names an executable file the threatd user may run");
  }
  in.read.Reset();
  out.write.Reset();
  err.write.Reset();
  SetNonBlocking(in.write.get());
  SetNonBlocking(out.read.get());
  SetNonBlocking(err.read.get());
  if (options.stdin_data.empty()) in.write.Reset();
  // pidfd wakes poll() the moment the child exits; without it (old kernels,
  // seccomp) poll() ticks instead.
  // (The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C".)
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, result.pid, 0)));

  const pid_t pid = result.pid;
  const auto deadline = start + options.timeout;
  auto kill_at = SteadyClock::time_point::max();
  size_t written = 0;
  while (!HasExited(pid)) {
    const auto now = SteadyClock::now();
    if (!result.timed_out && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + options.kill_grace;
    }
    if (result.timed_out && !result.killed && now >= kill_at) {
      result.killed = true;
      ::kill(-pid, SIGKILL);
    }

    std::array<pollfd, 4> fds{};
    nfds_t n = 0;
    auto add = [&](const UniqueFd& fd, short events) {
      if (fd.valid()) fds[n++] = pollfd{fd.get(), events, 0};
    };
    add(in.write, POLLOUT);
    add(out.read, POLLIN);
    add(err.read, POLLIN);
    add(pidfd, POLLIN);
    const auto wake = result.killed ? now + std::chrono::milliseconds(50) : result.timed_out ? kill_at : deadline;
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    if (!pidfd.valid()) wait_ms = std::min<decltype(wait_ms)>(wait_ms, 20);
    if (::poll(fds.data(), n, static_cast<int>(std::max<decltype(wait_ms)>(wait_ms, 0))) < 0 && errno != EINTR) {
      // Not expected with valid fds; never leave the child running unwatched.
      result.killed = true;
      ::kill(-pid, SIGKILL);
      break;
    }

    if (in.write.valid()) {
      const ssize_t w = ::write(in.write.get(), options.stdin_data.data() + written,
                                std::min<size_t>(options.stdin_data.size() - written, 64 * 1024));
      if (w > 0) written += static_cast<size_t>(w);
      // EPIPE: the child closed its stdin (or exited) - what it read is its business.
      if ((w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
          written == options.stdin_data.size()) {
        in.write.Reset();  // EOF for the child
      }
    }
    ReadAvailable(&out.read, &result.out, &result.out_truncated, options.output_limit, false);
    ReadAvailable(&err.read, &result.err, &result.err_truncated, options.output_limit, true);
  }

  // Whatever the child wrote before exiting is in the pipes now.
  ReadAvailable(&out.read, &result.out, &result.out_truncated, options.output_limit, false, 1024 * 1024);
  ReadAvailable(&err.read, &result.err, &result.err_truncated, options.output_limit, true, 1024 * 1024);
  // After a timeout nothing of the group may outlive the run. The leader is
  // still a zombie here, so the group id cannot belong to anyone else.
  if (result.timed_out) ::kill(-pid, SIGKILL);

  int wstatus = 0;
  pid_t reaped = -1;
  do {
    reaped = ::waitpid(pid, &wstatus, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped != pid) {  // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN in this process)
    return Status::Internal("the exit status of " + options.path + " (pid " + std::to_string(pid) + ") was lost",
                            "do not ignore SIGCHLD in the threatd process");
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  if (WIFEXITED(wstatus)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.term_signal = WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace threatd::healing
