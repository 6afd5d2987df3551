// The /models routes end to end through the Router (handlers called directly,
// multipart bodies from memory): status codes, shapes, audit, hot swap, and
// the OpenAPI fragment covering exactly these routes.
#include <gtest/gtest.h>

#include <filesystem>

#include "api/routes.h"
#include "http/multipart.h"
#include "registry/model_registry.h"
#include "unit/registry/test_bundles.h"

namespace threatd::api {
namespace {

using http::Method;
using registry::testing::BundleBytes;
using registry::testing::TestDetector;
using nlohmann::json;

struct Part {
  std::string name;
  std::string value;
  std::optional<std::string> filename;
};

constexpr const char* kBoundary = "----threatdTestBoundary";

std::string Multipart(const std::vector<Part>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (p.filename) body += "; filename=\"" + *p.filename + "\"";
    body += "\r\n\r\n" + p.value + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

class ModelRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("threatd_model_routes_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "defaults");
    ASSERT_TRUE(ml::WriteBundleFile(TestDetector("default"), (dir_ / "defaults/threat_detector.json.gz").string()).ok());
    ASSERT_TRUE(ml::WriteBundleFile(registry::testing::TestClassifier("default"),
                                    (dir_ / "defaults/attack_classifier.json.gz").string())
                    .ok());
    storage::StorageOptions so;
    so.url = "sqlite::memory:";
    auto db = storage::OpenDatabase(so, metrics_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate().ok());
    keys_ = std::make_unique<auth::ApiKeyService>(*db_, Clock::System(), metrics_);
    ctx_ = std::make_unique<ApiContext>(
        ApiContext{options_, *db_, *keys_, metrics_, health_, Clock::System(), "/nonexistent", nullptr});
    models_ = std::make_unique<registry::ModelRegistry>(
        registry::RegistryOptions{(dir_ / "models").string(), (dir_ / "defaults").string()}, db_->Models(),
        Clock::System(), metrics_);
    ASSERT_TRUE(models_->Start().ok());
    RegisterModelRoutes(router_, *ctx_, *models_);
  }
  void TearDown() override {
    models_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Calls the route for `target` as an admin; body JSON (or null) + status.
  std::pair<int, json> Call(Method method, const std::string& target, const std::string& body = "") {
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    http::RouteMatch match;
    router_.Match(method, path, &match);
    EXPECT_EQ(match.kind, http::RouteMatch::Kind::kFound) << target;
    if (match.kind != http::RouteMatch::Kind::kFound) return {0, nullptr};
    http::Request req;
    req.method = method;
    req.path = path;
    if (q != std::string::npos) req.query = http::ParseQuery(target.substr(q + 1)).value();
    req.path_params = match.params;
    req.headers = {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}};
    req.principal = Principal{1, "tester", Role::kAdmin};
    req.request_id = "req-1";
    http::StringBodyReader reader(body);
    if (match.route->options.stream_body) {
      req.body_reader = &reader;
    } else {
      req.body = body;
    }
    const http::Response r = match.route->handler(req);
    return {r.status, r.body.empty() ? json(nullptr) : json::parse(r.body)};
  }

  std::pair<int, json> Upload(const std::string& bytes, const std::string& filename,
                              const std::string& type = "threat_detector") {
    return Call(Method::kPost, "/api/v1/models/upload",
                Multipart({{"model_type", type, std::nullopt}, {"description", "test model", std::nullopt},
                           {"file", bytes, filename}}));
  }

  std::filesystem::path dir_;
  config::Options options_;
  metrics::Registry metrics_;
  HealthRegistry health_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<auth::ApiKeyService> keys_;
  std::unique_ptr<ApiContext> ctx_;
  std::unique_ptr<registry::ModelRegistry> models_;
  http::Router router_;
};

TEST_F(ModelRoutesTest, UploadActivateRollbackDeleteLifecycle) {
  auto [status, up] = Upload(BundleBytes(TestDetector("v2", 1.0f)), "detector.json.gz");
  ASSERT_EQ(status, 201) << up.dump();
  EXPECT_EQ(up["is_active"], false);
  EXPECT_EQ(up["version"], "v2");
  EXPECT_EQ(up["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(up["description"], "test model");
  EXPECT_EQ(up["uploaded_by"], "tester");
  EXPECT_EQ(up["expected_features"], json({"flow_duration", "dst_port"}));
  EXPECT_EQ(up["validation_results"]["is_valid"], true);
  EXPECT_TRUE(up["created_at"].get<std::string>().ends_with("Z"));
  const int64_t id = up["id"];

  auto [lst, list] = Call(Method::kGet, "/api/v1/models");
  EXPECT_EQ(lst, 200);
  EXPECT_EQ(list["total_count"], 3);
  auto [act_status, act] = Call(Method::kPost, "/api/v1/models/" + std::to_string(id) + "/activate");
  ASSERT_EQ(act_status, 200) << act.dump();
  EXPECT_EQ(act["model"]["is_active"], true);
  EXPECT_EQ(models_->Current()->detector->version, "v2") << "scoring with it when the call returned";
  auto [active_status, active] = Call(Method::kGet, "/api/v1/models?model_type=threat_detector&include_inactive=false");
  EXPECT_EQ(active_status, 200);
  ASSERT_EQ(active["total_count"], 1);
  EXPECT_EQ(active["models"][0]["id"], id);

  auto [del_active, conflict] = Call(Method::kDelete, "/api/v1/models/" + std::to_string(id));
  EXPECT_EQ(del_active, 409);
  EXPECT_EQ(conflict["error"]["code"], "conflict");

  auto [rb_status, rb] = Call(Method::kPost, "/api/v1/models/rollback/threat_detector");
  ASSERT_EQ(rb_status, 200) << rb.dump();
  EXPECT_EQ(rb["model"]["version"], "default");
  EXPECT_EQ(models_->Current()->detector->version, "default");

  auto [del_status, del] = Call(Method::kDelete, "/api/v1/models/" + std::to_string(id));
  EXPECT_EQ(del_status, 200);
  EXPECT_EQ(del["message"], "Model " + std::to_string(id) + " deleted successfully");

  auto audit = db_->ListAudit({});
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> actions;
  for (const auto& e : *audit) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"model.delete", "model.rollback", "model.activate", "model.upload"}));
}

TEST_F(ModelRoutesTest, ErrorsUseTheRightStatusCodes) {
  auto [pkl, pkl_body] = Upload("\x80\x04junk", "model.pkl");
  EXPECT_EQ(pkl, 400);
  EXPECT_NE(pkl_body["detail"].get<std::string>().find("pickle"), std::string::npos) << pkl_body.dump();
  EXPECT_EQ(Upload(BundleBytes(TestDetector("x")), "m.json.gz", "threat_detection").first, 422);
  EXPECT_EQ(Call(Method::kPost, "/api/v1/models/upload", Multipart({{"model_type", "threat_detector", {}}})).first,
            422);
  EXPECT_EQ(Call(Method::kGet, "/api/v1/models/999").first, 404);
  EXPECT_EQ(Call(Method::kPost, "/api/v1/models/999/activate").first, 404) << "the original said 400";
  EXPECT_EQ(Call(Method::kPost, "/api/v1/models/999/deactivate").first, 404);
  EXPECT_EQ(Call(Method::kDelete, "/api/v1/models/999").first, 404);
  EXPECT_EQ(Call(Method::kGet, "/api/v1/models/abc").first, 422);
  EXPECT_EQ(Call(Method::kGet, "/api/v1/models?include_inactive=maybe").first, 422);
  EXPECT_EQ(Call(Method::kPost, "/api/v1/models/rollback/bogus").first, 422);
  EXPECT_EQ(Call(Method::kPost, "/api/v1/models/rollback/attack_classifier").first, 404) << "never switched";
}

TEST_F(ModelRoutesTest, DeactivatingTheDetectorSaysFlowsAreRefused) {
  const int64_t id = models_->Current()->detector->id;
  auto [status, body] = Call(Method::kPost, "/api/v1/models/" + std::to_string(id) + "/deactivate");
  ASSERT_EQ(status, 200);
  EXPECT_NE(body["message"].get<std::string>().find("refuses flows"), std::string::npos) << body.dump();
  EXPECT_EQ(models_->Current()->detector, nullptr);
}

TEST_F(ModelRoutesTest, StatsFormatsAndProfiles) {
  auto [s1, stats] = Call(Method::kGet, "/api/v1/models/stats/storage");
  ASSERT_EQ(s1, 200);
  EXPECT_EQ(stats["total_models"], 2);
  EXPECT_EQ(stats["by_type"]["threat_detector"]["active_count"], 1);
  EXPECT_EQ(stats["active_models"].size(), 2u);
  auto [s2, formats] = Call(Method::kGet, "/api/v1/models/info/supported-formats");
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(formats["supported_formats"], json({".json", ".json.gz", ".onnx"}));
  EXPECT_EQ(formats["model_requirements"]["threat_detector"]["feature_names"], json({"flow_duration", "dst_port"}));
  auto [s3, profile] = Call(Method::kGet, "/api/v1/models/profile/attack_classifier");
  ASSERT_EQ(s3, 200);
  EXPECT_EQ(profile["profile"]["class_labels"], json({"BENIGN", "DoS", "PortScan"}));
  EXPECT_EQ(Call(Method::kGet, "/api/v1/models/profile/nope").first, 422);
}

TEST_F(ModelRoutesTest, TheOpenApiFragmentDocumentsExactlyTheseRoutes) {
  std::set<std::string> served;
  for (const auto& r : router_.Routes()) {
    std::string m(http::MethodName(r.method));
    for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    served.insert(m + " " + r.pattern);
  }
  std::set<std::string> documented;
  for (const auto& [path, item] : OpenApiDocument("/api/v1")["paths"].items()) {
    if (!path.starts_with("/api/v1/models")) continue;
    for (const auto& [method, op] : item.items()) documented.insert(method + " " + path);
  }
  EXPECT_EQ(served, documented);
}

}  // namespace
}  // namespace threatd::api
