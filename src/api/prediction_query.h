// Query parameters of the prediction and upload-batch routes: pagination
// (limit 1..1000, default 100; offset >= 0), time range (since, until:
// ISO-8601, inclusive) and the list filters. A bad value is a Validation
// error (422) naming the parameter and what it accepts.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "api/params.h"
#include "common/status.h"
#include "http/request.h"
#include "storage/traffic_records.h"

namespace threatd::api {

// limit, offset, since, until, source, batch_id, attacks_only, attack_type,
// action_type (each optional).
Result<storage::PredictionFilter> ParsePredictionFilter(const http::Request& req);

// since, until.
Result<storage::TimeRange> ParseTimeRange(const http::Request& req);

}  // namespace threatd::api
