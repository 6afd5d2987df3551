// JSON of a self-healing decision, as the API returns it, the WebSocket
// `action` message carries it and the script/webhook backends receive it.
// Times are ISO-8601 UTC with "Z"; time_left_seconds is computed at `now`
// for decisions in force.
#pragma once

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "storage/decision_repository.h"

namespace threatd::healing {

nlohmann::json DecisionToJson(const storage::Decision& d, Clock::WallTime now);

}  // namespace threatd::healing
