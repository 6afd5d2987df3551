// Subcommand groups of the `threatd` binary. Each Register* function adds its
// subcommands to the root app; a subcommand's callback stores the process
// exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace threatd::cli {

void RegisterServeCommand(CLI::App& root, int& exit_code);    // serve
void RegisterAdminCommands(CLI::App& root, int& exit_code);   // migrate, config show, keys, version
void RegisterMlCommands(CLI::App& root, int& exit_code);      // train, evaluate, predict
void RegisterSimCommands(CLI::App& root, int& exit_code);     // profile, simulate
void RegisterAgentCommand(CLI::App& root, int& exit_code);    // agent

}  // namespace threatd::cli
