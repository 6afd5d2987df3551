// ConsoleAssets: what `threatd serve` answers for the web console's paths.
#include "api/console_assets.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace threatd::api {
namespace {

namespace fs = std::filesystem;

std::string Header(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

class ConsoleAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/threatd-console-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(fs::path(dir_) / "console" / "assets");
    Write("console/index.html", "<!doctype html><div id=root></div>");
    Write("console/assets/index-Ab12.js", "console.log(1)");
    Write("console/assets/index-Cd34.css", "body{}");
    Write("console/favicon.svg", "<svg/>");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(fs::path(dir_) / rel) << text; }
  std::string dir_;
};

TEST_F(ConsoleAssetsTest, ServesFilesWithTypesAndCaching) {
  auto c = ConsoleAssets::Load(dir_);
  ASSERT_TRUE(c->installed());
  auto js = c->Serve("/assets/index-Ab12.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(c->Serve("/assets/index-Cd34.css").content_type, "text/css; charset=utf-8");
  auto svg = c->Serve("/favicon.svg");
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(Header(svg, "Cache-Control"), "no-cache");
}

TEST_F(ConsoleAssetsTest, SinglePageRoutesGetIndexHtml) {
  auto c = ConsoleAssets::Load(dir_);
  for (const char* path : {"/", "/dashboard", "/upload", "/settings/keys", "/index.html"}) {
    auto r = c->Serve(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    EXPECT_NE(r.body.find("id=root"), std::string::npos) << path;
    EXPECT_EQ(Header(r, "Cache-Control"), "no-cache") << path;
  }
}

TEST_F(ConsoleAssetsTest, PageRoutesAre404JsonForClientsThatDoNotTakeHtml) {
  auto c = ConsoleAssets::Load(dir_);
  auto r = c->Serve("/nope", /*wants_html=*/false);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.content_type.find("json"), std::string::npos);
  EXPECT_EQ(c->Serve("/assets/index-Ab12.js", /*wants_html=*/false).status, 200);  // files are files
}

TEST_F(ConsoleAssetsTest, NeverShadowsApiDocsProbesOrWebSocket) {
  auto c = ConsoleAssets::Load(dir_);
  for (const char* path : {"/api", "/api/v1/nope", "/ws", "/ws/realtime", "/docs/x.js", "/health/x", "/metrics"}) {
    auto r = c->Serve(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_NE(r.content_type.find("json"), std::string::npos) << path;
  }
  // Only whole segments are reserved.
  EXPECT_EQ(c->Serve("/apis").status, 200);
  EXPECT_EQ(c->Serve("/docsearch").status, 200);
}

TEST_F(ConsoleAssetsTest, MissingAssetIs404NotHtml) {
  auto c = ConsoleAssets::Load(dir_);
  EXPECT_EQ(c->Serve("/assets/index-old.js").status, 404);
  EXPECT_EQ(c->Serve("/robots.txt").status, 404);
  EXPECT_EQ(c->Serve("/assets/nested/thing").status, 404);
}

TEST_F(ConsoleAssetsTest, NotBuiltSaysHowToBuildIt) {
  fs::remove_all(fs::path(dir_) / "console");
  auto c = ConsoleAssets::Load(dir_);
  EXPECT_FALSE(c->installed());
  auto r = c->Serve("/dashboard");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("npm"), std::string::npos);
  EXPECT_NE(r.body.find("make run"), std::string::npos);
}

}  // namespace
}  // namespace threatd::api
