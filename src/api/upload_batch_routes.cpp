// Upload batches: GET {prefix}/upload/batches and
// GET {prefix}/upload/batch/{batch_id} (viewer). The POST {prefix}/upload/csv
// route lives with the upload pipeline (the lead's upload_routes.cpp).
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

Result<std::pair<int64_t, int64_t>> Page(const Request& req) {
  int64_t limit = 100, offset = 0;
  THREATD_RETURN_IF_ERROR(ParsePage(req, &limit, &offset));
  return std::pair(limit, offset);
}

}  // namespace

void RegisterUploadBatchRoutes(http::Router& router, ApiContext& ctx) {
  const std::string base = ctx.options.api_prefix + "/upload";
  storage::TrafficRepository& traffic = ctx.db.Traffic();

  router.Add(Method::kGet, base + "/batches", [&traffic](Request& req) {
    auto page = Page(req);
    if (!page.ok()) return Response::FromStatus(page.status());
    auto rows = traffic.ListUploadBatches(page->first, page->second);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& b : *rows) items.push_back(UploadBatchJson(b));
    return Response::Json({{"batches", items}, {"limit", page->first}, {"offset", page->second}});
  }, RouteOptions{.min_role = Role::kViewer, .summary = "Upload batches, newest first", .tag = "upload"});

  router.Add(Method::kGet, base + "/batch/{batch_id}", [&traffic](Request& req) {
    auto page = Page(req);
    if (!page.ok()) return Response::FromStatus(page.status());
    const std::string id(req.PathParam("batch_id"));
    auto batch = traffic.GetUploadBatch(id);
    if (!batch.ok()) return Response::FromStatus(batch.status());
    if (!batch->has_value()) return Response::FromStatus(Status::NotFound("Batch not found"));
    storage::PredictionFilter f;
    f.batch_id = id;
    f.limit = page->first;
    f.offset = page->second;
    f.oldest_first = true;  // file order
    auto rows = traffic.ListPredictions(f);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    nlohmann::json j = UploadBatchJson(**batch);
    j["predictions"] = CompleteListJson(*rows);
    j["limit"] = f.limit;
    j["offset"] = f.offset;
    return Response::Json(j);
  }, RouteOptions{.min_role = Role::kViewer, .summary = "One upload batch: status, counts, summary, predictions",
                  .tag = "upload"});
}

}  // namespace threatd::api
