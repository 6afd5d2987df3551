// The model registry: list, get, formats, profile, storage stats, upload
// (bundle, same bundle again = new "-2" version, wrong type 422, .pkl 400),
// activate (visible in /health/detailed within a second), rollback,
// deactivate, delete (active -> 409).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api_groups.h"
#include "threatd_process.h"

namespace threatd::testing {
namespace {

using json = nlohmann::json;

std::string ModelFile(const std::string& name) {
  std::stringstream ss;
  ss << std::ifstream(ThreatdProcess::SourceDir() + "/models/" + name, std::ios::binary).rdbuf();
  return ss.str();
}

TestResponse UploadModel(ApiSession& s, const std::string& type, const std::string& filename,
                         const std::string& bytes, As who = As::kOperator) {
  return s.Call("POST", "/api/v1/models/upload", who,
                ApiSession::Multipart({{"model_type", type}, {"description", "e2e"}}, "file", filename, bytes),
                ApiSession::MultipartType());
}

json ActiveInHealth(ApiSession& s, const std::string& type) {
  return s.Get("/api/v1/health/detailed", As::kAnonymous).json()["checks"]["models"][type];
}

}  // namespace

void ExerciseModels(ApiSession& s) {
  const std::string m = "/api/v1/models";
  auto list = s.Get(m);
  ASSERT_EQ(list.status, 200) << list.body.substr(0, 300);
  ASSERT_EQ(list.json()["models"].size(), 2u) << "the two shipped defaults";
  int64_t default_classifier = 0;
  const json models = list.json()["models"];
  for (const auto& e : models) {
    EXPECT_EQ(e["is_active"], true);
    if (e["model_type"] == "attack_classifier") default_classifier = e["id"];
  }
  EXPECT_EQ(s.Get(m + "?model_type=threat_detector").json()["models"].size(), 1u);
  EXPECT_EQ(s.Get(m + "?model_type=nonsense").status, 422);
  s.ExpectRoles("GET", m, As::kViewer);
  auto one = s.Get(m + "/" + std::to_string(default_classifier));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["model_type"], "attack_classifier");
  EXPECT_EQ(s.Get(m + "/999999").status, 404);
  EXPECT_EQ(s.Get(m + "/0").status, 422);
  s.ExpectRoles("GET", m + "/1", As::kViewer);

  auto formats = s.Get(m + "/info/supported-formats");
  ASSERT_EQ(formats.status, 200);
  EXPECT_NE(formats.body.find(".pkl"), std::string::npos);
  s.ExpectRoles("GET", m + "/info/supported-formats", As::kViewer);
  auto profile = s.Get(m + "/profile/threat_detector");
  ASSERT_EQ(profile.status, 200);
  EXPECT_EQ(profile.json()["profile"]["class_labels"], json({"BENIGN", "ATTACK"}));
  EXPECT_EQ(s.Get(m + "/profile/nonsense").status, 422);
  s.ExpectRoles("GET", m + "/profile/attack_classifier", As::kViewer);
  auto storage = s.Get(m + "/stats/storage");
  ASSERT_EQ(storage.status, 200);
  EXPECT_EQ(storage.json()["total_models"], 2);
  s.ExpectRoles("GET", m + "/stats/storage", As::kViewer);

  // Uploads.
  const std::string original42 = ModelFile("attack_classifier_original42.json.gz");
  ASSERT_FALSE(original42.empty());
  EXPECT_EQ(UploadModel(s, "attack_classifier", "a.json.gz", original42, As::kViewer).status, 403);
  EXPECT_EQ(UploadModel(s, "attack_classifier", "a.json.gz", original42, As::kAnonymous).status, 401);
  auto up = UploadModel(s, "attack_classifier", "attack_classifier_original42.json.gz", original42);
  ASSERT_EQ(up.status, 201) << up.body.substr(0, 400);
  const int64_t uploaded = up.json()["id"];
  EXPECT_EQ(up.json()["is_active"], false);
  EXPECT_EQ(up.json()["model_type"], "attack_classifier");
  // The documented behaviour for an identical bundle: accepted as a new version with a -2 suffix.
  const std::string detector = ModelFile("threat_detector.json.gz");
  auto again = UploadModel(s, "threat_detector", "threat_detector_v2.json.gz", detector);
  ASSERT_EQ(again.status, 201) << again.body.substr(0, 400);
  const int64_t detector2 = again.json()["id"];
  const std::string v1 = s.Get(m + "/1").json()["version"];
  EXPECT_EQ(again.json()["version"], v1 + "-2");
  auto wrong = UploadModel(s, "attack_classifier", "td.json.gz", detector);
  EXPECT_EQ(wrong.status, 422) << wrong.body;
  auto pkl = UploadModel(s, "threat_detector", "model.pkl", "\x80\x04\x95 pickle");
  EXPECT_EQ(pkl.status, 400) << pkl.body;
  EXPECT_NE(pkl.body.find(".pkl"), std::string::npos);
  EXPECT_EQ(UploadModel(s, "nonsense", "x.json.gz", detector).status, 422);
  EXPECT_EQ(s.Get(m + "/stats/storage").json()["total_models"], 4);

