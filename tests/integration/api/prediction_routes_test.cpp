// The prediction and upload-batch routes over a real (in-memory SQLite)
// database, called through the router: shapes, validation and status codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/routes.h"
#include "flow/features.h"
#include "http/url.h"

namespace threatd::api {
namespace {

class PredictionRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.api_prefix = "/api/v1";
    storage::StorageOptions so;
    so.url = "sqlite::memory:";
    auto db = storage::OpenDatabase(so, registry_, clock_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate().ok());
    keys_ = std::make_unique<auth::ApiKeyService>(*db_, clock_, registry_);
    ctx_ = std::make_unique<ApiContext>(
        ApiContext{options_, *db_, *keys_, registry_, health_, clock_, "/nonexistent", nullptr});
    RegisterPredictionRoutes(router_, *ctx_);
    RegisterUploadBatchRoutes(router_, *ctx_);
  }

  // GET `target` as a viewer.
  http::Response Get(const std::string& target) {
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    http::RouteMatch m;
    router_.Match(http::Method::kGet, path, &m);
    if (m.kind != http::RouteMatch::Kind::kFound) return http::Response::Text("no route", 404);
    http::Request req;
    req.path = path;
    req.path_params = m.params;
    if (q != std::string::npos) req.query = *http::ParseQuery(target.substr(q + 1));
    req.principal = Principal{1, "viewer", Role::kViewer};
    return m.route->handler(req);
  }

  nlohmann::json Json(const http::Response& r) { return nlohmann::json::parse(r.body); }

  void StoreFlows() {
    storage::ScoredFlowBatch b;
    b.source = "upload";
    b.batch_id = "batch-1";
    for (int i = 0; i < 3; ++i) {
      storage::NewScoredFlow f;
      f.features.fill(1.0f);
      f.features[0] = std::numeric_limits<float>::quiet_NaN();
      f.features[2] = 0.1f;
      clock_.Advance(std::chrono::milliseconds(1));
      f.created_at = clock_.Now();
      const bool attack = i == 0;
      f.threat = {attack ? 0.9 : 0.1, attack, 0.5, "det"};
      f.attack = storage::NewAttackPrediction{attack ? 2 : 0, attack ? "DDoS" : "BENIGN", 0.8, "cls"};
      b.flows.push_back(f);
    }
    std::vector<storage::StoredFlowIds> ids;
    ASSERT_TRUE(db_->Traffic().CreateUploadBatch({"batch-1", "f.csv", std::nullopt, clock_.Now()}).ok());
    ASSERT_TRUE(db_->Traffic().InsertScoredFlows(b, &ids).ok());
    first_id_ = ids[0].traffic_data_id;
    // One decision per flow's attack prediction, as the self-healing Healer records them.
    for (size_t i = 0; i < ids.size(); ++i) {
      storage::NewDecision d;
      d.attack_prediction_id = ids[i].attack_prediction_id;
      d.target = "203.0.113." + std::to_string(i + 1);
      d.action_type = i == 0 ? "block_ip" : "log_only";
      d.action_description = "why";
      d.origin = "automatic";
      d.mode = "enforce";
      ASSERT_TRUE(db_->Decisions().InsertDecision(d).ok());
    }
  }

  config::Options options_;
  metrics::Registry registry_;
  FakeClock clock_;
  HealthRegistry health_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<auth::ApiKeyService> keys_;
  std::unique_ptr<ApiContext> ctx_;
  http::Router router_;
  int64_t first_id_ = 0;
};

