// Bundle round trip and the loader's rejection of each kind of corruption.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ml/bundle.h"
#include "ml/gzip.h"
#include "common/sha256.h"

namespace threatd::ml {
namespace {

using nlohmann::json;

// A two-tree binary model over two features: tree 0 splits f0 < 0.5.
ModelBundle TinyBundle() {
  ModelBundle b;
  b.model_type = ModelType::kThreatDetector;
  b.version = "1";
  b.created_at = "2026-01-01T00:00:00.000Z";
  b.features = {{"Flow Duration", {"flow_duration"}}, {"Dst Port", {}}};
  b.classes = {"BENIGN", "ATTACK"};
  b.threshold = 0.3f;
  Tree t;
  t.split_feature = {0, 0, 0};
  t.threshold = {0.5f, 0, 0};
  t.left = {1, -1, -1};
  t.right = {2, -1, -1};
  t.default_left = {1, 0, 0};
  t.leaf_value = {0, -1.25f, 0.75f};
  Tree t2 = t;
  t2.split_feature[0] = 1;
  t2.threshold[0] = 443.0f;
  b.trees = {t, t2};
  b.card.task = "binary";
  b.sha256 = ComputeBundleSha256(b);
  return b;
}

// Serialises, edits the JSON, re-signs (so only the edit is wrong) and parses.
Status ParseEdited(const std::function<void(json&)>& edit, bool resign = true) {
  json j = json::parse(SerializeBundle(TinyBundle()));
  edit(j);
  if (resign) {
    j.erase("sha256");
    j["sha256"] = Sha256Hex(j.dump());  // exactly as the writer signs
  }
  return ParseBundle(j.dump()).status();
}

void ExpectRejected(const std::function<void(json&)>& edit, const std::string& fragment) {
  const Status s = ParseEdited(edit);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(fragment), std::string::npos) << "message was: " << s.message();
}

TEST(BundleTest, RoundTripIsExactAndDeterministic) {
  const ModelBundle b = TinyBundle();
  const std::string text = SerializeBundle(b);
  EXPECT_EQ(text, SerializeBundle(b));
  auto parsed = ParseBundle(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->sha256, b.sha256);
  EXPECT_EQ(SerializeBundle(*parsed), text);
  EXPECT_EQ(parsed->features[0].aliases, std::vector<std::string>{"flow_duration"});
  EXPECT_EQ(parsed->trees[1].threshold[0], 443.0f);
  EXPECT_EQ(parsed->threshold, 0.3f);
}

TEST(BundleTest, GzipFileRoundTrip) {
  const auto dir = std::filesystem::temp_directory_path() / ("ml_bundle_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "m.json.gz").string();
  ASSERT_TRUE(WriteBundleFile(TinyBundle(), path).ok());
  auto loaded = ReadBundleFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->sha256, TinyBundle().sha256);
  std::filesystem::remove_all(dir);
}

TEST(BundleTest, RejectsBadChildIndex) {
  ExpectRejected([](json& j) { j["model"]["trees"][0]["left"][0] = 7; }, "tree 0: node 0: child index 7 out of range");
}

TEST(BundleTest, RejectsFeatureIndexOutOfRange) {
  ExpectRejected([](json& j) { j["model"]["trees"][1]["split_feature"][0] = 2; },
                 "tree 1: node 0: feature index 2 out of range [0, 2)");
}

TEST(BundleTest, RejectsNanThreshold) {
  // JSON has no NaN: a writer that emits null (nlohmann) or a huge number.
  ExpectRejected([](json& j) { j["model"]["trees"][0]["threshold"][0] = nullptr; }, "model.trees[0].threshold[0]");
  ExpectRejected([](json& j) { j["model"]["trees"][0]["threshold"][0] = 1e300; }, "out of float range");
}

TEST(BundleTest, RejectsCycle) {
  ExpectRejected([](json& j) {
    auto& t = j["model"]["trees"][0];
    t["left"][1] = 2;  // root -> 2 and node 1 -> 2: node 2 reached twice
    t["right"][1] = 2;
  }, "node 2 is reached twice");
  ExpectRejected([](json& j) {
    auto& t = j["model"]["trees"][0];
    t["left"][1] = 1;  // self loop
    t["right"][1] = 2;
  }, "node 1: cycle");
  ExpectRejected([](json& j) { j["model"]["trees"][0]["left"][0] = 0; }, "child index 0 out of range");
}

TEST(BundleTest, RejectsWrongClassCount) {
  ExpectRejected([](json& j) { j["classes"] = {"BENIGN", "A", "B"}; }, "binary:logistic needs 2 classes");
  ExpectRejected([](json& j) {
    j["model"]["objective"] = "multi:softprob";
    j["model"]["num_class"] = 4;
    j["classes"] = {"BENIGN", "A", "B"};
  }, "num_class 4 does not match the 3 class labels");
}

TEST(BundleTest, RejectsThresholdOutsideUnitInterval) {
  ExpectRejected([](json& j) { j["threshold"] = 1.5; }, "threshold 1.5 outside [0, 1]");
}

TEST(BundleTest, RejectsUnknownFieldAndBadType) {
  ExpectRejected([](json& j) { j["pickle"] = "x"; }, "unknown field 'pickle'");
  ExpectRejected([](json& j) { j["model_type"] = "random_forest"; }, "unknown model_type 'random_forest'");
}

TEST(BundleTest, RejectsTooDeepTree) {
  ExpectRejected([](json& j) {
    json& t = j["model"]["trees"][0];
    json sf = json::array(), th = json::array(), l = json::array(), r = json::array(), dl = json::array(), lv = json::array();
    const int depth = kMaxTreeDepth + 2;  // a chain: node 2i has a leaf left, the chain right
    for (int i = 0; i < depth; ++i) {
      const int leaf = 2 * i + 1, next = 2 * i + 2;
      sf.push_back(0); th.push_back(0.5); l.push_back(leaf); r.push_back(next); dl.push_back(0); lv.push_back(0);
      sf.push_back(0); th.push_back(0); l.push_back(-1); r.push_back(-1); dl.push_back(0); lv.push_back(1);
    }
    sf.push_back(0); th.push_back(0); l.push_back(-1); r.push_back(-1); dl.push_back(0); lv.push_back(1);
    t["split_feature"] = sf; t["threshold"] = th; t["left"] = l; t["right"] = r; t["default_left"] = dl; t["leaf_value"] = lv;
  }, "depth exceeds 64");
}

TEST(BundleTest, RejectsBadSha256) {
  const Status s = ParseEdited([](json& j) { j["version"] = "tampered"; }, /*resign=*/false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sha256 mismatch"), std::string::npos) << s.message();
}

TEST(BundleTest, RejectsGarbageAndTruncatedGzip) {
  EXPECT_NE(ParseBundle("not json").status().message().find("not valid JSON"), std::string::npos);
  std::string gz = GzipCompress(SerializeBundle(TinyBundle()));
  gz.resize(gz.size() / 2);
  EXPECT_NE(ParseBundle(gz).status().message().find("corrupt gzip"), std::string::npos);
  EXPECT_NE(ParseBundle(std::string(100, '[')).status().message().find("nested deeper"), std::string::npos);
}

TEST(BundleTest, ResolveFeaturesByNameAndAliasAndNamesMissing) {
  const ModelBundle b = TinyBundle();
  auto m = ResolveFeatures(b, {" Destination Port", "dst_port", "FLOW_DURATION"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, (std::vector<size_t>{2, 1}));
  auto missing = ResolveFeatures(b, {"Flow Duration"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing features 'Dst Port' (matched 1 of 2)"), std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace threatd::ml
