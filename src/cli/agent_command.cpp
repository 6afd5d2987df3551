// `threatd agent`: enforce the self-healing decisions published to Kafka
// (kafka.topic_actions) on this host until SIGTERM or SIGINT
// (src/kafka/agent.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/report.h"
#include "common/log.h"
#include "common/metrics.h"
#include "healing/backend_factory.h"
#include "kafka/agent.h"

namespace threatd::cli {
namespace {

struct AgentFlags {
  ConfigFlags config;
  std::string backend = "nftables";
  std::string group_id;
  bool cleanup = false;
};

int RunAgent(const AgentFlags& flags) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto options = flags.config.Load();
  if (!options.ok()) return ReportError(options.status(), 2);
  if (Status s = log::Init(options->log_level); !s.ok()) return ReportError(s, 2);
  if (options->kafka.bootstrap_servers.empty())
    return ReportError(Status::InvalidArgument("the agent needs Kafka: kafka.bootstrap_servers is not set",
                                               "set KAFKA_BOOTSTRAP_SERVERS (or --set kafka.bootstrap_servers=host:9092)"),
                       2);
  config::HealingSection healing = options->healing;
  healing.backend = flags.backend;
  healing.cleanup_on_shutdown = flags.cleanup || healing.cleanup_on_shutdown;
  auto backend = healing::MakeBackend(healing);
  if (!backend.ok()) return ReportError(backend.status(), 2);

  kafka::AgentOptions ao;
  ao.cluster = kafka::InternalCluster(options->kafka);
  ao.topic = options->kafka.topic_actions;
  ao.group_id = !flags.group_id.empty() ? flags.group_id : options->kafka.agent_group_id;
  metrics::Registry registry;
  kafka::Agent agent(std::move(ao), std::move(backend).value(), Clock::System(), registry);
  if (Status s = agent.Start(); !s.ok()) return ReportError(s.WithContext("threatd agent could not start"), 1);
  fmt::print("threatd agent following '{}' on {} as group '{}' with the {} backend\n", options->kafka.topic_actions,
             options->kafka.bootstrap_servers, agent.group_id(), flags.backend);
  std::fflush(stdout);

  // Wait for a stop signal, checking twice a second whether the agent died.
  const timespec slice{0, 500'000'000};
  while (true) {
    const int sig = sigtimedwait(&stop_signals, nullptr, &slice);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("agent: received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (auto fatal = agent.Fatal()) {
      agent.Stop(healing.cleanup_on_shutdown);
      return ReportError(*fatal, 1);
    }
  }
  agent.Stop(healing.cleanup_on_shutdown);
  return 0;
}

}  // namespace

void RegisterAgentCommand(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand(
      "agent", "Enforce the self-healing decisions published to Kafka (kafka.topic_actions) on this host");
  auto flags = std::make_shared<AgentFlags>();
  flags->config.AddTo(*cmd);
  cmd->add_option("--backend", flags->backend, "Enforcement backend: nftables (default), log (dry run), script, webhook")
      ->check(CLI::IsMember({"nftables", "log", "script", "webhook"}));
  cmd->add_option("--group-id", flags->group_id,
                  "Consumer group (default kafka.agent_group_id, else threatd-agent-<hostname>); unique per agent");
  cmd->add_flag("--cleanup", flags->cleanup, "Remove the enforced state when the agent stops");
  cmd->callback([flags, &exit_code] { exit_code = RunAgent(*flags); });
}

}  // namespace threatd::cli
