// Predictions: {prefix}/predictions/recent|stats|timeline|top-sources|
// threats|attacks|actions|attack-distribution|action-distribution|
// {traffic_data_id} (viewer). Each request is one repository call, one SQL
// statement (stats: three in one snapshot), filters applied before
// limit/offset.
#include <fmt/format.h>

#include <chrono>

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

  router.Add(Method::kGet, base + "/timeline", [&traffic, &clock = ctx.clock](Request& req) {
    auto q = ParseTimelineQuery(req, clock.Now());
    if (!q.ok()) return Response::FromStatus(q.status());
    auto buckets = traffic.Timeline(*q);
    if (!buckets.ok()) return Response::FromStatus(buckets.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& b : *buckets)
      out.push_back({{"start", FormatIso8601(b.start)}, {"end", FormatIso8601(b.end)}, {"total", b.total},
                     {"attacks", b.attacks}});
    const double width = buckets->size() > 1
                             ? std::chrono::duration<double>((*buckets)[1].start - (*buckets)[0].start).count()
                             : std::chrono::duration<double>(q->until - q->since).count();
    return Response::Json({{"since", FormatIso8601(q->since)},
                           {"until", FormatIso8601(q->until)},
                           {"bucket_seconds", width},
                           {"buckets", std::move(out)}});
  }, Viewer("Flows and attack flows per equal time bucket (default: the last hour in 60 buckets)"));

  router.Add(Method::kGet, base + "/top-sources", [&traffic](Request& req) {
    auto q = ParseTopSourcesQuery(req);
    if (!q.ok()) return Response::FromStatus(q.status());
    auto rows = traffic.TopSources(q->range, q->limit);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *rows) {
      out.push_back({{"src_ip", r.src_ip},
                     {"attacks", r.attacks},
                     {"last_seen", FormatIso8601(r.last_seen)},
                     {"top_attack_type", r.top_attack_type ? nlohmann::json(*r.top_attack_type) : nlohmann::json()}});
    }
    return Response::Json({{"sources", std::move(out)}});
  }, Viewer("Source addresses with the most attack flows in the range (BENIGN is not an attack)"));

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
