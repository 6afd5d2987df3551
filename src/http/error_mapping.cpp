#include "http/error_mapping.h"

#include <string>

namespace threatd::http {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kValidation: return 422;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kTooManyRequests: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kTimeout: return 504;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

int RetryAfterSeconds(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTooManyRequests: return 1;
    case ErrorCode::kUnavailable: return 5;
    case ErrorCode::kTimeout: return 1;
    default: return 0;
  }
}

nlohmann::json ErrorBody(const Status& status) {
  nlohmann::json error = {{"code", std::string(ErrorCodeName(status.code()))}, {"message", status.message()}};
  if (!status.hint().empty()) error["hint"] = status.hint();
  if (status.retryable()) error["retryable"] = true;
  return {{"detail", status.message()}, {"error", std::move(error)}};
}

Response ErrorResponse(const Status& status) {
  Response r = Response::Json(ErrorBody(status), HttpStatusFor(status.code()));
  if (status.code() == ErrorCode::kUnauthenticated) r.WithHeader("WWW-Authenticate", "Bearer");
  if (const int s = RetryAfterSeconds(status.code()); s > 0) r.WithHeader("Retry-After", std::to_string(s));
  return r;
}

Result<nlohmann::json> ParseJsonBody(const Request& request) {
  const std::string_view type = request.Header("Content-Type");
  if (!type.empty()) {
    const std::string_view media = type.substr(0, type.find(';'));
    const bool json = media.find("json") != std::string_view::npos;
    if (!json) {
      return Status(ErrorCode::kUnsupportedMediaType,
                    "request body has Content-Type '" + std::string(media) + "', expected application/json",
                    "send the body as JSON with 'Content-Type: application/json'");
    }
  }
  if (request.body.empty()) {
    return Status::InvalidArgument("request body is empty, expected a JSON document",
                                   "send a JSON object with 'Content-Type: application/json'");
  }
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument("request body is not valid JSON (at byte " + std::to_string(e.byte) +
                                       "): " + e.what(),
                                   "check the JSON syntax near that position");
  }
}

}  // namespace threatd::http
