// Network namespaces for tests and benchmarks that need real packets and a
// firewall of their own (the nftables backend): namespaces and veth links
// are made with `ip`, and a thread enters one with setns() - sockets and
// libnftables contexts created on that thread act inside it, never on the
// host's network or firewall.
//
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2. Namespaces are
// named threatd-<tag>-<pid>-<n>-{fw,peer}; Create() first deletes those left
// by runs that were killed (their pid is gone).
//
// Thread-safety: NsThread::Run may be called from any thread (calls are
// serialised on the namespace's thread); the rest from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "common/status.h"

namespace threatd::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Runs `command` with /bin/sh.
CommandResult RunCommand(const std::string& command);

// Why this process cannot use network namespaces and nftables, or "".
std::string NetnsUnavailableReason();

// A thread inside a network namespace, running the tasks given to Run().
class NsThread {
 public:
  // netns: a name under /var/run/netns.
  explicit NsThread(const std::string& netns);
  ~NsThread();
  NsThread(const NsThread&) = delete;
  NsThread& operator=(const NsThread&) = delete;

  // Empty when the thread entered the namespace, else why not.
  const std::string& error() const { return error_; }

  // Runs f() on the namespace's thread and returns its result.
  template <typename F>
  std::invoke_result_t<F> Run(F f) {
    std::packaged_task<std::invoke_result_t<F>()> task(std::move(f));
    auto result = task.get_future();
    {
      std::lock_guard lock(mu_);
      tasks_.emplace_back([&task] { task(); });
    }
    wake_.notify_one();
    return result.get();
  }

 private:
  void Loop(std::string netns, std::promise<void> ready);

  std::string error_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stop_ = false;                         // guarded by mu_
  std::thread thread_;
};

// Two namespaces joined by a veth pair:
//   fw    10.99.0.1/24, fd00:99::1/64
//   peer  10.99.0.2/24 and 10.99.0.3/24, fd00:99::2/64 and fd00:99::3/64
// The destructor deletes both (and with them the veth pair).
class VethPair {
 public:
  static Result<std::unique_ptr<VethPair>> Create(std::string_view tag);
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  const std::string& fw() const { return fw_; }
  const std::string& peer() const { return peer_; }

 private:
  VethPair() = default;
  std::string fw_;
  std::string peer_;
};

// A dual-stack TCP listener on [::]:<port> of the namespace of the thread
// that opens it; a thread of its own accepts and closes connections.
class TcpListener {
 public:
  static Result<std::unique_ptr<TcpListener>> Open();
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  uint16_t port() const { return port_; }

 private:
  TcpListener() = default;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
};

// Whether a TCP connection from `source` (bound; an address of the calling
// thread's namespace) to destination:port completes within `timeout`.
bool TcpConnects(const std::string& source, const std::string& destination, uint16_t port,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(300));

}  // namespace threatd::testing
