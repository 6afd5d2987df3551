// ScriptBackend against real shell scripts written into a temp directory:
// what reaches stdin and argv, exit codes, timeouts (SIGTERM, SIGKILL, no
// zombies, no surviving children), large events and floods of output.
#include "healing/script_backend.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>

#include "integration/healing/hooks_fixture.h"
#include "support/eventually.h"

namespace threatd::healing {
namespace {

using testing::Item;
using testing::ReadFile;
using testing::TempDir;
using threatd::testing::Eventually;
using Failed = std::vector<std::pair<int64_t, std::string>>;

class ScriptBackendTest : public ::testing::Test {
 protected:
  // A /bin/sh script; "$DIR" in `body` is the temp directory.
  std::string Script(const std::string& name, const std::string& body) {
    return dir_.Write(name, "#!/bin/sh\nDIR='" + dir_.path().string() + "'\n" + body, 0755);
  }

  std::unique_ptr<ScriptBackend> StartBackend(ScriptBackendOptions options) {
    auto backend = std::make_unique<ScriptBackend>(std::move(options));
    const Status s = backend->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return backend;
  }

  std::unique_ptr<ScriptBackend> StartBackend(const std::string& path) {
    ScriptBackendOptions o;
    o.path = path;
    return StartBackend(std::move(o));
  }

  nlohmann::json ReadJson(const std::string& name) { return nlohmann::json::parse(ReadFile(dir_.File(name))); }

  int ReadPid(const std::string& name) { return std::stoi(ReadFile(dir_.File(name))); }

  // Gone, or a zombie of some other parent (killed; its reaper is not us).
  static bool ProcessDead(int pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = content.rfind(')');
    return paren != std::string::npos && content.size() > paren + 2 && content[paren + 2] == 'Z';
  }

  TempDir dir_;
};

TEST_F(ScriptBackendTest, ApplySendsOneEventWithEveryDecisionOnStdin) {
  auto backend = StartBackend(Script("hook.sh", "cat > \"$DIR/stdin.json\"\necho run >> \"$DIR/runs\"\n"));
  const std::vector<Enforcement> items = {Item(7, "203.0.113.7"), Item(8, "198.51.100.0/24", ActionType::kRateLimit)};

  Failed failed;
  const Status s = backend->Apply(items, &failed);

  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(failed.empty());
  const nlohmann::json event = ReadJson("stdin.json");
  EXPECT_EQ(event["event"], "apply");
  ASSERT_EQ(event["decisions"].size(), 2u);
  EXPECT_EQ(event["decisions"][0], items[0].decision);
  EXPECT_EQ(event["decisions"][1], items[1].decision);
  EXPECT_EQ(ReadFile(dir_.File("runs")), "run\n");  // one run for the batch
  const nlohmann::json health = backend->Health();
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["runs"], 1);
  EXPECT_EQ(health["last_exit_code"], 0);
}

TEST_F(ScriptBackendTest, ArgumentsArePassedVerbatimWithoutAShell) {
  ScriptBackendOptions o;
  o.path = Script("hook.sh", "printf '%s\\n' \"$@\" > \"$DIR/args\"\n");
  o.args = {"--mode", "two words", "$(touch " + dir_.File("pwned") + ")", "*", "; rm -rf /"};
  auto backend = StartBackend(o);

  ASSERT_TRUE(backend->Apply({Item(1, "192.0.2.1")}, nullptr).ok());

  EXPECT_EQ(ReadFile(dir_.File("args")),
            "--mode\ntwo words\n$(touch " + dir_.File("pwned") + ")\n*\n; rm -rf /\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("pwned")));
}

TEST_F(ScriptBackendTest, RemoveAndReconcileSendTheirEventsAndEmptyBatchesDoNotRun) {
  auto backend = StartBackend(Script("hook.sh", "n=$(cat \"$DIR/n\" 2>/dev/null || echo 0); n=$((n+1)); "
                                                "echo $n > \"$DIR/n\"; cat > \"$DIR/event$n.json\"\n"));

  ASSERT_TRUE(backend->Apply({}, nullptr).ok());
  ASSERT_TRUE(backend->Remove({}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("n")));

  ASSERT_TRUE(backend->Remove({Item(3, "192.0.2.3")}).ok());
  ASSERT_TRUE(backend->Reconcile({}).ok());  // empty: lift everything - still runs
  ASSERT_TRUE(backend->Reconcile({Item(4, "192.0.2.4"), Item(5, "192.0.2.5")}).ok());

  EXPECT_EQ(ReadJson("event1.json")["event"], "remove");
  EXPECT_EQ(ReadJson("event1.json")["decisions"][0]["id"], 3);
  EXPECT_EQ(ReadJson("event2.json"), (nlohmann::json{{"event", "reconcile"}, {"decisions", nlohmann::json::array()}}));
  EXPECT_EQ(ReadJson("event3.json")["event"], "reconcile");
  EXPECT_EQ(ReadJson("event3.json")["decisions"].size(), 2u);
  EXPECT_EQ(backend->Health()["runs"], 3);
  EXPECT_TRUE(backend->Measure({Item(4, "192.0.2.4")})->empty());
}

TEST_F(ScriptBackendTest, NonZeroExitFailsEveryItemWithTheLastStderrLines) {
  const std::string path = Script("hook.sh",
                                  "cat > /dev/null\n"
                                  "echo 'loading rules' >&2\n"
                                  "echo 'firewall api: 401 unauthorized' >&2\n"
                                  "echo 'giving up' >&2\n"
                                  "exit 3\n");
  auto backend = StartBackend(path);

  Failed failed;
  const Status s = backend->Apply({Item(11, "203.0.113.11"), Item(12, "203.0.113.12")}, &failed);

  EXPECT_FALSE(s.ok());
  const std::string expected = "script " + path + " exited with 3: loading rules | firewall api: 401 unauthorized | giving up";
  EXPECT_EQ(s.message(), expected);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0], (std::pair<int64_t, std::string>(11, expected)));
  EXPECT_EQ(failed[1], (std::pair<int64_t, std::string>(12, expected)));
  const nlohmann::json health = backend->Health();
  EXPECT_EQ(health["status"], "error");
  EXPECT_EQ(health["failures"], 1);
  EXPECT_EQ(health["last_exit_code"], 3);
  EXPECT_EQ(health["last_error"], expected);

