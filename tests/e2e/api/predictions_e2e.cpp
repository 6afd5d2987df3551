// CSV upload, upload batches and every /predictions route, with filters that
// must apply before LIMIT and statistics that do not count BENIGN as an attack;
// the dashboard aggregates (timeline, top sources) agree with the flows listed.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "api_groups.h"

namespace threatd::testing {
namespace {

using json = nlohmann::json;

int64_t Total(const json& stats) { return stats.value("total_predictions", int64_t{-1}); }

// Sums of a timeline's buckets: {total, attacks}.
std::pair<int64_t, int64_t> TimelineSums(const json& timeline) {
  std::pair<int64_t, int64_t> sums{0, 0};
  for (const auto& b : timeline["buckets"]) {
    sums.first += b["total"].get<int64_t>();
    sums.second += b["attacks"].get<int64_t>();
  }
  return sums;
}

// An attack flow as the dashboard counts it: flagged, and not classified BENIGN.
bool IsAttackFlow(const json& row) {
  if (!row["threat_prediction"]["is_attack"].get<bool>()) return false;
  return !row["attack_prediction"].is_object() || row["attack_prediction"]["attack_type_name"] != "BENIGN";
}

}  // namespace

void ExercisePredictions(ApiSession& s) {
  const std::string p = "/api/v1/predictions";
  auto before = s.Get(p + "/stats");
  ASSERT_EQ(before.status, 200) << before.body;
  const std::string all_time = "since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z";
  auto timeline_before = s.Get(p + "/timeline?buckets=7&" + all_time);
  ASSERT_EQ(timeline_before.status, 200) << timeline_before.body;

  const std::string csv = s.SimulateCsv(300, "BENIGN=0.4,DDoS=0.3,Portscan=0.3", 11);
  s.ExpectRoles("POST", "/api/v1/upload/csv", As::kOperator, "");
  auto up = s.UploadCsv("flows.csv", csv);
  ASSERT_EQ(up.status, 200) << up.body;
  const json result = up.json();
  EXPECT_EQ(result["total_rows"], 300);
  EXPECT_EQ(result["accepted_rows"], 300);
  const std::string batch = result["batch_id"];
  const int64_t attacks = result["attacks"];
  EXPECT_GT(attacks, 100);
  EXPECT_LT(attacks, 300);

  // Everything of this batch, in one page.
  auto all = s.Get(p + "/recent?limit=1000&batch_id=" + batch);
  ASSERT_EQ(all.status, 200) << all.body.substr(0, 300);
  const json rows = all.json();
  ASSERT_EQ(rows.size(), 300u);
  std::map<std::string, int> by_type;
  int attack_rows = 0;
  for (const auto& r : rows) {
    EXPECT_EQ(r["traffic_data"]["batch_id"], batch);
    if (r["threat_prediction"]["is_attack"].get<bool>()) ++attack_rows;
    if (r["attack_prediction"].is_object()) ++by_type[r["attack_prediction"]["attack_type_name"].get<std::string>()];
  }
  EXPECT_EQ(attack_rows, attacks);
  ASSERT_GE(by_type["DDoS"], 5) << "the generated DDoS flows should be classified as DDoS";

  // Filters apply before the limit: 5 rows of the type asked for, not "5 rows, then filtered".
  auto ddos = s.Get(p + "/recent?limit=5&attack_type=DDoS&batch_id=" + batch);
  ASSERT_EQ(ddos.status, 200);
  ASSERT_EQ(ddos.json().size(), 5u) << ddos.body.substr(0, 300);
  for (const auto& r : ddos.json()) EXPECT_EQ(r["attack_prediction"]["attack_type_name"], "DDoS");
  auto only = s.Get(p + "/recent?limit=1000&attacks_only=true&batch_id=" + batch);
  ASSERT_EQ(only.status, 200);
  EXPECT_EQ(static_cast<int64_t>(only.json().size()), attacks);
  for (const auto& r : only.json()) EXPECT_TRUE(r["threat_prediction"]["is_attack"].get<bool>());

  // limit/offset page through the same order.
  auto page = s.Get(p + "/recent?limit=10&offset=10&batch_id=" + batch);
  ASSERT_EQ(page.status, 200);
  ASSERT_EQ(page.json().size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(page.json()[i]["traffic_data"]["id"], rows[10 + i]["traffic_data"]["id"]);
  // since/until.
  EXPECT_EQ(s.Get(p + "/recent?since=2100-01-01T00:00:00Z&batch_id=" + batch).json().size(), 0u);
  EXPECT_EQ(s.Get(p + "/recent?until=2000-01-01T00:00:00Z&batch_id=" + batch).json().size(), 0u);
  EXPECT_EQ(s.Get(p + "/recent?limit=1000&since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&batch_id=" + batch)
                .json()
                .size(),
            300u);
  // Beyond year 2262 a nanosecond clock overflows: the time must be refused (422) or honoured, never wrap.
  auto far = s.Get(p + "/recent?since=2999-01-01T00:00:00Z&batch_id=" + batch);
  EXPECT_TRUE(far.status == 422 || (far.status == 200 && far.json().empty()))
      << "BUG: since=2999-01-01T00:00:00Z wraps into the past: " << far.status << ", " << far.json().size() << " rows";
  EXPECT_EQ(s.Get(p + "/recent?limit=0").status, 422);
  EXPECT_EQ(s.Get(p + "/recent?since=yesterday").status, 422);
  EXPECT_EQ(s.Get(p + "/recent?attacks_only=maybe").status, 422);
  s.ExpectRoles("GET", p + "/recent", As::kViewer);

  // Stats: this batch's rows are added; BENIGN is never an attack type.
  auto stats = s.Get(p + "/stats");
  ASSERT_EQ(stats.status, 200);
  const json st = stats.json();
  EXPECT_EQ(Total(st), Total(before.json()) + 300);
  EXPECT_EQ(st["total_attacks"].get<int64_t>(), before.json()["total_attacks"].get<int64_t>() + attacks);
  EXPECT_EQ(st["total_attacks"].get<int64_t>() + st["total_normal"].get<int64_t>(), Total(st));
  EXPECT_FALSE(st["attack_type_distribution"].contains("BENIGN")) << st["attack_type_distribution"].dump();
  EXPECT_EQ(s.Get(p + "/stats?since=2100-01-01T00:00:00Z").json()["total_predictions"], 0);
  s.ExpectRoles("GET", p + "/stats", As::kViewer);

  // Timeline: the batch's flows land in the buckets, attacks without the flows the classifier called BENIGN.
  int64_t attack_flows = 0;
  for (const auto& r : rows) attack_flows += IsAttackFlow(r) ? 1 : 0;
  auto timeline = s.Get(p + "/timeline?buckets=7&" + all_time);
  ASSERT_EQ(timeline.status, 200) << timeline.body;
  ASSERT_EQ(timeline.json()["buckets"].size(), 7u);
  EXPECT_EQ(timeline.json()["buckets"][0]["start"], "2000-01-01T00:00:00.000Z");
  EXPECT_EQ(timeline.json()["buckets"][6]["end"], "2100-01-01T00:00:00.000Z");
  const auto [total_before, attacks_before] = TimelineSums(timeline_before.json());
  const auto [total_after, attacks_after] = TimelineSums(timeline.json());
  EXPECT_EQ(total_after - total_before, 300);
  EXPECT_EQ(attacks_after - attacks_before, attack_flows);
  EXPECT_EQ(total_after, Total(s.Get(p + "/stats?" + all_time).json()));
  // The default: the last hour in 60 buckets, which holds the upload.
  auto hour = s.Get(p + "/timeline");
  ASSERT_EQ(hour.status, 200) << hour.body;
  ASSERT_EQ(hour.json()["buckets"].size(), 60u);
  EXPECT_DOUBLE_EQ(hour.json()["bucket_seconds"].get<double>(), 60.0);
  EXPECT_EQ(hour.json()["buckets"][0]["start"], hour.json()["since"]);
  EXPECT_EQ(hour.json()["buckets"][59]["end"], hour.json()["until"]);
  EXPECT_GE(TimelineSums(hour.json()).first, 300);
  for (const char* bad : {"buckets=0", "buckets=501", "buckets=abc", "since=yesterday",
                          "since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
                          "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
                          "since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:10Z&buckets=60"}) {
    auto r = s.Get(p + "/timeline?" + bad);
    EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
    EXPECT_FALSE(r.json().value("detail", r.json().value("message", std::string())).empty()) << r.body;
  }
  s.ExpectRoles("GET", p + "/timeline", As::kViewer);

  // Top sources of the batch, from its own rows.
  struct Source {
    int64_t attacks = 0;
    std::string last_seen;
    std::map<std::string, int64_t> kinds;
  };
  std::map<std::string, Source> expected;
  std::string first_seen = rows.back()["traffic_data"]["created_at"];  // rows are newest first
  for (const auto& r : rows) {
    const json& td = r["traffic_data"];
    if (!IsAttackFlow(r) || !td["src_ip"].is_string()) continue;
    Source& src = expected[td["src_ip"].get<std::string>()];
    ++src.attacks;
    src.last_seen = std::max(src.last_seen, td["created_at"].get<std::string>());
    if (r["attack_prediction"].is_object()) ++src.kinds[r["attack_prediction"]["attack_type_name"].get<std::string>()];
  }
  ASSERT_FALSE(expected.empty());
  int64_t most = 0;
  for (const auto& [ip, src] : expected) most = std::max(most, src.attacks);
  auto top = s.Get(p + "/top-sources?limit=100&since=" + first_seen);
  ASSERT_EQ(top.status, 200) << top.body;
  const json sources = top.json()["sources"];
  ASSERT_EQ(sources.size(), std::min<size_t>(expected.size(), 100));
  EXPECT_EQ(sources[0]["attacks"].get<int64_t>(), most);
  for (size_t i = 0; i < sources.size(); ++i) {
    const json& got = sources[i];
    SCOPED_TRACE(got.dump());
    if (i > 0) {
      EXPECT_LE(got["attacks"].get<int64_t>(), sources[i - 1]["attacks"].get<int64_t>());
    }
    ASSERT_TRUE(expected.count(got["src_ip"].get<std::string>()));
    const Source& want = expected[got["src_ip"].get<std::string>()];
    EXPECT_EQ(got["attacks"].get<int64_t>(), want.attacks);
    EXPECT_EQ(got["last_seen"], want.last_seen);
    if (want.kinds.empty()) {
      EXPECT_TRUE(got["top_attack_type"].is_null());
    } else {
      std::pair<std::string, int64_t> best{"", 0};
      for (const auto& [kind, n] : want.kinds)
        if (n > best.second) best = {kind, n};  // ties: the name first in order, as the server does
      EXPECT_EQ(got["top_attack_type"], best.first);
    }
  }
  auto top3 = s.Get(p + "/top-sources?limit=3&since=" + first_seen);
  ASSERT_EQ(top3.status, 200);
  ASSERT_EQ(top3.json()["sources"].size(), std::min<size_t>(expected.size(), 3));
  for (size_t i = 0; i < top3.json()["sources"].size(); ++i) EXPECT_EQ(top3.json()["sources"][i], sources[i]);
  EXPECT_TRUE(s.Get(p + "/top-sources?since=2100-01-01T00:00:00Z").json()["sources"].empty());
  EXPECT_EQ(s.Get(p + "/top-sources?limit=0").status, 422);
  EXPECT_EQ(s.Get(p + "/top-sources?limit=101").status, 422);
  EXPECT_EQ(s.Get(p + "/top-sources?until=never").status, 422);
  s.ExpectRoles("GET", p + "/top-sources", As::kViewer);

  auto dist = s.Get(p + "/attack-distribution");
  ASSERT_EQ(dist.status, 200);
  EXPECT_FALSE(dist.json()["distribution"].contains("BENIGN")) << dist.body;
  int64_t sum = 0;
  const json distribution = dist.json()["distribution"];
  for (const auto& [k, v] : distribution.items()) sum += v.get<int64_t>();
  EXPECT_EQ(sum, dist.json()["total_attacks"].get<int64_t>());
  EXPECT_GE(dist.json()["distribution"]["DDoS"].get<int>(), by_type["DDoS"]);
  auto adist = s.Get(p + "/action-distribution");
  ASSERT_EQ(adist.status, 200);
  EXPECT_TRUE(adist.json().contains("total_actions")) << adist.body;
  EXPECT_EQ(s.Get(p + "/attack-distribution?until=2000-01-01T00:00:00Z").json()["total_attacks"], 0);

  // threats / attacks / actions.
  auto threats = s.Get(p + "/threats?limit=7&attacks_only=true");
  ASSERT_EQ(threats.status, 200);
  EXPECT_EQ(threats.json().size(), 7u);
  for (const auto& t : threats.json()) EXPECT_TRUE(t["is_attack"].get<bool>());
  auto portscan = s.Get(p + "/attacks?limit=3&attack_type=Portscan");
  ASSERT_EQ(portscan.status, 200);
  ASSERT_EQ(portscan.json().size(), by_type["Portscan"] >= 3 ? 3u : static_cast<size_t>(by_type["Portscan"]));
  for (const auto& a : portscan.json()) EXPECT_EQ(a["attack_type_name"], "Portscan");
  auto actions = s.Get(p + "/actions?limit=4");
  ASSERT_EQ(actions.status, 200);
  EXPECT_LE(actions.json().size(), 4u);
  if (!actions.json().empty()) {
    const std::string type = actions.json()[0]["action_type"];
    auto same = s.Get(p + "/actions?limit=1000&action_type=" + type);
    for (const auto& a : same.json()) EXPECT_EQ(a["action_type"], type);
    EXPECT_EQ(static_cast<int64_t>(same.json().size()), adist.json()["distribution"][type].get<int64_t>());
  }
  EXPECT_EQ(s.Get(p + "/threats?offset=-1").status, 422);

  // One prediction.
  const int64_t id = rows[0]["traffic_data"]["id"];
  auto one = s.Get(p + "/" + std::to_string(id));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json()["traffic_data"]["id"], id);
  EXPECT_EQ(one.json()["threat_prediction"], rows[0]["threat_prediction"]);
  EXPECT_EQ(s.Get(p + "/999999999").status, 404);
  EXPECT_EQ(s.Get(p + "/abc").status, 422);
  s.ExpectRoles("GET", p + "/" + std::to_string(id), As::kViewer);
  for (const char* route : {"/threats", "/attacks", "/actions", "/attack-distribution", "/action-distribution"})
    s.ExpectRoles("GET", p + route, As::kViewer);

  // Batches.
  auto batches = s.Get("/api/v1/upload/batches?limit=1000");
  ASSERT_EQ(batches.status, 200);
  bool found = false;
  const json listed = batches.json()["batches"];
  for (const auto& b : listed) found |= b["batch_id"] == batch;
  EXPECT_TRUE(found) << batches.body.substr(0, 400);
  auto detail = s.Get("/api/v1/upload/batch/" + batch + "?limit=10&offset=5");
  ASSERT_EQ(detail.status, 200) << detail.body.substr(0, 300);
  EXPECT_EQ(detail.json()["total_rows"], 300);
  EXPECT_EQ(detail.json()["predictions"].size(), 10u);
  EXPECT_EQ(s.Get("/api/v1/upload/batch/no-such-batch").status, 404);
  EXPECT_EQ(s.Get("/api/v1/upload/batches?limit=abc").status, 422);
  s.ExpectRoles("GET", "/api/v1/upload/batches", As::kViewer);
  s.ExpectRoles("GET", "/api/v1/upload/batch/" + batch, As::kViewer);
}

}  // namespace threatd::testing
