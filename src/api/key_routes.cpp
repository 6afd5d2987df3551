// API keys and the audit log: {prefix}/auth/me, {prefix}/keys, {prefix}/audit.
#include <fmt/format.h>


#include "api/audit.h"
#include "api/params.h"
#include "api/routes.h"
#include "http/error_mapping.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;

std::optional<std::string> OptionalTime(const std::optional<Clock::WallTime>& t) {
  return t ? std::optional<std::string>(FormatIso8601(*t)) : std::nullopt;
}

nlohmann::json KeyJson(const storage::ApiKeyRecord& k) {
  nlohmann::json j = {{"id", k.id},
                      {"name", k.name},
                      {"prefix", k.prefix},
                      {"role", RoleName(k.role)},
                      {"created_at", FormatIso8601(k.created_at)},
                      {"active", k.active()}};
  j["created_by"] = k.created_by ? nlohmann::json(*k.created_by) : nlohmann::json(nullptr);
  auto last = OptionalTime(k.last_used_at);
  j["last_used_at"] = last ? nlohmann::json(*last) : nlohmann::json(nullptr);
  auto revoked = OptionalTime(k.revoked_at);
  j["revoked_at"] = revoked ? nlohmann::json(*revoked) : nlohmann::json(nullptr);
  return j;
}

}  // namespace

void RegisterKeyRoutes(http::Router& router, ApiContext& ctx) {
  const std::string prefix = ctx.options.api_prefix;

  router.Add(Method::kGet, prefix + "/auth/me", [](Request& req) {
    return Response::Json({{"name", req.principal->name},
                           {"role", RoleName(req.principal->role)},
                           {"key_id", req.principal->key_id}});
  }, RouteOptions{.min_role = Role::kViewer, .summary = "The caller's API key and role", .tag = "auth"});

  router.Add(Method::kGet, prefix + "/keys", [&ctx](Request&) {
    auto keys = ctx.keys.List();
    if (!keys.ok()) return Response::FromStatus(keys.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& k : *keys) items.push_back(KeyJson(k));
    return Response::Json({{"keys", items}, {"total_count", items.size()}});
  }, RouteOptions{.min_role = Role::kAdmin, .summary = "List API keys (never their secrets)", .tag = "auth"});

  router.Add(Method::kPost, prefix + "/keys", [&ctx](Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    if (!body->is_object() || !body->contains("name") || !(*body)["name"].is_string())
      return Response::FromStatus(Status::Validation("field 'name' (string) is required",
                                                     "send {\"name\": \"dashboard\", \"role\": \"viewer\"}"));
    const std::string role_name = body->value("role", "viewer");
    auto role = ParseRole(role_name);
    if (!role)
      return Response::FromStatus(
          Status::Validation(fmt::format("unknown role '{}'", role_name), "use one of viewer, operator, admin"));
    auto created = ctx.keys.Create((*body)["name"].get<std::string>(), *role, ActorOf(req));
    if (!created.ok()) return Response::FromStatus(created.status());
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "api_key.create", "api_key", std::to_string(created->record.id),
          {{"name", created->record.name}, {"role", role_name}}, req.request_id);
    nlohmann::json j = KeyJson(created->record);
    j["key"] = created->plaintext;  // shown once
    return Response::Json(j, 201);
  }, RouteOptions{.min_role = Role::kAdmin, .summary = "Create an API key (the key is returned once)",
                  .tag = "auth"});

  router.Add(Method::kDelete, prefix + "/keys/{id}", [&ctx](Request& req) {
    auto id = IntParam("id", req.PathParam("id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    if (Status s = ctx.keys.Revoke(*id); !s.ok()) return Response::FromStatus(s);
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "api_key.revoke", "api_key", std::to_string(*id), nullptr,
          req.request_id);
    return Response::Json({{"message", fmt::format("API key {} revoked", *id)}});
  }, RouteOptions{.min_role = Role::kAdmin, .summary = "Revoke an API key", .tag = "auth"});

  router.Add(Method::kGet, prefix + "/audit", [&ctx](Request& req) {
    storage::AuditQuery q;
    if (Status s = ParsePage(req, &q.limit, &q.offset); !s.ok()) return Response::FromStatus(s);
    auto entries = ctx.db.ListAudit(q);
    if (!entries.ok()) return Response::FromStatus(entries.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& e : *entries) {
      nlohmann::json details = nullptr;
      if (e.details_json) details = nlohmann::json::parse(*e.details_json, nullptr, false);
      items.push_back({{"id", e.id},
                       {"created_at", FormatIso8601(e.created_at)},
                       {"actor", e.actor},
                       {"action", e.action},
                       {"target_type", e.target_type},
                       {"target_id", e.target_id},
                       {"details", details},
                       {"request_id", e.request_id}});
    }
    return Response::Json({{"entries", items}, {"limit", q.limit}, {"offset", q.offset}});
  }, RouteOptions{.min_role = Role::kAdmin, .summary = "Audit log, newest first", .tag = "auth"});
}

}  // namespace threatd::api
