// Predictions: {prefix}/predictions/recent|stats|threats|attacks|actions|
// attack-distribution|action-distribution|{traffic_data_id} (viewer). Each
// request is one repository call, one SQL statement (stats: three in one
// snapshot), filters applied before limit/offset.
#include <fmt/format.h>

#include "api/prediction_json.h"
#include "api/prediction_query.h"
#include "api/routes.h"
#include "http/error_mapping.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;

RouteOptions Viewer(std::string summary) {
  return RouteOptions{.min_role = Role::kViewer, .summary = std::move(summary), .tag = "predictions"};
}

template <typename T, typename ToJson>
Response ListResponse(const Result<std::vector<T>>& rows, ToJson to_json) {
  if (!rows.ok()) return Response::FromStatus(rows.status());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *rows) out.push_back(to_json(r));
  return Response::Json(out);
}

}  // namespace

void RegisterPredictionRoutes(http::Router& router, ApiContext& ctx) {
  const std::string base = ctx.options.api_prefix + "/predictions";
  storage::TrafficRepository& traffic = ctx.db.Traffic();

  router.Add(Method::kGet, base + "/recent", [&traffic](Request& req) {
    auto f = ParsePredictionFilter(req);
    if (!f.ok()) return Response::FromStatus(f.status());
    auto rows = traffic.ListPredictions(*f);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    return Response::Json(CompleteListJson(*rows));
  }, Viewer("Newest flows with their threat, attack and action (filters before limit)"));

  router.Add(Method::kGet, base + "/stats", [&traffic](Request& req) {
    auto range = ParseTimeRange(req);
    if (!range.ok()) return Response::FromStatus(range.status());
    auto st = traffic.Stats(*range);
    if (!st.ok()) return Response::FromStatus(st.status());
    return Response::Json({{"total_predictions", st->total_predictions},
                           {"total_attacks", st->total_attacks},
                           {"total_normal", st->total_normal},
                           {"attack_rate", st->attack_rate},
                           {"attack_type_distribution", DistributionJson(st->attack_types)},
                           {"recent_predictions", CompleteListJson(st->recent)}});
  }, Viewer("Totals, attack rate (%), attack types without BENIGN, 20 newest predictions"));

  router.Add(Method::kGet, base + "/threats", [&traffic](Request& req) {
    auto f = ParsePredictionFilter(req);
    if (!f.ok()) return Response::FromStatus(f.status());
    return ListResponse(traffic.ListThreats(*f), ThreatJson);
  }, Viewer("Threat-detector predictions, newest first"));

  router.Add(Method::kGet, base + "/attacks", [&traffic](Request& req) {
    auto f = ParsePredictionFilter(req);
    if (!f.ok()) return Response::FromStatus(f.status());
    return ListResponse(traffic.ListAttacks(*f), AttackJson);
  }, Viewer("Attack-classifier predictions, newest first"));

  router.Add(Method::kGet, base + "/actions", [&traffic](Request& req) {
    auto f = ParsePredictionFilter(req);
    if (!f.ok()) return Response::FromStatus(f.status());
    return ListResponse(traffic.ListActions(*f), ActionJson);
  }, Viewer("Self-healing actions, newest first"));

  router.Add(Method::kGet, base + "/attack-distribution", [&traffic](Request& req) {
    auto range = ParseTimeRange(req);
    if (!range.ok()) return Response::FromStatus(range.status());
    auto d = traffic.AttackDistribution(*range);
    if (!d.ok()) return Response::FromStatus(d.status());
    return Response::Json({{"distribution", DistributionJson(*d)}, {"total_attacks", d->total}});
  }, Viewer("Attack predictions by class (BENIGN excluded)"));

  router.Add(Method::kGet, base + "/action-distribution", [&traffic](Request& req) {
    auto range = ParseTimeRange(req);
    if (!range.ok()) return Response::FromStatus(range.status());
    auto d = traffic.ActionDistribution(*range);
    if (!d.ok()) return Response::FromStatus(d.status());
    return Response::Json({{"distribution", DistributionJson(*d)}, {"total_actions", d->total}});
  }, Viewer("Self-healing actions by type"));

  router.Add(Method::kGet, base + "/{traffic_data_id}", [&traffic](Request& req) {
    auto id = IntParam("traffic_data_id", req.PathParam("traffic_data_id"), 1, INT64_MAX);
    if (!id.ok()) return Response::FromStatus(id.status());
    auto p = traffic.GetPrediction(*id);
    if (!p.ok()) return Response::FromStatus(p.status());
    if (!p->has_value()) return Response::FromStatus(Status::NotFound("Traffic data not found"));
    return Response::Json(CompleteJson(**p));
  }, Viewer("One flow with its threat, attack and action"));
}

}  // namespace threatd::api
