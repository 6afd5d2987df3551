#include "http/request.h"

namespace threatd::http {

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (EqualsIgnoreCase(k, name)) return v;
  return {};
}

bool Request::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (EqualsIgnoreCase(k, name)) return true;
  return false;
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  if (const std::string* v = FindParam(query, name)) return std::string_view(*v);
  return std::nullopt;
}

std::string_view Request::PathParam(std::string_view name) const {
  if (const std::string* v = FindParam(path_params, name)) return *v;
  return {};
}

void Request::Clear() {
  method = Method::kGet;
  path.clear();
  target.clear();
  query.clear();
  headers.clear();
  path_params.clear();
  body.clear();
  body_reader = nullptr;
  request_id.clear();
  principal.reset();
  remote_address.clear();
}

}  // namespace threatd::http
