// Configuration: {prefix}/config/whitelist (IP addresses and CIDR ranges) and
// {prefix}/config/sources (data source flags). Reads need viewer, changes
// operator; every change is audited and applied to the in-memory caches
// (WhitelistMatcher, SourceStates) before the response.
#include <fmt/format.h>


#include "api/audit.h"
#include "api/params.h"
#include "api/routes.h"
#include "common/ip_network.h"
#include "http/error_mapping.h"
#include "ingest/source_states.h"
#include "ingest/whitelist_matcher.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;
using nlohmann::json;

json OptionalJson(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

json EntryJson(const storage::WhitelistEntry& e) {
  return {{"id", e.id},
          {"ip_address", e.ip_address},
          {"description", OptionalJson(e.description)},
          {"created_at", FormatIso8601(e.created_at)},
          {"updated_at", FormatIso8601(e.updated_at)},
          {"is_active", e.is_active},
          {"created_by", OptionalJson(e.created_by)},
          {"expires_at", e.expires_at ? json(FormatIso8601(*e.expires_at)) : json(nullptr)}};
}

json SourceJson(const storage::DataSource& s) {
  json params = nullptr;
  if (s.config_json) params = json::parse(*s.config_json, nullptr, /*allow_exceptions=*/false);
  return {{"id", s.id},
          {"source_name", s.name},
          {"is_enabled", s.enabled},
          {"description", s.description},
          {"config_params", params.is_discarded() ? json(nullptr) : params},
          {"updated_at", FormatIso8601(s.updated_at)}};
}

Status TypeError(std::string_view field, std::string_view expected) {
  return Status::Validation(fmt::format("field '{}' must be {}", field, expected));
}

// "expires_at": an ISO-8601 time in the future.
Result<Clock::WallTime> ExpiryParam(const json& v, Clock::WallTime now) {
  Clock::WallTime t;
  if (!v.is_string() || !ParseIso8601(v.get<std::string>(), &t))
    return Status::Validation("field 'expires_at' must be an ISO-8601 time", "e.g. \"2026-12-31T23:59:59Z\"");
  if (t <= now) return Status::Validation("field 'expires_at' is in the past", "give a future time, or omit it");
  return t;
}

Result<storage::NewWhitelistEntry> ParseNewEntry(const json& body, Clock::WallTime now) {
  if (!body.is_object() || !body.contains("ip_address") || !body["ip_address"].is_string())
    return Status::Validation("field 'ip_address' (string) is required",
                              "send {\"ip_address\": \"192.0.2.7\", \"description\": \"monitoring\"}");
  auto net = IpNetwork::Parse(body["ip_address"].get<std::string>());
  if (!net.ok()) return net.status();
  storage::NewWhitelistEntry e;
  e.ip_address = net->ToString();
  if (auto it = body.find("description"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return TypeError("description", "a string");
    e.description = it->get<std::string>();
  }
  if (auto it = body.find("is_active"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return TypeError("is_active", "true or false");
    e.is_active = it->get<bool>();
  }
  if (auto it = body.find("expires_at"); it != body.end() && !it->is_null()) {
    auto t = ExpiryParam(*it, now);
    if (!t.ok()) return t.status();
    e.expires_at = *t;
  }
  return e;
}

// PATCH: absent or null keeps description/is_active (as the original);
// "expires_at": null removes the expiry.
Result<storage::WhitelistUpdate> ParseUpdate(const json& body, Clock::WallTime now) {
  if (!body.is_object()) return Status::Validation("the body must be a JSON object");
  storage::WhitelistUpdate u;
  if (auto it = body.find("description"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return TypeError("description", "a string");
    u.description = it->get<std::string>();
  }
  if (auto it = body.find("is_active"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return TypeError("is_active", "true or false");
    u.is_active = it->get<bool>();
  }
  if (auto it = body.find("expires_at"); it != body.end()) {
    if (it->is_null()) {
      u.clear_expires_at = true;
    } else {
      auto t = ExpiryParam(*it, now);
      if (!t.ok()) return t.status();
      u.expires_at = *t;
    }
  }
  return u;
}

// After a change: the matcher reflects it before the response. A failed
// refresh is not the caller's error (the change is stored; the background
// refresh retries), so it is only logged by the matcher.
void RefreshMatcher(ingest::WhitelistMatcher& matcher, const std::function<void()>& changed) {
  (void)matcher.Refresh();
  if (changed) changed();
}

void RegisterWhitelistRoutes(http::Router& router, ApiContext& ctx, ingest::WhitelistMatcher& matcher,
                             std::function<void()> changed) {
  const std::string base = ctx.options.api_prefix + "/config/whitelist";
  router.Add(Method::kGet, base, [&ctx](Request& req) {
    storage::WhitelistQuery q;
    if (auto v = req.Query("active_only")) {
      auto b = BoolParam("active_only", *v);
      if (!b.ok()) return Response::FromStatus(b.status());
      q.active_only = *b;
    }
    if (Status s = ParsePage(req, &q.limit, &q.offset); !s.ok()) return Response::FromStatus(s);
    auto rows = ctx.db.Whitelist().ListWhitelist(q);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    json items = json::array();
    for (const auto& e : *rows) items.push_back(EntryJson(e));
    return Response::Json(items);
  }, RouteOptions{.min_role = Role::kViewer, .summary = "List whitelisted addresses and ranges, newest first",
                  .tag = "config"});

  router.Add(Method::kPost, base, [&ctx, &matcher, changed](Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    auto entry = ParseNewEntry(*body, ctx.clock.Now());
    if (!entry.ok()) return Response::FromStatus(entry.status());
    entry->created_by = ActorOf(req);
    auto created = ctx.db.Whitelist().CreateWhitelistEntry(*entry);
    if (!created.ok()) return Response::FromStatus(created.status());
    RefreshMatcher(matcher, changed);
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "whitelist.create", "ip_whitelist", std::to_string(created->id),
          {{"ip_address", created->ip_address}, {"is_active", created->is_active}}, req.request_id);
    return Response::Json(EntryJson(*created), 201);
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Whitelist an IPv4/IPv6 address or CIDR range",
                  .tag = "config"});

  router.Add(Method::kGet, base + "/{ip_id}", [&ctx](Request& req) {
    auto id = IntParam("ip_id", req.PathParam("ip_id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto row = ctx.db.Whitelist().GetWhitelistEntry(*id);
    if (!row.ok()) return Response::FromStatus(row.status());
    if (!row->has_value())
      return Response::FromStatus(Status::NotFound(fmt::format("IP whitelist entry not found: {}", *id)));
    return Response::Json(EntryJson(**row));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "One whitelist entry", .tag = "config"});

  router.Add(Method::kPatch, base + "/{ip_id}", [&ctx, &matcher, changed](Request& req) {
    auto id = IntParam("ip_id", req.PathParam("ip_id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    auto update = ParseUpdate(*body, ctx.clock.Now());
    if (!update.ok()) return Response::FromStatus(update.status());
    auto row = ctx.db.Whitelist().UpdateWhitelistEntry(*id, *update);
    if (!row.ok()) return Response::FromStatus(row.status());
    RefreshMatcher(matcher, changed);
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "whitelist.update", "ip_whitelist", std::to_string(*id), *body,
          req.request_id);
    return Response::Json(EntryJson(*row));
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Change a whitelist entry's description, flag or expiry",
                  .tag = "config"});

  router.Add(Method::kDelete, base + "/{ip_id}", [&ctx, &matcher, changed](Request& req) {
    auto id = IntParam("ip_id", req.PathParam("ip_id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    if (Status s = ctx.db.Whitelist().DeleteWhitelistEntry(*id); !s.ok()) return Response::FromStatus(s);
    RefreshMatcher(matcher, changed);
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "whitelist.delete", "ip_whitelist", std::to_string(*id), nullptr,
          req.request_id);
    return Response::Json({{"message", fmt::format("IP whitelist entry {} deleted successfully", *id)}});
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Remove a whitelist entry", .tag = "config"});
}

Status SourceNotFound(std::string_view name) {
  return Status::NotFound(fmt::format("Data source not found: {}", name),
                          "the sources are packet_capture, external_kafka and internal_kafka");
}

void RegisterSourceRoutes(http::Router& router, ApiContext& ctx, ingest::SourceStates& sources) {
  const std::string base = ctx.options.api_prefix + "/config/sources";

  router.Add(Method::kGet, base, [&ctx](Request&) {
    auto rows = ctx.db.ListDataSources();
    if (!rows.ok()) return Response::FromStatus(rows.status());
    json items = json::array();
    for (const auto& s : *rows) items.push_back(SourceJson(s));
    return Response::Json(items);
  }, RouteOptions{.min_role = Role::kViewer, .summary = "List data sources and their flags", .tag = "config"});

  router.Add(Method::kGet, base + "/{name}", [&ctx](Request& req) {
    const std::string name(req.PathParam("name"));
    auto row = ctx.db.GetDataSource(name);
    if (!row.ok()) return Response::FromStatus(row.status());
    if (!row->has_value()) return Response::FromStatus(SourceNotFound(name));
    return Response::Json(SourceJson(**row));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "One data source", .tag = "config"});

  router.Add(Method::kPatch, base + "/{name}", [&ctx, &sources](Request& req) {
    const std::string name(req.PathParam("name"));
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    if (!body->is_object() || !body->contains("is_enabled") || !(*body)["is_enabled"].is_boolean())
      return Response::FromStatus(Status::Validation("field 'is_enabled' (true or false) is required",
                                                     "send {\"is_enabled\": false}"));
    std::optional<std::string> params;
    if (auto it = body->find("config_params"); it != body->end() && !it->is_null()) {
      if (!it->is_object()) return Response::FromStatus(TypeError("config_params", "a JSON object"));
      params = it->dump();
    }
    auto row = sources.Update(name, (*body)["is_enabled"].get<bool>(), params);
    if (!row.ok()) return Response::FromStatus(row.status());
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "source.update", "data_source", name, *body, req.request_id);
    return Response::Json(SourceJson(*row));
  }, RouteOptions{.min_role = Role::kOperator,
                  .summary = "Enable or disable a data source (takes effect within one second)", .tag = "config"});
}

}  // namespace

void RegisterConfigRoutes(http::Router& router, ApiContext& ctx, ingest::SourceStates& sources,
                          ingest::WhitelistMatcher& matcher, std::function<void()> on_whitelist_changed) {
  RegisterWhitelistRoutes(router, ctx, matcher, std::move(on_whitelist_changed));
  RegisterSourceRoutes(router, ctx, sources);
}

}  // namespace threatd::api
