// Query parameters of the prediction and upload-batch routes: pagination
// (limit 1..1000, default 100; offset >= 0), time range (since, until:
// ISO-8601, inclusive), the list filters and the dashboard aggregates
// (timeline buckets, top-sources limit). A bad value is a Validation
// error (422) naming the parameter and what it accepts.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "api/params.h"
#include "common/clock.h"
#include "common/status.h"
#include "http/request.h"
#include "storage/traffic_records.h"

namespace threatd::api {

// limit, offset, since, until, source, batch_id, attacks_only, attack_type,
// action_type (each optional).
Result<storage::PredictionFilter> ParsePredictionFilter(const http::Request& req);

// since, until.
Result<storage::TimeRange> ParseTimeRange(const http::Request& req);

// The timeline: since, until (default: the hour before `now`; one given
// alone sets the other an hour away) and buckets (1..500, default 60).
// Also a Validation error when the range is empty or a bucket would be
// shorter than a second (storage::CheckTimelineQuery).
Result<storage::TimelineQuery> ParseTimelineQuery(const http::Request& req, Clock::WallTime now);

// Top sources: since, until (absent: unbounded) and limit (1..100, default 10).
struct TopSourcesQuery {
  storage::TimeRange range;
  int64_t limit = 10;
};
Result<TopSourcesQuery> ParseTopSourcesQuery(const http::Request& req);

}  // namespace threatd::api
