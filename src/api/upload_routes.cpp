// POST {prefix}/upload/csv: a streamed multipart CSV upload, scored and
// stored all-or-nothing (ingest/upload_service.h). The batch listings are
// in upload_batch_routes.cpp.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "api/audit.h"
#include "api/routes.h"
#include "common/ascii.h"
#include "flow/byte_source.h"
#include "http/multipart.h"
#include "ingest/upload_service.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;

// Positions the reader on the `file` part, skipping other fields.
Result<http::MultipartPart> FindFilePart(http::MultipartReader& reader) {
  while (true) {
    auto part = reader.NextPart();
    if (!part.ok()) return part.status();
    if (!*part)
      return Status::Validation("the upload has no 'file' field",
                                "send multipart/form-data with the CSV in a field named 'file' "
                                "(curl -F file=@flows.csv ...)");
    if ((*part)->name == "file") return **part;
  }
}

Status CheckFilename(const std::optional<std::string>& filename) {
  const std::string name = filename.value_or("");
  if (EndsWithIgnoreCase(name, ".csv") || EndsWithIgnoreCase(name, ".csv.gz")) return Status::Ok();
  if (EndsWithIgnoreCase(name, ".pkl") || EndsWithIgnoreCase(name, ".xlsx") || EndsWithIgnoreCase(name, ".json"))
    return Status::InvalidArgument(fmt::format("File must be a CSV: '{}' is not one", name),
                                   "export the flows as CSV (CICFlowMeter's output) and upload that file");
  return Status::InvalidArgument(fmt::format("File must be a CSV (.csv or .csv.gz), got '{}'", name),
                                 "rename the file if it is CSV, or export the flows as CSV");
}

std::unique_ptr<flow::ByteSource> PartSource(http::MultipartReader& reader, bool gzip) {
  auto source = flow::MakeCallbackSource([&reader](char* buf, size_t cap) { return reader.Read(buf, cap); });
  return gzip ? flow::MakeGzipSource(std::move(source)) : std::move(source);
}

// Copies the current part to `path`; memory stays bounded.
Status Spool(http::MultipartReader& reader, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Unavailable(fmt::format("cannot write the upload spool file '{}'", path));
  std::vector<char> buf(1 << 16);
  while (true) {
    auto n = reader.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.write(buf.data(), static_cast<std::streamsize>(*n));
    if (!out) return Status::Unavailable(fmt::format("writing the upload spool file '{}' failed (disk full?)", path));
  }
  out.close();
  return out ? Status::Ok() : Status::Unavailable("closing the upload spool file failed");
}

Response HandleUpload(ApiContext& ctx, ingest::UploadService& uploads, Request& req) {
  auto boundary = http::MultipartBoundary(req.Header("Content-Type"));
  if (!boundary.ok()) return Response::FromStatus(boundary.status());
  http::MultipartReader reader(*req.body_reader, *boundary);
  auto part = FindFilePart(reader);
  if (!part.ok()) return Response::FromStatus(part.status());
  if (Status s = CheckFilename(part->filename); !s.ok()) return Response::FromStatus(s);
  const std::string filename = *part->filename;
  const bool gzip = EndsWithIgnoreCase(filename, ".gz");
  const std::optional<std::string> by = req.principal ? std::optional<std::string>(req.principal->name) : std::nullopt;
  const auto async = req.Query("async");
  const bool background = async && (*async == "true" || *async == "1");

  if (background) {
    auto path = uploads.NewSpoolPath();
    if (!path.ok()) return Response::FromStatus(path.status());
    if (Status s = Spool(reader, *path); !s.ok()) {
      std::remove(path->c_str());
      return Response::FromStatus(s);
    }
    auto batch = uploads.UploadAsync(*path, filename, by);
    if (!batch.ok()) return Response::FromStatus(batch.status());
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "upload.start", "upload_batch", *batch,
          {{"filename", filename}, {"async", true}}, req.request_id);
    return Response::Json({{"batch_id", *batch},
                           {"status", "processing"},
                           {"message", "Upload accepted; progress is sent as batch_progress on /ws/realtime"},
                           {"status_url", ctx.options.api_prefix + "/upload/batch/" + *batch}},
                          202);
  }

  auto [report, status] = uploads.Upload(PartSource(reader, gzip), filename, by);
  if (!report) return Response::FromStatus(status);
  Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "upload.csv", "upload_batch", report->batch_id,
        {{"filename", filename}, {"status", report->status}, {"accepted_rows", report->accepted_rows}},
        req.request_id);
  nlohmann::json body = report->ToJson();
  body["predictions_url"] = ctx.options.api_prefix + "/upload/batch/" + report->batch_id;
  if (status.ok()) return Response::Json(body);
  return Response::FromStatus(status);
}

}  // namespace

void RegisterUploadRoutes(http::Router& router, ApiContext& ctx, ingest::UploadService& uploads) {
  router.Add(Method::kPost, ctx.options.api_prefix + "/upload/csv",
             [&ctx, &uploads](Request& req) { return HandleUpload(ctx, uploads, req); },
             RouteOptions{.min_role = Role::kOperator,
                          .body_limit = ctx.options.http.max_upload_bytes ? ctx.options.http.max_upload_bytes
                                                                          : std::numeric_limits<size_t>::max(),
                          .stream_body = true,
                          .summary = "Upload a CSV of flows: each row scored, stored all-or-nothing",
                          .tag = "upload"});
}

}  // namespace threatd::api
