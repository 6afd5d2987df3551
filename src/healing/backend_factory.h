// MakeBackend: the enforcement backend the configuration names
// (healing.backend: log, nftables, script, webhook), with its settings.
// InvalidArgument, saying what to set, for an unknown backend or missing
// settings (e.g. script without healing.script_path).
#pragma once

#include <memory>

#include "common/status.h"
#include "config/options.h"
#include "healing/backend.h"

namespace threatd::healing {

Result<std::unique_ptr<EnforcementBackend>> MakeBackend(const config::HealingSection& healing);

}  // namespace threatd::healing
