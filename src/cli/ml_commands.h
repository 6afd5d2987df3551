// `threatd train | evaluate | predict`: the ml component on the command line.
//
//   train    --data FILE... --task binary|multiclass [--label-column Label]
//            [--exclude-columns C...] [--features all|common|original42]
//            [--validation time|random] [--seed N] [--max-rounds N] --out BUNDLE
//            writes BUNDLE (gzip when it ends in .gz) and its model card as
//            Markdown next to it (<stem>.md)
//   evaluate --model M --data FILE [--label-column Label] [--json]
//   predict  --model M --data FILE [--out CSV]
//
// Exit codes: 0 ok, 1 runtime failure (bad data, bad model), 2 usage.
// Blocks on file I/O and training; run from the main thread.
#pragma once

#include <CLI/CLI.hpp>

namespace threatd::cli {

void RegisterMlCommands(CLI::App& root, int& exit_code);

}  // namespace threatd::cli
