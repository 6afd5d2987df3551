// Self-healing: {prefix}/actions (decisions: list, in force, one with its
// history, manual block/alert, revoke), {prefix}/policy and
// {prefix}/healing/mode. Reads need viewer, changes operator; every change
// is audited. The original's /predictions/actions keeps working alongside.
#include <fmt/format.h>

#include "api/audit.h"
#include "api/params.h"
#include "api/prediction_query.h"
#include "api/routes.h"
#include "healing/decision_json.h"
#include "healing/healer.h"
#include "http/error_mapping.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;
using nlohmann::json;

json DecisionList(const std::vector<storage::Decision>& rows, Clock::WallTime now) {
  json items = json::array();
  for (const auto& d : rows) items.push_back(healing::DecisionToJson(d, now));
  return items;
}

Result<storage::DecisionQuery> ParseDecisionQuery(const Request& req) {
  storage::DecisionQuery q;
  THREATD_RETURN_IF_ERROR(ParsePage(req, &q.limit, &q.offset));
  auto range = ParseTimeRange(req);
  if (!range.ok()) return range.status();
  q.since = range->since;
  q.until = range->until;
  if (auto v = req.Query("status")) q.status = std::string(*v);
  if (auto v = req.Query("action_type")) q.action_type = std::string(*v);
  if (auto v = req.Query("origin")) q.origin = std::string(*v);
  if (auto v = req.Query("mode")) q.mode = std::string(*v);
  if (auto v = req.Query("target")) {
    auto n = IpNetwork::Parse(*v);
    if (!n.ok()) return Status::Validation("'target': " + n.status().message());
    q.target = n->ToString();
  }
  return q;
}

Result<healing::ManualDecision> ParseManual(const json& body, std::string actor) {
  if (!body.is_object() || !body.contains("target") || !body["target"].is_string())
    return Status::Validation("field 'target' (string) is required",
                              "send {\"target\": \"203.0.113.7\", \"action_type\": \"block_ip\", "
                              "\"duration_seconds\": 3600, \"reason\": \"...\"}");
  healing::ManualDecision m;
  m.target = body["target"].get<std::string>();
  m.actor = std::move(actor);
  if (auto it = body.find("action_type"); it != body.end() && !it->is_null()) {
    auto a = it->is_string() ? healing::ParseActionType(it->get<std::string>()) : std::nullopt;
    if (!a)
      return Status::Validation("field 'action_type' must be one of block_ip, rate_limit, isolate_host, "
                                "alert_admin, restart_service, log_only");
    m.action = *a;
  }
  if (auto it = body.find("duration_seconds"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > int64_t{3650} * 86400)
      return Status::Validation("field 'duration_seconds' must be an integer from 1 to 315360000");
    m.duration = std::chrono::seconds(it->get<int64_t>());
  }
  if (auto it = body.find("reason"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().size() > 1000)
      return Status::Validation("field 'reason' must be a string of at most 1000 characters");
    m.reason = it->get<std::string>();
  }
  if (auto it = body.find("origin"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return Status::Validation("field 'origin' must be \"manual\" or \"api\"");
    m.origin = it->get<std::string>();
  }
  if (auto it = body.find("rate_per_second"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1)
      return Status::Validation("field 'rate_per_second' must be a positive integer");
    m.rate_per_second = it->get<int64_t>();
  }
  return m;
}

json ModeJson(healing::Healer& healer) {
  json health = healer.HealthCheck();
  return {{"mode", healing::ToString(healer.mode())},
          {"backend", health["backend"].value("backend", "")},
          {"circuit_breaker", healer.CircuitBreakerState()}};
}

}  // namespace

