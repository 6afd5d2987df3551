// NftablesBackend against the real kernel, proven with real packets: two
// network namespaces joined by a veth pair (tests/support/netns.h), the
// backend running inside "fw", TCP connects from "peer" bound to each of its
// source addresses. Needs root; without it (or without netns/nftables) the
// tests FAIL saying so - they are never skipped.
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "healing/nftables_backend.h"
#include "support/eventually.h"
#include "support/netns.h"

namespace threatd::healing {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using threatd::testing::Eventually;
using threatd::testing::NsThread;
using threatd::testing::RunCommand;
using threatd::testing::TcpConnects;
using threatd::testing::TcpListener;
using threatd::testing::VethPair;

constexpr char kFw4[] = "10.99.0.1";
constexpr char kFw6[] = "fd00:99::1";

Enforcement Decision(int64_t id, std::string_view target, ActionType action = ActionType::kBlockIp,
                     std::optional<seconds> ttl = std::nullopt) {
  Enforcement e;
  e.decision_id = id;
  e.target = IpNetwork::Parse(target).value();
  e.action = action;
  if (ttl) e.expires_at = Clock::System().Now() + *ttl;
  return e;
}

class NftablesNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = threatd::testing::NetnsUnavailableReason(); !why.empty()) FAIL() << why;
    auto pair = VethPair::Create("nft");
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    net_ = std::move(*pair);
    fw_ = std::make_unique<NsThread>(net_->fw());
    peer_ = std::make_unique<NsThread>(net_->peer());
    ASSERT_EQ(fw_->error(), "");
    ASSERT_EQ(peer_->error(), "");
    auto listener = fw_->Run([] { return TcpListener::Open(); });
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    fw_listener_ = std::move(*listener);
    auto peer_listener = peer_->Run([] { return TcpListener::Open(); });
    ASSERT_TRUE(peer_listener.ok()) << peer_listener.status().ToString();
    peer_listener_ = std::move(*peer_listener);
    // The veth link and IPv6 come up asynchronously.
    ASSERT_TRUE(Eventually([&] { return Passes("10.99.0.2") && Passes("fd00:99::2"); }))
        << "no traffic between the namespaces before any rule";
    StartBackend();
  }

  void TearDown() override {
    if (fw_) fw_->Run([this] { backend_.reset(); });
    fw_listener_.reset();
    peer_listener_.reset();
    fw_.reset();
    peer_.reset();
    net_.reset();  // deletes both namespaces, also after a failure
  }

  // Backend verbs, all on the thread inside "fw".
  void StartBackend(NftablesOptions options = {}) {
    Status st = fw_->Run([this, options] {
      backend_ = std::make_unique<NftablesBackend>(options);
      return backend_->Start();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  std::vector<std::pair<int64_t, std::string>> Apply(const std::vector<Enforcement>& items) {
    std::vector<std::pair<int64_t, std::string>> failed;
    Status st = fw_->Run([&] { return backend_->Apply(items, &failed); });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return failed;
  }
  void ApplyAll(const std::vector<Enforcement>& items) { EXPECT_THAT(Apply(items), IsEmpty()); }
  void Remove(const std::vector<Enforcement>& items) {
    Status st = fw_->Run([&] { return backend_->Remove(items); });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  void Reconcile(const std::vector<Enforcement>& active) {
    Status st = fw_->Run([&] { return backend_->Reconcile(active); });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  Drift Measure(const std::vector<Enforcement>& active) {
    auto d = fw_->Run([&] { return backend_->Measure(active); });
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : Drift{};
  }
  // `nft` as an operator would run it in "fw" (outside the backend).
  std::string Nft(const std::string& args) {
    auto r = RunCommand("ip netns exec " + net_->fw() + " nft " + args);
    EXPECT_EQ(r.exit_code, 0) << "nft " << args << ": " << r.output;
    return r.output;
  }
  // Elements of one of our sets as `nft list set` prints them.
  std::vector<std::string> Elements(const std::string& set) {
    auto json = nlohmann::json::parse(Nft("-j list set inet threatd " + set));
    std::vector<std::string> out;
    for (const auto& item : json["nftables"]) {
      if (!item.contains("set") || !item["set"].contains("elem")) continue;
      for (auto e : item["set"]["elem"]) {
        if (e.is_object() && e.contains("elem")) e = e["elem"]["val"];
        if (e.is_string()) out.push_back(e.get<std::string>());
        if (e.is_object() && e.contains("prefix")) {
          out.push_back(e["prefix"]["addr"].get<std::string>() + "/" + std::to_string(e["prefix"]["len"].get<int>()));
        }
      }
    }
    return out;
  }

  // Whether a TCP connect from `source` (a peer address) to fw gets through.
  // A connect that passes takes well under a millisecond; a dropped SYN is
  // never answered, so `Blocked` waits its shorter timeout (a slow machine
  // can only make it report "blocked" more often, never fail `Passes`).
  bool Passes(const std::string& source, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    const std::string dst = source.find(':') == std::string::npos ? kFw4 : kFw6;
    const uint16_t port = fw_listener_->port();
    return peer_->Run([&] { return TcpConnects(source, dst, port, timeout); });
  }
  bool Blocked(const std::string& source) { return !Passes(source, std::chrono::milliseconds(300)); }
  // Whether fw can open a connection to `destination` (a peer address).
  bool FwReaches(const std::string& destination, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    const uint16_t port = peer_listener_->port();
    return fw_->Run([&] { return TcpConnects(kFw4, destination, port, timeout); });
  }

  std::unique_ptr<VethPair> net_;
  std::unique_ptr<NsThread> fw_;
  std::unique_ptr<NsThread> peer_;
  std::unique_ptr<TcpListener> fw_listener_;
  std::unique_ptr<TcpListener> peer_listener_;
  std::unique_ptr<NftablesBackend> backend_;  // created, used and destroyed on fw_
};

TEST_F(NftablesNetnsTest, BlockDropsOnlyTheBlockedSourceAndRemoveLetsItBackIn) {
  const auto block = Decision(1, "10.99.0.2", ActionType::kBlockIp, seconds(3600));
  ApplyAll({block});
  EXPECT_TRUE(Blocked("10.99.0.2"));
  EXPECT_TRUE(Passes("10.99.0.3"));
  EXPECT_THAT(Elements("block_hosts_v4"), ElementsAre("10.99.0.2"));

  Remove({block});
  EXPECT_TRUE(Passes("10.99.0.2"));
  EXPECT_THAT(Elements("block_hosts_v4"), IsEmpty());
  // Removing again (or what was never applied) is not an error.
  Remove({block, Decision(99, "10.99.0.9")});
}

TEST_F(NftablesNetnsTest, AnElementExpiresInTheKernelOnItsOwn) {
  ApplyAll({Decision(1, "10.99.0.2", ActionType::kBlockIp, seconds(2))});
  EXPECT_TRUE(Blocked("10.99.0.2"));
  EXPECT_TRUE(Eventually([&] { return Elements("block_hosts_v4").empty(); }, seconds(10)));
  EXPECT_TRUE(Passes("10.99.0.2"));
  // The backend forgets it too: nothing is expected any more, nothing unexpected.
  EXPECT_TRUE(Measure({}).empty());
  Remove({Decision(1, "10.99.0.2")});  // the Enforcer lifting an expired decision
}

TEST_F(NftablesNetnsTest, ACidrBlockCoversEveryHostAndOverlapsStayIndependent) {
  const auto wide = Decision(1, "10.99.0.0/30", ActionType::kBlockIp, seconds(3600));
  const auto narrow = Decision(2, "10.99.0.2/31", ActionType::kBlockIp, seconds(7200));
  const auto host = Decision(3, "10.99.0.2", ActionType::kBlockIp, seconds(600));
  // Nested ranges and a host inside them in one batch: no "interval overlaps".
  ApplyAll({wide, narrow, host});
  EXPECT_TRUE(Blocked("10.99.0.2"));
  EXPECT_TRUE(Blocked("10.99.0.3"));
  EXPECT_TRUE(Measure({wide, narrow, host}).empty());

  Remove({wide});  // the /31 still holds both addresses
  EXPECT_TRUE(Blocked("10.99.0.2"));
  EXPECT_TRUE(Blocked("10.99.0.3"));
  EXPECT_THAT(Elements("block_v4"), ElementsAre("10.99.0.2/31"));

  Remove({narrow});  // the host decision still holds .2
  EXPECT_TRUE(Blocked("10.99.0.2"));
  EXPECT_TRUE(Passes("10.99.0.3"));
  EXPECT_THAT(Elements("block_v4"), IsEmpty());
  EXPECT_TRUE(Measure({host}).empty());

  Remove({host});
  EXPECT_TRUE(Passes("10.99.0.2"));
}

TEST_F(NftablesNetnsTest, Ipv6AddressesAndRangesGoToTheV6Sets) {
  const auto host = Decision(1, "fd00:99::2");
  ApplyAll({host});
  EXPECT_TRUE(Blocked("fd00:99::2"));
  EXPECT_TRUE(Passes("fd00:99::3"));
  EXPECT_TRUE(Passes("10.99.0.2"));
  EXPECT_THAT(Elements("block_hosts_v6"), ElementsAre("fd00:99::2"));

  const auto range = Decision(2, "fd00:99::2/127", ActionType::kBlockIp, seconds(3600));
  ApplyAll({range});
  EXPECT_TRUE(Blocked("fd00:99::3"));
  Remove({host, range});
  EXPECT_TRUE(Passes("fd00:99::2"));
  EXPECT_TRUE(Passes("fd00:99::3"));
}

TEST_F(NftablesNetnsTest, IsolateDropsTrafficFromAndToTheHost) {
  EXPECT_TRUE(FwReaches("10.99.0.3"));
  const auto isolate = Decision(1, "10.99.0.3", ActionType::kIsolateHost);
  ApplyAll({isolate});
  EXPECT_TRUE(Blocked("10.99.0.3"));
  EXPECT_FALSE(FwReaches("10.99.0.3", std::chrono::milliseconds(300)));
  EXPECT_TRUE(FwReaches("10.99.0.2"));
  EXPECT_TRUE(Passes("10.99.0.2"));
  Remove({isolate});
  EXPECT_TRUE(FwReaches("10.99.0.3"));
}

TEST_F(NftablesNetnsTest, RateLimitDropsWhatExceedsTheRatePerSource) {
  StartBackend({.rate_limit_per_second = 1});
  ApplyAll({Decision(1, "10.99.0.2", ActionType::kRateLimit, seconds(3600))});
  int limited_ok = 0;
  int free_ok = 0;
  for (int i = 0; i < 15; ++i) {
    limited_ok += Blocked("10.99.0.2") ? 0 : 1;
    free_ok += Passes("10.99.0.3") ? 1 : 0;
  }
  EXPECT_EQ(free_ok, 15);
  EXPECT_GE(limited_ok, 1) << "the burst passes";
  EXPECT_LT(limited_ok, 15) << "connects beyond 1/s are dropped";
}

TEST_F(NftablesNetnsTest, ReconcileReplacesTheStateExactly) {
  ApplyAll({Decision(1, "10.99.0.2"), Decision(2, "10.99.0.0/30", ActionType::kIsolateHost),
            Decision(3, "fd00:99::3", ActionType::kRateLimit)});
  const std::vector<Enforcement> active{Decision(4, "10.99.0.3", ActionType::kBlockIp, seconds(600)),
                                        Decision(5, "fd00:99::2/127", ActionType::kBlockIp),
                                        Decision(6, "10.99.0.9", ActionType::kBlockIp, seconds(-5)),  // expired
                                        Decision(7, "10.99.0.7", ActionType::kAlertAdmin)};  // not ours
  Reconcile(active);
  EXPECT_TRUE(Passes("10.99.0.2"));
  EXPECT_TRUE(Blocked("10.99.0.3"));
  EXPECT_TRUE(Blocked("fd00:99::2"));
  EXPECT_THAT(Elements("block_hosts_v4"), ElementsAre("10.99.0.3"));
  EXPECT_THAT(Elements("block_v6"), ElementsAre("fd00:99::2/127"));
  for (const char* set : {"isolate_v4", "isolate_hosts_v4", "ratelimit_hosts_v6", "block_v4"}) {
    EXPECT_THAT(Elements(set), IsEmpty()) << set;
  }
  EXPECT_TRUE(Measure(active).empty());
  // The reconciled state is the new baseline for incremental changes.
  Remove({active[0]});
  EXPECT_TRUE(Passes("10.99.0.3"));
}

TEST_F(NftablesNetnsTest, MeasureReportsChangesMadeBehindOurBack) {
  const std::vector<Enforcement> active{Decision(1, "10.99.0.2", ActionType::kBlockIp, seconds(600)),
                                        Decision(2, "10.99.0.3", ActionType::kBlockIp, seconds(600))};
  ApplyAll(active);
  EXPECT_TRUE(Measure(active).empty());
  Nft("delete element inet threatd block_hosts_v4 { 10.99.0.2 }");
  Nft("add element inet threatd block_v4 { 10.99.0.64/26 }");
  const Drift drift = Measure(active);
  EXPECT_THAT(drift.missing, ElementsAre("block_ip 10.99.0.2"));
  EXPECT_THAT(drift.unexpected, ElementsAre("block_ip 10.99.0.64/26"));
  EXPECT_TRUE(Passes("10.99.0.2"));

  Reconcile(active);
  EXPECT_TRUE(Measure(active).empty());
  EXPECT_TRUE(Blocked("10.99.0.2"));
  // A deleted table: everything is missing.
  Nft("delete table inet threatd");
  EXPECT_THAT(Measure(active).missing, UnorderedElementsAre("block_ip 10.99.0.2", "block_ip 10.99.0.3"));
}

TEST_F(NftablesNetnsTest, ApplyReportsTheFailingItemAndAppliesTheRest) {
  // An element added behind our back makes the /30 overlap in the kernel.
  Nft("add element inet threatd block_v4 { 10.99.0.0/24 }");
  const auto failed = Apply({Decision(1, "10.99.0.0/30"), Decision(2, "fd00:99::3"),
                             Decision(3, "10.99.0.2", ActionType::kAlertAdmin)});
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].first, 3);
  EXPECT_THAT(failed[0].second, HasSubstr("does not enforce alert_admin"));
  EXPECT_EQ(failed[1].first, 1);
  EXPECT_THAT(failed[1].second, HasSubstr("Error:"));
  EXPECT_TRUE(Blocked("fd00:99::3"));
  EXPECT_TRUE(Passes("fd00:99::2"));
  // The failed item was rolled back: the model still matches the kernel.
  EXPECT_THAT(Measure({Decision(2, "fd00:99::3")}).unexpected, ElementsAre("block_ip 10.99.0.0/24"));
  std::vector<std::pair<int64_t, std::string>> none_applied;
  Status st = fw_->Run([&] { return backend_->Apply({Decision(4, "10.99.0.2/31")}, &none_applied); });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(none_applied.size(), 1u);
}

TEST_F(NftablesNetnsTest, ShutdownLeavesTheTableOrDeletesItOnCleanup) {
  ApplyAll({Decision(1, "10.99.0.2", ActionType::kBlockIp, seconds(600))});
  Status st = fw_->Run([&] { return backend_->Shutdown(false); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_THAT(Nft("list tables"), HasSubstr("table inet threatd"));
  EXPECT_TRUE(Blocked("10.99.0.2")) << "bans outlive the process";

  StartBackend();  // a restart keeps the kernel's elements
  EXPECT_TRUE(Blocked("10.99.0.2"));
  st = fw_->Run([&] { return backend_->Shutdown(true); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_THAT(Nft("list tables"), Not(HasSubstr("threatd")));
  EXPECT_TRUE(Passes("10.99.0.2"));
}

TEST_F(NftablesNetnsTest, HealthReportsElementsAndLatency) {
  ApplyAll({Decision(1, "10.99.0.2"), Decision(2, "10.99.0.0/30", ActionType::kBlockIp, seconds(60))});
  const auto h = backend_->Health();  // Health is callable from any thread
  EXPECT_EQ(h["backend"], "nftables");
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["table"], "inet threatd");
  EXPECT_EQ(h["elements"]["block_hosts_v4"], 1);
  EXPECT_EQ(h["elements"]["block_v4"], 1);
  EXPECT_EQ(h["decisions"], 2);
  EXPECT_TRUE(h["last_apply_latency_ms"].is_number());
  EXPECT_TRUE(h["last_error"].is_null());
}

// Drops CAP_NET_ADMIN from the calling thread's effective set.
bool DropNetAdmin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
  return syscall(SYS_capset, &header, data) == 0;
}

TEST_F(NftablesNetnsTest, StartWithoutCapNetAdminSaysWhatToDo) {
  // A thread of its own in "fw": capabilities are per thread.
  NsThread unprivileged(net_->fw());
  ASSERT_EQ(unprivileged.error(), "");
  auto [st, health] = unprivileged.Run([] {
    EXPECT_TRUE(DropNetAdmin());
    NftablesBackend backend(NftablesOptions{.table = "threatd_noperm"});
    Status s = backend.Start();
    std::vector<std::pair<int64_t, std::string>> failed;
    EXPECT_THAT(backend.Apply({Decision(1, "10.99.0.2")}, &failed).message(), HasSubstr("not started"));
    return std::make_pair(s, backend.Health());
  });
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("permission denied"));
  EXPECT_THAT(st.message(), HasSubstr("CAP_NET_ADMIN"));
  EXPECT_THAT(st.message(), HasSubstr("log backend"));
  EXPECT_EQ(health["status"], "error");
  EXPECT_THAT(health["last_error"].get<std::string>(), HasSubstr("CAP_NET_ADMIN"));
}

TEST_F(NftablesNetnsTest, InvalidOptionsFailAtStart) {
  auto st = fw_->Run([] { return NftablesBackend(NftablesOptions{.table = "x; flush ruleset"}).Start(); });
  EXPECT_EQ(st.code(), ErrorCode::kValidation);
  EXPECT_THAT(Nft("list tables"), HasSubstr("table inet threatd"));
}

}  // namespace
}  // namespace threatd::healing
