// Request: what a route handler sees of an HTTP request.
//
// Built by the server after routing; `path_params` come from the route
// pattern ("/api/v1/models/{id}" -> {"id", "7"}), `query` is percent-decoded.
// Non-streamed routes get the whole body in `body`; stream_body routes get
// `body_reader` (and an empty `body`).
//
// Ownership: owned by the server for the duration of the handler call; the
// handler may move out of `body`. `body_reader` is owned by the server.
// Thread-safety: used by one thread at a time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ascii.h"
#include "common/principal.h"
#include "http/body_reader.h"
#include "http/method.h"
#include "http/url.h"

namespace threatd::http {

struct Request {
  Method method = Method::kGet;
  std::string path;    // decoded-segment-safe raw path, without the query
  std::string target;  // raw request target as received ("/a/b?x=1")
  Params query;        // decoded query parameters, in order
  Params headers;      // as received; use Header() for case-insensitive lookup
  Params path_params;  // from the route pattern, decoded
  std::string body;    // non-streamed routes only
  BodyReader* body_reader = nullptr;  // stream_body routes only
  std::string request_id;
  std::optional<Principal> principal;  // set when a valid API key was presented
  std::string remote_address;          // "ip:port"

  // Case-insensitive header lookup; empty view when absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // First query value for `name`, or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
  // Path parameter by name; empty view when the pattern has no such name.
  std::string_view PathParam(std::string_view name) const;

  // Resets every field, keeping allocated capacity (connections reuse one Request).
  void Clear();
};

}  // namespace threatd::http