void RegisterHealingRoutes(http::Router& router, ApiContext& ctx, healing::Healer& healer) {
  const std::string base = ctx.options.api_prefix;

  router.Add(Method::kGet, base + "/actions", [&ctx](Request& req) {
    auto q = ParseDecisionQuery(req);
    if (!q.ok()) return Response::FromStatus(q.status());
    auto rows = ctx.db.Decisions().ListDecisions(*q);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    return Response::Json(DecisionList(*rows, ctx.clock.Now()));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "Self-healing decisions, newest first", .tag = "healing"});

  router.Add(Method::kGet, base + "/actions/active", [&ctx](Request&) {
    auto rows = ctx.db.Decisions().ListActiveDecisions(ctx.clock.Now());
    if (!rows.ok()) return Response::FromStatus(rows.status());
    return Response::Json(DecisionList(*rows, ctx.clock.Now()));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "Decisions in force, with time left", .tag = "healing"});

  router.Add(Method::kGet, base + "/actions/{action_id}", [&ctx](Request& req) {
    auto id = IntParam("action_id", req.PathParam("action_id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto row = ctx.db.Decisions().GetDecision(*id);
    if (!row.ok()) return Response::FromStatus(row.status());
    if (!*row) return Response::FromStatus(Status::NotFound(fmt::format("self-healing action not found: {}", *id)));
    return Response::Json(healing::DecisionToJson(**row, ctx.clock.Now()));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "One decision with its history (why, when, by whom)",
                  .tag = "healing"});

  router.Add(Method::kPost, base + "/actions", [&ctx, &healer](Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    auto m = ParseManual(*body, ActorOf(req));
    if (!m.ok()) return Response::FromStatus(m.status());
    auto d = healer.Create(*m);
    if (!d.ok()) return Response::FromStatus(d.status());
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "action.create", "self_healing_actions", std::to_string(d->id),
          *body, req.request_id);
    return Response::Json(healing::DecisionToJson(*d, ctx.clock.Now()), 201);
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Block, rate-limit, isolate or alert by hand",
                  .tag = "healing"});

  router.Add(Method::kDelete, base + "/actions/{action_id}", [&ctx, &healer](Request& req) {
    auto id = IntParam("action_id", req.PathParam("action_id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    std::string reason;
    if (auto v = req.Query("reason")) reason = std::string(*v);
    auto d = healer.Revoke(*id, ActorOf(req), reason);
    if (!d.ok()) return Response::FromStatus(d.status());
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "action.revoke", "self_healing_actions", std::to_string(*id),
          {{"reason", reason}}, req.request_id);
    return Response::Json(healing::DecisionToJson(*d, ctx.clock.Now()));
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Revoke a decision early (lifts the block)",
                  .tag = "healing"});

  router.Add(Method::kGet, base + "/policy", [&healer](Request&) {
    return Response::Json(healing::PolicyToJson(healer.policy()));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "The self-healing policy", .tag = "healing"});

  router.Add(Method::kPut, base + "/policy", [&ctx, &healer](Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    auto policy = healing::ParsePolicy(*body);
    if (!policy.ok()) return Response::FromStatus(policy.status());
    if (Status s = healer.SetPolicy(*policy, ActorOf(req)); !s.ok()) return Response::FromStatus(s);
    const json saved = healing::PolicyToJson(healer.policy());
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "policy.update", "healing_settings", "1", saved, req.request_id);
    return Response::Json(saved);
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Replace the self-healing policy", .tag = "healing"});

  router.Add(Method::kGet, base + "/healing/mode", [&healer](Request&) {
    return Response::Json(ModeJson(healer));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "Enforcement mode and circuit breaker", .tag = "healing"});

  router.Add(Method::kPut, base + "/healing/mode", [&ctx, &healer](Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Response::FromStatus(body.status());
    std::optional<healing::Mode> mode;
    if (body->is_object() && body->contains("mode") && (*body)["mode"].is_string())
      mode = healing::ParseMode((*body)["mode"].get<std::string>());
    if (!mode)
      return Response::FromStatus(Status::Validation("field 'mode' must be \"enforce\" or \"dry_run\"",
                                                     "send {\"mode\": \"dry_run\"} to simulate everything"));
    if (Status s = healer.SetMode(*mode, ActorOf(req)); !s.ok()) return Response::FromStatus(s);
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "healing.mode", "healing_settings", "1",
          {{"mode", healing::ToString(*mode)}}, req.request_id);
    return Response::Json(ModeJson(healer));
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Switch between enforce and dry_run", .tag = "healing"});
}

}  // namespace threatd::api
