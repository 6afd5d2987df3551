// bench_nftables: how fast decisions reach the kernel with NftablesBackend,
// measured inside a throw-away network namespace (never the host firewall).
//
//   (a) decision -> applied in the kernel: Apply() of one decision, which
//       returns after the kernel acknowledged the nft transaction; p50/p99
//       over N calls, on an almost empty table and with 100,000 installed;
//       the same for Remove().
//   (b) Reconcile() of 10,000 / 20,000 / 100,000 active decisions (one
//       transaction), and Measure() reading 100,000 back.
//   (c) the reference in the same run: one `nft add element` process per
//       address (what fail2ban does), for 1,000 addresses.
//
//   bench_nftables [--calls 2000] [--naive 1000]     (needs root)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "healing/nftables_backend.h"
#include "support/netns.h"

extern char** environ;

namespace {

using threatd::Clock;
using threatd::IpNetwork;
using threatd::healing::ActionType;
using threatd::healing::Enforcement;
using threatd::healing::NftablesBackend;
using Ms = std::chrono::duration<double, std::milli>;

Enforcement Decision(int64_t id, const std::string& target, std::chrono::seconds ttl) {
  Enforcement e;
  e.decision_id = id;
  e.target = IpNetwork::Parse(target).value();
  e.action = ActionType::kBlockIp;
  e.expires_at = Clock::System().Now() + ttl;
  return e;
}

// n decisions like a real ban list: 95 % IPv4 hosts, 4 % IPv6 hosts, 1 % IPv4 /24s;
// expiries between 1 and 24 hours. Ids and addresses start at `first`.
std::vector<Enforcement> BanList(int n, int first = 0) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> ttl(3600, 86400);
  std::vector<Enforcement> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = first; i < first + n; ++i) {
    std::string target;
    if (i % 100 == 0) {
      target = fmt::format("172.{}.{}.0/24", 16 + (i / 100 / 256) % 16, (i / 100) % 256);
    } else if (i % 25 == 0) {
      target = fmt::format("2001:db8:{:x}::{:x}", i / 65536, i % 65536);
    } else {
      target = fmt::format("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    }
    out.push_back(Decision(i + 1, target, std::chrono::seconds(ttl(rng))));
  }
  return out;
}

struct Percentiles {
  double p50, p99, max;
};
Percentiles Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.50), at(0.99), v.back()};
}

template <typename F>
double TimeMs(F f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return Ms(std::chrono::steady_clock::now() - start).count();
}

// Runs `nft add element ...` as its own process (in the calling thread's netns).
bool SpawnNft(const std::string& element) {
  std::vector<std::string> args{"nft", "add", "element", "inet", "threatd", "block_hosts_v4", "{ " + element + " }"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "nft", nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "bench_nftables: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 2000;
  int naive = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--calls") == 0) calls = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--naive") == 0) naive = std::atoi(argv[i + 1]);
  }
  if (auto why = threatd::testing::NetnsUnavailableReason(); !why.empty()) return Fail(why);
  spdlog::set_level(spdlog::level::warn);
  auto net = threatd::testing::VethPair::Create("bench");
  if (!net.ok()) return Fail(net.status().ToString());
  threatd::testing::NsThread fw((*net)->fw());
  if (!fw.error().empty()) return Fail(fw.error());

  return fw.Run([&]() -> int {
    NftablesBackend backend({});
    if (auto st = backend.Start(); !st.ok()) return Fail(st.ToString());
    std::vector<std::pair<int64_t, std::string>> failed;
    std::printf("== nftables backend, in network namespace %s\n", (*net)->fw().c_str());

    // (a) single decisions on an almost empty table.
    auto singles = [&](const char* label, int first) {
      const auto list = BanList(calls, first);
      std::vector<double> apply;
      std::vector<double> remove;
      for (const auto& e : list) {
        apply.push_back(TimeMs([&] { (void)backend.Apply({e}, &failed); }));
      }
      for (const auto& e : list) remove.push_back(TimeMs([&] { (void)backend.Remove({e}); }));
      const auto a = Summarize(apply);
      const auto r = Summarize(remove);
      std::printf("apply 1 decision (%s): p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d calls; target p99 <= 100 ms)\n",
                  label, a.p50, a.p99, a.max, calls);
      std::printf("remove 1 decision (%s): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", label, r.p50, r.p99, r.max);
    };
    singles("empty table", 1000000);

    // (b) Reconcile, one transaction each.
    double per_address_batched = 0;
    for (int n : {10000, 20000, 100000}) {
      const auto list = BanList(n);
      threatd::Status st;
      const double ms = TimeMs([&] { st = backend.Reconcile(list); });
      if (!st.ok()) return Fail(st.ToString());
      per_address_batched = ms / n;
      std::printf("reconcile %d decisions: %.0f ms (%.1f us per decision; target 100,000 <= 2000 ms)\n", n, ms,
                  1000 * per_address_batched);
    }
    const auto installed = BanList(100000);
    threatd::Result<threatd::healing::Drift> drift = threatd::Status::Internal("not measured");
    const double measure_ms = TimeMs([&] { drift = backend.Measure(installed); });
    if (!drift.ok()) return Fail(drift.status().ToString());
    std::printf("measure 100000 decisions: %.0f ms, %zu missing, %zu unexpected\n", measure_ms, drift->missing.size(),
                drift->unexpected.size());
    singles("100,000 installed", 1000000);

    // (c) the naive reference: one nft process per address, on an empty table.
    if (auto st = backend.Reconcile({}); !st.ok()) return Fail(st.ToString());
    int ok = 0;
    const double naive_ms = TimeMs([&] {
      for (int i = 0; i < naive; ++i) {
        ok += SpawnNft(fmt::format("192.168.{}.{} timeout 3600s", (i >> 8) & 255, i & 255)) ? 1 : 0;
      }
    });
    if (ok != naive) return Fail(fmt::format("{} of {} `nft add element` processes failed", naive - ok, naive));
    const double per_address_naive = naive_ms / naive;
    std::printf("naive: %d `nft add element` processes: %.0f ms (%.2f ms per address)\n", naive, naive_ms,
                per_address_naive);
    std::printf("ratio per address: naive / reconcile = %.0fx; 20,000 bans: naive ~%.0f s vs reconcile above\n",
                per_address_naive / per_address_batched, per_address_naive * 20000 / 1000);
    (void)backend.Shutdown(true);
    return 0;
  });
}