  // A later success clears the error.
  dir_.Write("hook.sh", "#!/bin/sh\nexit 0\n", 0755);
  ASSERT_TRUE(backend->Remove({Item(11, "203.0.113.11")}).ok());
  EXPECT_EQ(backend->Health()["status"], "ok");
  EXPECT_TRUE(backend->Health()["last_error"].is_null());
}

TEST_F(ScriptBackendTest, OnlyTheLastStderrLinesOfAFloodAreKeptAndTheScriptNeverBlocks) {
  // 2 MiB on stderr and 1 MiB on stdout: far more than a pipe holds.
  const std::string path = Script("hook.sh",
                                  "head -c 2097152 /dev/zero | tr '\\0' 'x' >&2\n"
                                  "head -c 1048576 /dev/zero | tr '\\0' 'y'\n"
                                  "echo >&2\necho 'the real reason' >&2\nexit 5\n");
  ScriptBackendOptions o;
  o.path = path;
  o.output_limit = 4096;
  auto backend = StartBackend(o);

  const Status s = backend->Apply({Item(1, "192.0.2.1")}, nullptr);

  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("script " + path + " exited with 5: ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("| the real reason"), std::string::npos) << s.message();
  EXPECT_LT(s.message().size(), 700u);
}

TEST_F(ScriptBackendTest, ALargeEventIsWrittenCompletely) {
  auto backend = StartBackend(Script("hook.sh", "wc -c > \"$DIR/bytes\"\n"));
  std::vector<Enforcement> items;
  for (int i = 0; i < 5000; ++i) items.push_back(Item(i + 1, "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)));
  const size_t expected = HookPayloadText(HookEvent::kApply, items).size();
  ASSERT_GT(expected, 512u * 1024);  // several pipe buffers

  ASSERT_TRUE(backend->Apply(items, nullptr).ok());

  EXPECT_EQ(std::stoul(ReadFile(dir_.File("bytes"))), expected);
}

TEST_F(ScriptBackendTest, AScriptThatIgnoresStdinSucceeds) {
  // It exits before reading: our write gets EPIPE (and SIGPIPE, which would
  // kill this test process if it were not blocked and consumed).
  auto backend = StartBackend(Script("hook.sh", "exit 0\n"));
  std::vector<Enforcement> items;
  for (int i = 0; i < 3000; ++i) items.push_back(Item(i + 1, "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)));

  for (int round = 0; round < 3; ++round) {
    const Status s = backend->Apply(items, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(backend->Health()["runs"], 3);
}

TEST_F(ScriptBackendTest, TimeoutKillsTheScriptAndItsChildrenAndReapsThem) {
  ScriptBackendOptions o;
  o.path = Script("hook.sh",
                  "echo $$ > \"$DIR/script.pid\"\n"
                  "sleep 30 &\n"
                  "echo $! > \"$DIR/child.pid\"\n"
                  "echo 'waiting for the firewall' >&2\n"
                  "wait\n");
  o.timeout = std::chrono::milliseconds(1000);
  auto backend = StartBackend(o);

  Failed failed;
  const auto start = std::chrono::steady_clock::now();
  const Status s = backend->Apply({Item(21, "203.0.113.21")}, &failed);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(s.code(), ErrorCode::kTimeout);
  EXPECT_EQ(s.message(), "script " + o.path + " timed out after 1000 ms and was killed (SIGTERM): waiting for the firewall");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].first, 21);
  EXPECT_LT(elapsed, std::chrono::seconds(20));  // not the 30 s of `sleep`
  // Reaped by the backend: not even a zombie is left.
  const int script_pid = ReadPid("script.pid");
  EXPECT_EQ(::kill(script_pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  // The script's child got the signal too (its process group).
  const int child_pid = ReadPid("child.pid");
  EXPECT_TRUE(Eventually([&] { return ProcessDead(child_pid); })) << "sleep " << child_pid << " survived";
  const nlohmann::json health = backend->Health();
  EXPECT_EQ(health["timeouts"], 1);
  EXPECT_TRUE(health["last_exit_code"].is_null());
}

TEST_F(ScriptBackendTest, AScriptIgnoringSigtermIsKilledAfterTheGrace) {
  ScriptBackendOptions o;
  o.path = Script("hook.sh",
                  "trap '' TERM\n"
                  "echo $$ > \"$DIR/script.pid\"\n"
                  "while true; do sleep 1; done\n");
  o.timeout = std::chrono::milliseconds(1000);
  o.kill_grace = std::chrono::milliseconds(200);
  auto backend = StartBackend(o);

  const Status s = backend->Apply({Item(22, "203.0.113.22")}, nullptr);

  EXPECT_EQ(s.code(), ErrorCode::kTimeout);
  EXPECT_NE(s.message().find("timed out after 1000 ms and was killed (SIGTERM, then SIGKILL)"), std::string::npos)
      << s.message();
  const int script_pid = ReadPid("script.pid");
  EXPECT_EQ(::kill(script_pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(ScriptBackendTest, AScriptKilledByASignalSaysWhich) {
  const std::string path = Script("hook.sh", "kill -KILL $$\n");
  auto backend = StartBackend(path);

  const Status s = backend->Apply({Item(1, "192.0.2.1")}, nullptr);

  EXPECT_EQ(s.message(), "script " + path + " was killed by signal 9 (Killed): (nothing on stderr)");
}

TEST_F(ScriptBackendTest, StartSaysWhatIsWrongWithThePath) {
  auto start = [](const std::string& path) {
    ScriptBackendOptions o;
    o.path = path;
    return ScriptBackend(o).Start();
  };
  const std::string not_executable = dir_.Write("plain.sh", "#!/bin/sh\nexit 0\n", 0644);

  EXPECT_NE(start("").message().find("no script configured"), std::string::npos);
  EXPECT_NE(start("hooks/block.sh").message().find("is not an absolute path"), std::string::npos);
  const Status missing = start(dir_.File("missing.sh"));
  EXPECT_NE(missing.message().find(dir_.File("missing.sh") + " cannot be used: No such file or directory"),
            std::string::npos)
      << missing.ToString();
  EXPECT_NE(start(dir_.path().string()).message().find("is not a regular file"), std::string::npos);
  const Status s = start(not_executable);
  EXPECT_NE(s.message().find("is not executable"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.hint().rfind("chmod +x " + not_executable, 0), 0u) << s.hint();
}

TEST_F(ScriptBackendTest, SupportsTheConfiguredActions) {
  ScriptBackendOptions defaults;
  defaults.path = "/bin/true";
  ScriptBackend all(defaults);
  for (ActionType a : AllActionTypes()) EXPECT_TRUE(all.Supports(a)) << ToString(a);

  ScriptBackendOptions o = defaults;
  o.actions = {ActionType::kBlockIp, ActionType::kIsolateHost};
  ScriptBackend some(o);
  EXPECT_TRUE(some.Supports(ActionType::kBlockIp));
  EXPECT_TRUE(some.Supports(ActionType::kIsolateHost));
  EXPECT_FALSE(some.Supports(ActionType::kRateLimit));
  EXPECT_FALSE(some.Supports(ActionType::kLogOnly));
}

TEST_F(ScriptBackendTest, ShutdownWithCleanupRemovesWhatTheScriptAccepted) {
  auto backend = StartBackend(Script("hook.sh", "cat > \"$DIR/last.json\"\n"));
  ASSERT_TRUE(backend->Reconcile({Item(1, "192.0.2.1")}).ok());
  ASSERT_TRUE(backend->Apply({Item(2, "192.0.2.2"), Item(3, "192.0.2.3")}, nullptr).ok());
  ASSERT_TRUE(backend->Remove({Item(2, "192.0.2.2")}).ok());
  std::filesystem::remove(dir_.File("last.json"));

  ASSERT_TRUE(backend->Shutdown(false).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("last.json")));

  ASSERT_TRUE(backend->Shutdown(true).ok());
  const nlohmann::json event = ReadJson("last.json");
  EXPECT_EQ(event["event"], "remove");
  ASSERT_EQ(event["decisions"].size(), 2u);
  EXPECT_EQ(event["decisions"][0]["id"], 1);
  EXPECT_EQ(event["decisions"][1]["id"], 3);
}

}  // namespace
}  // namespace threatd::healing
