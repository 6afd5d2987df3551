// PrepareUpload: formats by extension and content, refusals, profile checks.
#include <gtest/gtest.h>

#include "ml/xgboost_export.h"
#include "registry/model_upload.h"
#include "unit/registry/test_bundles.h"

namespace threatd::registry::testing {
namespace {

UploadRequest Request(std::string bytes, std::string filename, std::string type = "threat_detector") {
  UploadRequest r;
  r.bytes = std::move(bytes);
  r.filename = std::move(filename);
  r.model_type = std::move(type);
  return r;
}

Status Prepare(const UploadRequest& r) { return PrepareUpload(r, Clock::System().Now()).status(); }

TEST(ModelUpload, PickleFormatsAreRefusedWith400AndAnExplanation) {
  for (const char* name : {"model.pkl", "MODEL.PKL", "m.joblib", "m.h5", "m.pickle"}) {
    const Status s = Prepare(Request("anything", name));
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(s.message().find("executes arbitrary code"), std::string::npos) << s.message();
    EXPECT_NE(s.hint().find("threatd import"), std::string::npos) << s.hint();
  }
  // Pickle bytes under an innocent name are refused too.
  const Status s = Prepare(Request(std::string("\x80\x04\x95", 3) + "payload", "model.json"));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pickle"), std::string::npos) << s.message();
}

TEST(ModelUpload, UnknownExtensionAndBadTypeAreExplained) {
  EXPECT_EQ(Prepare(Request("x", "model.txt")).code(), ErrorCode::kInvalidArgument);
  const Status s = Prepare(Request(BundleBytes(TestDetector("v")), "m.json.gz", "threat_detection"));
  EXPECT_EQ(s.code(), ErrorCode::kValidation);
  EXPECT_NE(s.message().find("got: threat_detection"), std::string::npos);
}

TEST(ModelUpload, AThreatdBundleIsAcceptedGzippedOrNot) {
  for (bool gz : {true, false}) {
    auto p = PrepareUpload(Request(BundleBytes(TestDetector("v7"), gz), gz ? "m.json.gz" : "m.json"),
                           Clock::System().Now());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->file_format, "bundle");
    EXPECT_EQ(p->bundle.version, "v7");
    EXPECT_EQ(p->validation_results["is_valid"], true);
    EXPECT_EQ(p->model_metadata["expected_input_features"], 2);
  }
}

TEST(ModelUpload, TheTypeMustMatchAndTheShapeFitTheType) {
  Status s = Prepare(Request(BundleBytes(TestDetector("v")), "m.json.gz", "attack_classifier"));
  EXPECT_EQ(s.code(), ErrorCode::kValidation);
  EXPECT_NE(s.message().find("is a threat_detector"), std::string::npos) << s.message();
  ml::ModelBundle multi = TestClassifier("v");
  multi.model_type = ml::ModelType::kThreatDetector;
  multi.sha256 = ml::ComputeBundleSha256(multi);
  s = Prepare(Request(BundleBytes(multi), "m.json.gz"));
  EXPECT_EQ(s.code(), ErrorCode::kValidation);
  EXPECT_NE(s.message().find("must be binary"), std::string::npos) << s.message();
}

TEST(ModelUpload, EveryFeatureMustResolveOntoAFlowFeature) {
  ml::ModelBundle b = TestDetector("v");
  b.features[1].name = "not_a_flow_feature";
  b.sha256 = ml::ComputeBundleSha256(b);
  const Status s = Prepare(Request(BundleBytes(b), "m.json.gz"));
  EXPECT_EQ(s.code(), ErrorCode::kValidation);
  EXPECT_NE(s.message().find("not_a_flow_feature"), std::string::npos) << s.message();
}

TEST(ModelUpload, RawXgboostJsonNeedsAProfile) {
  const std::string xgb = ml::ExportXgboostJson(TestDetector("v"));
  UploadRequest r = Request(xgb, "booster.json");
  Status s = Prepare(r);
  EXPECT_EQ(s.code(), ErrorCode::kValidation);
  EXPECT_NE(s.message().find("expected_features"), std::string::npos) << s.message();

  r.profile_config = "{not json";
  EXPECT_EQ(Prepare(r).code(), ErrorCode::kInvalidArgument);
  r.profile_config = R"({"expected_features": ["flow_duration", "flow_duration"]})";
  EXPECT_NE(Prepare(r).message().find("twice"), std::string::npos);

  r.profile_config = R"({"expected_features": ["Flow Duration", "Dst Port"], "threshold": 0.7,
                        "preprocessing_notes": "raw CICFlowMeter", "version": "xgb-1"})";
  auto p = PrepareUpload(r, Clock::System().Now());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->file_format, "xgboost_json");
  EXPECT_EQ(p->bundle.version, "xgb-1");
  EXPECT_FLOAT_EQ(p->bundle.threshold, 0.7f);
  EXPECT_EQ(p->preprocessing_notes, "raw CICFlowMeter");
}

}  // namespace
}  // namespace threatd::registry::testing
