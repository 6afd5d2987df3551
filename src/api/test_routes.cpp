// The test stream: POST {prefix}/test/start-stream, stop-stream, send-single
// and GET {prefix}/test/status. Changes need operator; every one is audited.
#include <fmt/format.h>

#include <cmath>

#include "api/audit.h"
#include "api/routes.h"
#include "http/error_mapping.h"
#include "ingest/test_stream.h"

namespace threatd::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteOptions;
using nlohmann::json;

Status FieldError(std::string_view field, std::string_view expected) {
  return Status::Validation(fmt::format("field '{}' must be {}", field, expected),
                            "send {\"count\": 100, \"interval\": 1.0} or {\"count\": 0, \"rate\": 500, "
                            "\"attack_mix\": 0.2}");
}

// {count=100, interval=1.0, rate?, attack_mix? (fraction or {class: weight}), model_type?}
Result<ingest::StreamRequest> ParseStreamRequest(const Request& req) {
  json body = json::object();
  if (!req.body.empty()) {
    auto parsed = http::ParseJsonBody(req);
    if (!parsed.ok()) return parsed.status();
    body = std::move(parsed).value();
  }
  if (!body.is_object()) return Status::Validation("the body must be a JSON object");
  ingest::StreamRequest r;
  if (auto it = body.find("count"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) return FieldError("count", "an integer >= 0 (0 = until stopped)");
    r.count = it->get<int64_t>();
  }
  double interval = 1.0;
  if (auto it = body.find("interval"); it != body.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0)) return FieldError("interval", "a number of seconds > 0");
    interval = it->get<double>();
  }
  r.rate = 1.0 / interval;
  if (auto it = body.find("rate"); it != body.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0)) return FieldError("rate", "a number of flows per second > 0");
    r.rate = it->get<double>();
  }
  if (auto it = body.find("model_type"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return FieldError("model_type", "'attack_classification' or 'threat_detection'");
    r.model_type = it->get<std::string>();
  }
  if (auto it = body.find("attack_mix"); it != body.end() && !it->is_null()) {
    if (it->is_number()) {
      r.attack_fraction = it->get<double>();
    } else if (it->is_object()) {
      for (const auto& [label, weight] : it->items()) {
        if (!weight.is_number()) return FieldError("attack_mix", "a fraction 0..1 or an object of class -> weight");
        r.attack_mix[label] = weight.get<double>();
      }
    } else {
      return FieldError("attack_mix", "a fraction 0..1 or an object of class -> weight");
    }
  }
  return r;
}

json OptionalTime(const std::optional<Clock::WallTime>& t) { return t ? json(FormatIso8601(*t)) : json(nullptr); }
json OptionalText(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

json StatusJson(const ingest::StreamStatus& s) {
  return {{"running", s.running},
          {"sent", s.sent},
          {"failed", s.failed},
          {"count", s.count},
          {"rate", s.rate},
          {"interval", s.rate > 0 ? json(1.0 / s.rate) : json(nullptr)},
          {"model_type", s.model_type.empty() ? json(nullptr) : json(s.model_type)},
          {"started_at", OptionalTime(s.started_at)},
          {"stop_reason", OptionalText(s.stop_reason)},
          {"last_error", OptionalText(s.last_error)}};
}

}  // namespace

void RegisterTestRoutes(http::Router& router, ApiContext& ctx, ingest::TestStream& stream) {
  const std::string base = ctx.options.api_prefix + "/test";

  router.Add(Method::kPost, base + "/start-stream", [&ctx, &stream](Request& req) {
    auto request = ParseStreamRequest(req);
    if (!request.ok()) return Response::FromStatus(request.status());
    if (Status s = stream.Start(*request); !s.ok()) return Response::FromStatus(s);
    const json out = {{"message", "Test data stream started"},
                      {"count", request->count},
                      {"interval", 1.0 / request->rate},
                      {"rate", request->rate},
                      {"model_type", request->model_type}};
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "test_stream.start", "test_stream", "", out, req.request_id);
    return Response::Json(out);
  }, RouteOptions{.min_role = Role::kOperator,
                  .summary = "Start the synthetic test stream (one at a time)", .tag = "test"});

  router.Add(Method::kPost, base + "/stop-stream", [&ctx, &stream](Request& req) {
    const bool was_running = stream.Snapshot().running;
    stream.Stop();
    const auto s = stream.Snapshot();
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "test_stream.stop", "test_stream", "",
          {{"was_running", was_running}, {"sent", s.sent}}, req.request_id);
    return Response::Json({{"message", was_running ? "Test data stream stopped" : "No test data stream was running"},
                           {"was_running", was_running},
                           {"sent", s.sent}});
  }, RouteOptions{.min_role = Role::kOperator, .summary = "Stop the test stream", .tag = "test"});

  router.Add(Method::kPost, base + "/send-single", [&ctx, &stream](Request& req) {
    const std::string model_type(req.Query("model_type").value_or("attack_classification"));
    auto one = stream.SendSingle(model_type);
    if (!one.ok()) {
      Status s = one.status();
      // An unknown model_type is a malformed request (400), as the original meant it.
      if (s.code() == ErrorCode::kValidation) s = Status::InvalidArgument(s.message(), s.hint());
      return Response::FromStatus(s);
    }
    std::string attack_type;
    for (const auto& [label, n] : one->result.by_class) {
      if (n > 0) attack_type = label;
    }
    Audit(ctx.db, ctx.clock.Now(), ActorOf(req), "test_stream.send_single", "test_stream", "",
          {{"model_type", model_type}}, req.request_id);
    return Response::Json({{"message", "Test message sent"},
                           {"model_type", model_type},
                           {"data", ingest::FlowJson(one->flow)},
                           {"result",
                            {{"stored", one->result.stored},
                             {"is_attack", one->result.attacks > 0},
                             {"attack_type", attack_type.empty() ? json(nullptr) : json(attack_type)}}}});
  }, RouteOptions{.min_role = Role::kOperator,
                  .summary = "Score and store one synthetic flow and return it", .tag = "test"});

  router.Add(Method::kGet, base + "/status", [&stream](Request&) {
    return Response::Json(StatusJson(stream.Snapshot()));
  }, RouteOptions{.min_role = Role::kViewer, .summary = "State of the test stream", .tag = "test"});
}

}  // namespace threatd::api
