// `threatd serve`: run the service until SIGTERM or SIGINT.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "app/service.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/report.h"
#include "common/log.h"

namespace threatd::cli {
namespace {

int Serve(const ConfigFlags& flags) {
  // Block the stop signals in every thread (the mask is inherited by threads
  // created from here on) and wait for them synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto options = flags.Load();
  if (!options.ok()) return ReportError(options.status(), 2);
  if (Status s = log::Init(options->log_level); !s.ok()) return ReportError(s, 2);

  auto service = app::Service::Create(*options);
  if (!service.ok()) return ReportError(service.status(), 1);
  if (Status s = (*service)->Start(); !s.ok()) return ReportError(s, 1);

  const std::string url = (*service)->BaseUrl();
  if (const auto& key = (*service)->BootstrapKey()) {
    fmt::print(
        "\nCreated the first admin API key. It is shown only this once; store it now:\n\n    {}\n\n"
        "Open the console with it: {}/#api_key={}\nCreate more keys with `threatd keys create --name NAME "
        "--role viewer|operator|admin`.\n\n",
        *key, url, *key);
  }
  fmt::print("threatd listening on {}\n", url);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, shutting down gracefully", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // A second signal during shutdown stops at once.
  std::thread([stop_signals] {
    int again = 0;
    sigwait(&stop_signals, &again);
    std::fprintf(stderr, "threatd: second signal, exiting immediately\n");
    std::_Exit(130);
  }).detach();
  (*service)->Stop();
  return 0;
}

}  // namespace

void RegisterServeCommand(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("serve", "Run the threat-detection service (HTTP API, WebSocket, console)");
  auto flags = std::make_shared<ConfigFlags>();
  flags->AddTo(*cmd);
  cmd->callback([flags, &exit_code] { exit_code = Serve(*flags); });
}

}  // namespace threatd::cli