  // Activate: visible in /health/detailed within one second.
  const std::string id = std::to_string(uploaded);
  s.ExpectRoles("POST", m + "/" + id + "/activate", As::kOperator, "");
  auto act = s.Post(m + "/" + id + "/activate", nullptr);
  ASSERT_EQ(act.status, 200) << act.body.substr(0, 300);
  EXPECT_EQ(act.json()["model"]["is_active"], true);
  EXPECT_TRUE(ApiSession::WaitFor([&] { return ActiveInHealth(s, "attack_classifier")["id"] == uploaded; },
                                  std::chrono::seconds(1)))
      << ActiveInHealth(s, "attack_classifier").dump();
  EXPECT_EQ(s.Get(m + "/" + std::to_string(default_classifier)).json()["is_active"], false);
  EXPECT_EQ(s.Post(m + "/999999/activate", nullptr).status, 404);

  // Delete: the active one is refused; rollback returns to the default.
  EXPECT_EQ(s.Delete(m + "/" + id).status, 409);
  s.ExpectRoles("POST", m + "/rollback/attack_classifier", As::kOperator, "");
  auto back = s.Post(m + "/rollback/attack_classifier", nullptr);
  ASSERT_EQ(back.status, 200) << back.body.substr(0, 300);
  EXPECT_EQ(back.json()["model"]["id"], default_classifier);
  EXPECT_TRUE(ApiSession::WaitFor([&] { return ActiveInHealth(s, "attack_classifier")["id"] == default_classifier; },
                                  std::chrono::seconds(1)));
  EXPECT_EQ(s.Post(m + "/rollback/threat_detector", nullptr).status, 404);  // never switched
  EXPECT_EQ(s.Post(m + "/rollback/nonsense", nullptr).status, 422);

  // Deactivating a model that is not active must not claim its type has no active model.
  auto idle = s.Post(m + "/" + std::to_string(detector2) + "/deactivate", nullptr);
  EXPECT_EQ(idle.status, 200) << idle.body;
  EXPECT_EQ(idle.json()["message"].get<std::string>().find("No threat_detector is active now"), std::string::npos)
      << "BUG: model " << detector2 << " was never active, threat_detector 1 still is: " << idle.body.substr(0, 300);
  EXPECT_EQ(ActiveInHealth(s, "threat_detector")["id"], 1);

  s.ExpectRoles("POST", m + "/" + id + "/deactivate", As::kOperator, "");
  auto act2 = s.Post(m + "/" + id + "/activate", nullptr);
  ASSERT_EQ(act2.status, 200);
  auto deact = s.Post(m + "/" + id + "/deactivate", nullptr);
  ASSERT_EQ(deact.status, 200) << deact.body.substr(0, 300);
  EXPECT_EQ(deact.json()["model"]["is_active"], false);
  EXPECT_NE(deact.json()["message"].get<std::string>().find("not classified"), std::string::npos);
  EXPECT_TRUE(ApiSession::WaitFor([&] { return !ActiveInHealth(s, "attack_classifier").contains("id") ||
                                               ActiveInHealth(s, "attack_classifier")["id"].is_null(); },
                                  std::chrono::seconds(1)))
      << ActiveInHealth(s, "attack_classifier").dump();
  EXPECT_EQ(s.Post(m + "/999999/deactivate", nullptr).status, 404);
  auto restore = s.Post(m + "/" + std::to_string(default_classifier) + "/activate", nullptr);
  ASSERT_EQ(restore.status, 200);

  s.ExpectRoles("DELETE", m + "/" + id, As::kOperator);
  EXPECT_EQ(s.Delete(m + "/" + id).status, 200);
  EXPECT_EQ(s.Get(m + "/" + id).status, 404);
  EXPECT_EQ(s.Delete(m + "/" + id).status, 404);
  EXPECT_EQ(s.Delete(m + "/" + std::to_string(detector2) + "?delete_file=false").status, 200);
  EXPECT_EQ(s.Get(m + "/stats/storage").json()["total_models"], 2);
}

}  // namespace threatd::testing
