// Query and path parameters shared by the route groups. A bad value is a
// Validation error (422) naming the parameter and what it accepts.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "http/request.h"

namespace threatd::api {

// An integer within [lo, hi]: "'limit' must be an integer from 1 to 1000, got 'x'".
Result<int64_t> IntParam(std::string_view name, std::string_view text, int64_t lo, int64_t hi);

// "true"/"1" or "false"/"0".
Result<bool> BoolParam(std::string_view name, std::string_view text);

// Pagination: `limit` (1..1000) and `offset` (>= 0) from the query; each
// one absent leaves its output (the caller's default) unchanged.
Status ParsePage(const http::Request& req, int64_t* limit, int64_t* offset);

}  // namespace threatd::api
