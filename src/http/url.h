// URL helpers: percent-decoding, query-string parsing and target splitting.
//
// Used by the router (path segments) and the server (query parameters).
// Thread-safety: pure functions. Nothing here allocates unless it must
// (a segment without '%' is not copied by callers that check first).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace threatd::http {

using Params = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes (and '+' as space when `plus_as_space`, for query
// strings). Returns false on a truncated or non-hex escape.
bool PercentDecode(std::string_view in, bool plus_as_space, std::string* out);

// "a=1&b=x%20y&flag" -> {{"a","1"},{"b","x y"},{"flag",""}}; order kept,
// repeated keys kept. InvalidArgument naming the bad parameter otherwise.
Result<Params> ParseQuery(std::string_view query);

// Splits a request target "/p/a?x=1" into path "/p/a" and query "x=1".
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// First value of `name` in `params`, or nullptr.
const std::string* FindParam(const Params& params, std::string_view name);

}  // namespace threatd::http
