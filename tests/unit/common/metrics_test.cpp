#include "common/metrics.h"

#include <gtest/gtest.h>

namespace threatd::metrics {
namespace {

TEST(Metrics, CounterSeriesAreKeyedByLabels) {
  Registry r;
  r.GetCounter("http_requests_total", "Requests", {{"route", "/health"}, {"status", "200"}}).Inc();
  r.GetCounter("http_requests_total", "Requests", {{"route", "/health"}, {"status", "200"}}).Inc(2);
  r.GetCounter("http_requests_total", "Requests", {{"route", "/"}, {"status", "404"}}).Inc();
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/health\",status=\"200\"} 3"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/\",status=\"404\"} 1"), std::string::npos);
}

TEST(Metrics, HistogramIsCumulative) {
  Registry r;
  auto& h = r.GetHistogram("lat_seconds", "Latency", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  const std::string text = r.Render();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count 3"), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(RenderLabels({{"a", "x\"y\\z"}}), "{a=\"x\\\"y\\\\z\"}");
}

TEST(Metrics, OneNameOneType) {
  Registry r;
  r.GetCounter("x", "x");
  EXPECT_THROW(r.GetGauge("x", "x"), std::logic_error);
}

}  // namespace
}  // namespace threatd::metrics
