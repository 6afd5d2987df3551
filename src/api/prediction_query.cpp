#include "api/prediction_query.h"

#include <fmt/format.h>

#include <chrono>

#include "storage/traffic_repository.h"

namespace threatd::api {
namespace {

Status ParseTime(const http::Request& req, std::string_view name, std::optional<Clock::WallTime>* out) {
  auto v = req.Query(name);
  if (!v) return Status::Ok();
  Clock::WallTime t;
  if (!ParseIso8601(*v, &t))
    return Status::Validation(fmt::format("'{}' must be an ISO-8601 time, got '{}'", name, *v),
                              "e.g. 2026-11-22T20:34:50Z");
  *out = t;
  return Status::Ok();
}

Status ParseBool(const http::Request& req, std::string_view name, bool* out) {
  auto v = req.Query(name);
  if (!v) return Status::Ok();
  if (*v == "true" || *v == "1" || *v == "True") {
    *out = true;
  } else if (*v == "false" || *v == "0" || *v == "False") {
    *out = false;
  } else {
    return Status::Validation(fmt::format("'{}' must be true or false, got '{}'", name, *v));
  }
  return Status::Ok();
}

void ParseText(const http::Request& req, std::string_view name, std::optional<std::string>* out) {
  if (auto v = req.Query(name); v && !v->empty()) *out = std::string(*v);
}

}  // namespace

Result<storage::TimeRange> ParseTimeRange(const http::Request& req) {
  storage::TimeRange r;
  THREATD_RETURN_IF_ERROR(ParseTime(req, "since", &r.since));
  THREATD_RETURN_IF_ERROR(ParseTime(req, "until", &r.until));
  if (r.since && r.until && *r.since > *r.until)
    return Status::Validation("'since' must not be later than 'until'");
  return r;
}

Result<storage::PredictionFilter> ParsePredictionFilter(const http::Request& req) {
  storage::PredictionFilter f;
  THREATD_RETURN_IF_ERROR(ParsePage(req, &f.limit, &f.offset));
  auto range = ParseTimeRange(req);
  if (!range.ok()) return range.status();
  f.since = range->since;
  f.until = range->until;
  THREATD_RETURN_IF_ERROR(ParseBool(req, "attacks_only", &f.attacks_only));
  ParseText(req, "source", &f.source);
  ParseText(req, "batch_id", &f.batch_id);
  ParseText(req, "attack_type", &f.attack_type);
  ParseText(req, "action_type", &f.action_type);
  return f;
}

Result<storage::TimelineQuery> ParseTimelineQuery(const http::Request& req, Clock::WallTime now) {
  constexpr auto kDefaultSpan = std::chrono::hours(1);
  auto range = ParseTimeRange(req);
  if (!range.ok()) return range.status();
  storage::TimelineQuery q;
  if (range->since && range->until) {
    q.since = *range->since;
    q.until = *range->until;
  } else if (range->since) {
    q.since = *range->since;
    q.until = *range->since + kDefaultSpan;
  } else {
    q.until = range->until.value_or(now);
    q.since = q.until - kDefaultSpan;
  }
  if (auto v = req.Query("buckets")) {
    auto n = IntParam("buckets", *v, 1, storage::kMaxTimelineBuckets);
    if (!n.ok()) return n.status();
    q.buckets = *n;
  }
  if (Status s = storage::CheckTimelineQuery(q); !s.ok())
    return Status::Validation(s.message(), s.hint().empty() ? "use ISO-8601 times like 2026-11-22T20:34:50Z" : s.hint());
  return q;
}

Result<TopSourcesQuery> ParseTopSourcesQuery(const http::Request& req) {
  TopSourcesQuery q;
  auto range = ParseTimeRange(req);
  if (!range.ok()) return range.status();
  q.range = *range;
  if (auto v = req.Query("limit")) {
    auto n = IntParam("limit", *v, 1, storage::kMaxTopSources);
    if (!n.ok()) return n.status();
    q.limit = *n;
  }
  return q;
}

}  // namespace threatd::api
