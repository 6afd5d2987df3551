#include "support/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>
#include <sstream>

namespace threatd::testing {
namespace {

std::atomic<int> g_pair_counter{0};

// Deletes threatd-*-<pid>-* namespaces whose process no longer exists.
void DeleteStaleNamespaces() {
  static const std::regex kName(R"(^(threatd-[a-z0-9]+-(\d+)-\d+-(fw|peer))\b)");
  std::istringstream list(RunCommand("ip netns list").output);
  std::string line;
  while (std::getline(list, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, kName)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(m[2].str()));
    if (kill(pid, 0) != 0 && errno == ESRCH) RunCommand("ip netns del " + m[1].str());
  }
}

// Parses an IPv4 or IPv6 address into a sockaddr.
bool ToSockaddr(const std::string& address, uint16_t port, sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string NetnsUnavailableReason() {
  if (geteuid() != 0) {
    return "this test needs root: it creates network namespaces and nftables tables (run it as root, e.g. "
           "`sudo ctest --test-dir build/release -L integration -R nftables`)";
  }
  if (auto r = RunCommand("ip -V"); r.exit_code != 0) {
    return "iproute2 (`ip`) is missing: install it (scripts/setup.sh does): " + r.output;
  }
  return "";
}

NsThread::NsThread(const std::string& netns) {
  std::promise<void> ready;
  auto started = ready.get_future();
  thread_ = std::thread([this, netns, p = std::move(ready)]() mutable { Loop(netns, std::move(p)); });
  started.wait();
}

NsThread::~NsThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void NsThread::Loop(std::string netns, std::promise<void> ready) {
  const std::string path = "/var/run/netns/" + netns;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error_ = "cannot open " + path + ": " + std::strerror(errno);
  } else {
    if (setns(fd, CLONE_NEWNET) != 0) error_ = "setns(" + path + "): " + std::strerror(errno);
    close(fd);
  }
  ready.set_value();
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stop_ and nothing left to run
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

Result<std::unique_ptr<VethPair>> VethPair::Create(std::string_view tag) {
  DeleteStaleNamespaces();
  std::unique_ptr<VethPair> pair(new VethPair());
  const std::string base =
      "threatd-" + std::string(tag) + "-" + std::to_string(getpid()) + "-" + std::to_string(g_pair_counter++);
  pair->fw_ = base + "-fw";
  pair->peer_ = base + "-peer";
  const std::string& fw = pair->fw_;
  const std::string& peer = pair->peer_;
  // The destructor deletes whatever of this was made, also after a failure.
  for (const std::string& cmd : {
           "ip netns add " + fw,
           "ip netns add " + peer,
           "ip link add veth-fw netns " + fw + " type veth peer name veth-peer netns " + peer,
           "ip -n " + fw + " addr add 10.99.0.1/24 dev veth-fw",
           "ip -n " + fw + " addr add fd00:99::1/64 dev veth-fw nodad",
           "ip -n " + fw + " link set lo up",
           "ip -n " + fw + " link set veth-fw up",
           "ip -n " + peer + " addr add 10.99.0.2/24 dev veth-peer",
           "ip -n " + peer + " addr add 10.99.0.3/24 dev veth-peer",
           "ip -n " + peer + " addr add fd00:99::2/64 dev veth-peer nodad",
           "ip -n " + peer + " addr add fd00:99::3/64 dev veth-peer nodad",
           "ip -n " + peer + " link set lo up",
           "ip -n " + peer + " link set veth-peer up",
       }) {
    if (auto r = RunCommand(cmd); r.exit_code != 0) {
      return Status::Unavailable("`" + cmd + "` failed: " + r.output,
                                 "network namespaces need root and a kernel with CONFIG_NET_NS and veth");
    }
  }
  return pair;
}

VethPair::~VethPair() {
  if (!fw_.empty()) RunCommand("ip netns del " + fw_);
  if (!peer_.empty()) RunCommand("ip netns del " + peer_);
}

Result<std::unique_ptr<TcpListener>> TcpListener::Open() {
  std::unique_ptr<TcpListener> l(new TcpListener());
  l->fd_ = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l->fd_ < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
  const int off = 0;
  const int on = 1;
  setsockopt(l->fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  setsockopt(l->fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_any;
  socklen_t len = sizeof(addr);
  if (bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(l->fd_, 256) != 0 ||
      getsockname(l->fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Status::Unavailable(std::string("listen: ") + std::strerror(errno));
  }
  l->port_ = ntohs(addr.sin6_port);
  TcpListener* self = l.get();
  l->acceptor_ = std::thread([self] {
    while (!self->stop_) {
      pollfd p{self->fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const int c = accept4(self->fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) close(c);
    }
  });
  return l;
}

TcpListener::~TcpListener() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  if (fd_ >= 0) close(fd_);
}

bool TcpConnects(const std::string& source, const std::string& destination, uint16_t port,
                 std::chrono::milliseconds timeout) {
  sockaddr_storage src{};
  sockaddr_storage dst{};
  socklen_t src_len = 0;
  socklen_t dst_len = 0;
  if (!ToSockaddr(source, 0, &src, &src_len) || !ToSockaddr(destination, port, &dst, &dst_len)) return false;
  const int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool connected = false;
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), src_len) == 0) {
    const int rc = connect(fd, reinterpret_cast<sockaddr*>(&dst), dst_len);
    if (rc == 0) {
      connected = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t err_len = sizeof(err);
        connected = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) == 0 && err == 0;
      }
    }
  }
  close(fd);
  return connected;
}

}  // namespace threatd::testing