TEST_F(PredictionRoutesTest, RecentReturnsCompletePredictions) {
  StoreFlows();
  auto r = Get("/api/v1/predictions/recent?limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  ASSERT_EQ(j.size(), 2u);
  const auto& td = j[0]["traffic_data"];
  EXPECT_EQ(td["batch_id"], "batch-1");
  EXPECT_TRUE(td["features"].is_object());
  EXPECT_TRUE(td["created_at"].get<std::string>().ends_with("Z"));
  EXPECT_TRUE(j[0]["threat_prediction"].is_object());
  EXPECT_TRUE(j[0]["self_healing_action"].is_object());
}

TEST_F(PredictionRoutesTest, StatsAndDistributionsExcludeBenign) {
  StoreFlows();
  auto st = Json(Get("/api/v1/predictions/stats"));
  EXPECT_EQ(st["total_predictions"], 3);
  EXPECT_EQ(st["total_attacks"], 1);
  EXPECT_EQ(st["total_normal"], 2);
  EXPECT_DOUBLE_EQ(st["attack_rate"].get<double>(), 33.33);
  EXPECT_FALSE(st["attack_type_distribution"].contains("BENIGN"));
  auto d = Json(Get("/api/v1/predictions/attack-distribution"));
  EXPECT_EQ(d["total_attacks"], 1);
  EXPECT_EQ(d["distribution"]["DDoS"], 1);
  auto a = Json(Get("/api/v1/predictions/action-distribution"));
  EXPECT_EQ(a["total_actions"], 3);
  EXPECT_EQ(Json(Get("/api/v1/predictions/threats?attacks_only=true")).size(), 1u);
  EXPECT_EQ(Json(Get("/api/v1/predictions/attacks?attack_type=DDoS")).size(), 1u);
  EXPECT_EQ(Json(Get("/api/v1/predictions/actions?action_type=log_only")).size(), 2u);
}

TEST_F(PredictionRoutesTest, OneFlowByIdAndItsErrors) {
  StoreFlows();
  auto r = Get("/api/v1/predictions/" + std::to_string(first_id_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["traffic_data"]["id"], first_id_);
  const auto& features = j["traffic_data"]["features"];
  EXPECT_EQ(features.size(), flow::kFeatureCount) << features.dump();
  const std::string first(flow::CanonicalFeatures()[0].name), second(flow::CanonicalFeatures()[1].name);
  EXPECT_TRUE(features[first].is_null());  // NaN -> null
  EXPECT_EQ(features[second], 1.0);
  const std::string third(flow::CanonicalFeatures()[2].name);
  EXPECT_EQ(features[third].dump(), "0.1") << "the float's own digits, not 0.10000000149011612";
  auto missing = Get("/api/v1/predictions/999999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(missing)["detail"], "Traffic data not found");
  EXPECT_EQ(Get("/api/v1/predictions/abc").status, 422);
}

TEST_F(PredictionRoutesTest, BadParametersAre422NamingTheParameter) {
  for (const std::string q : {"limit=-1", "limit=1001", "offset=-5", "since=yesterday", "attacks_only=maybe"}) {
    auto r = Get("/api/v1/predictions/recent?" + q);
    EXPECT_EQ(r.status, 422) << q;
    EXPECT_NE(Json(r)["detail"].get<std::string>().find(q.substr(0, q.find('='))), std::string::npos) << r.body;
  }
  EXPECT_EQ(Get("/api/v1/predictions/recent?since=2026-01-01T00:00:00Z").status, 200);
}

TEST_F(PredictionRoutesTest, UploadBatches) {
  StoreFlows();
  auto list = Json(Get("/api/v1/upload/batches"));
  ASSERT_EQ(list["batches"].size(), 1u);
  EXPECT_EQ(list["batches"][0]["batch_id"], "batch-1");
  EXPECT_EQ(list["batches"][0]["row_count"], 3);
  EXPECT_EQ(list["batches"][0]["status"], "processing");
  auto one = Get("/api/v1/upload/batch/batch-1?limit=2&offset=1");
  ASSERT_EQ(one.status, 200) << one.body;
  auto j = Json(one);
  EXPECT_EQ(j["predictions"].size(), 2u);
  EXPECT_EQ(j["offset"], 1);
  auto missing = Get("/api/v1/upload/batch/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(missing)["detail"], "Batch not found");
}

}  // namespace
}  // namespace threatd::api
