// threatd: network threat detection and self-healing. Wiring only: every
// subcommand lives in src/cli, every component in its own library.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App root{"threatd — network threat detection and self-healing"};
  root.require_subcommand(1);
  root.set_version_flag("--version", std::string("threatd (see `threatd version`)"));
  int exit_code = 0;
  threatd::cli::RegisterServeCommand(root, exit_code);
  threatd::cli::RegisterAdminCommands(root, exit_code);
  threatd::cli::RegisterMlCommands(root, exit_code);
  threatd::cli::RegisterSimCommands(root, exit_code);
  threatd::cli::RegisterAgentCommand(root, exit_code);
  CLI11_PARSE(root, argc, argv);
  return exit_code;
}
