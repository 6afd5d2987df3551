// Error mapping: THE one translation from ErrorCode to an HTTP response.
//
// Body shape (every error response of the API):
//   {"detail": "<message>",
//    "error": {"code": "not_found", "message": "...", "hint": "...", "retryable": true}}
// `detail` keeps the Python proof-of-concept clients working; `hint` and
// `retryable` appear only when set. Retryable codes (429, 503, 504) also get
// a Retry-After header; 401 gets WWW-Authenticate: Bearer.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/request.h"
#include "http/response.h"

namespace threatd::http {

// 400, 422, 401, 403, 404, 405, 409, 413, 415, 429, 503, 504, 500 (kOk -> 200).
int HttpStatusFor(ErrorCode code);
// Seconds for Retry-After on retryable codes, 0 otherwise.
int RetryAfterSeconds(ErrorCode code);

nlohmann::json ErrorBody(const Status& status);
// JSON error response with the headers above. Precondition: !status.ok().
Response ErrorResponse(const Status& status);

// Parses the request body as JSON. 415 when a Content-Type other than JSON is
// declared, 400 for an empty body or a syntax error (with the byte position).
Result<nlohmann::json> ParseJsonBody(const Request& request);

}  // namespace threatd::http
