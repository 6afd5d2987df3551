#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "config/keys.h"
#include "config/loader.h"

namespace threatd::config {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("threatd-config-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  LoadRequest Request() {
    LoadRequest r;
    r.env_file = (dir_ / ".env").string();  // absent unless a test writes it
    return r;
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DefaultsAreTheEmbeddedRun) {
  Sources sources;
  auto o = Load(Request(), &sources);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->http.host, "127.0.0.1");
  EXPECT_EQ(o->http.port, 8000);
  EXPECT_EQ(o->api_prefix, "/api/v1");
  EXPECT_EQ(o->EffectiveDatabaseUrl(), "sqlite://./data/threatd.db");
  EXPECT_TRUE(o->kafka.bootstrap_servers.empty());
  EXPECT_EQ(o->kafka.topic_realtime, "network-traffic");
  EXPECT_EQ(o->kafka.topic_external, "external-traffic");
  EXPECT_EQ(o->kafka.topic_predictions, "predictions");
  EXPECT_EQ(o->kafka.group_id, "threat-detection-consumer");
  EXPECT_EQ(o->kafka.external_group_id, "external-data-consumer");
  EXPECT_EQ(sources["http.port"], "default");
}

TEST_F(ConfigTest, PrecedenceDefaultsFileDotenvEnvironmentFlags) {
  auto r = Request();
  r.config_file = Write("c.yaml", "http:\n  port: 1001\n  host: 0.0.0.0\nlog_level: debug\ndata_dir: /var/x\n");
  Write(".env", "# comment\nTHREATD_HTTP_PORT=1002\nexport LOG_LEVEL='warn'\nPOSTGRES_PASSWORD=ignored\n");
  r.environment = {{"THREATD_HTTP_PORT", "1003"}, {"PATH", "/bin"}};
  r.flags = {{"http.port", "1004"}};
  Sources sources;
  auto o = Load(r, &sources);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->http.port, 1004);
  EXPECT_EQ(sources["http.port"], "command line");
  EXPECT_EQ(o->http.host, "0.0.0.0");  // file only
  EXPECT_EQ(o->log_level, "warn");     // .env beats the file
  EXPECT_EQ(o->EffectiveDatabaseUrl(), "sqlite:///var/x/threatd.db");

  r.flags.clear();
  o = Load(r, &sources);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->http.port, 1003);  // environment beats .env
  r.environment.clear();
  o = Load(r, &sources);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->http.port, 1002);  // .env beats the file
}

TEST_F(ConfigTest, OriginalEnvironmentNamesAreHonoured) {
  auto r = Request();
  r.environment = {{"DATABASE_URL", "postgresql://u:secret@db:5432/threatd"},
                   {"KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"},
                   {"KAFKA_TOPIC_REALTIME_DATA", "rt"},
                   {"KAFKA_TOPIC_EXTERNAL_DATA", "ext"},
                   {"KAFKA_TOPIC_PREDICTIONS", "preds"},
                   {"KAFKA_GROUP_ID", "g1"},
                   {"KAFKA_EXTERNAL_CONSUMER_GROUP", "g2"},
                   {"API_V1_PREFIX", "/api/v2"},
                   {"BACKEND_CORS_ORIGINS", "[\"http://a.example\", \"http://b.example\"]"}};
  Sources sources;
  auto o = Load(r, &sources);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->database.url, "postgresql://u:secret@db:5432/threatd");
  EXPECT_EQ(o->kafka.bootstrap_servers, "kafka:9092");
  EXPECT_EQ(o->kafka.topic_realtime, "rt");
  EXPECT_EQ(o->kafka.topic_external, "ext");
  EXPECT_EQ(o->kafka.topic_predictions, "preds");
  EXPECT_EQ(o->kafka.group_id, "g1");
  EXPECT_EQ(o->kafka.external_group_id, "g2");
  EXPECT_EQ(o->api_prefix, "/api/v2");
  EXPECT_EQ(o->http.cors_origins, (std::vector<std::string>{"http://a.example", "http://b.example"}));
  // The THREATD_ name beats the legacy one whatever the order.
  r.environment["THREATD_KAFKA_GROUP_ID"] = "g3";
  o = Load(r, &sources);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->kafka.group_id, "g3");
  // Secrets never reach `config show`.
  const std::string shown = Render(*o, sources);
  EXPECT_EQ(shown.find("secret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("database.url = postgresql://u:***@db:5432/threatd"), std::string::npos) << shown;
}

TEST_F(ConfigTest, UnknownFileKeyNamesTheKeyAndSuggests) {
  auto r = Request();
  r.config_file = Write("c.yaml", "http:\n  prot: 9000\n");
  auto o = Load(r);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("unknown configuration key 'http.prot'"), std::string::npos);
  EXPECT_NE(o.status().hint().find("did you mean 'http.port'"), std::string::npos);
}

TEST_F(ConfigTest, UnknownThreatdVariableIsAnErrorOthersAreIgnored) {
  auto r = Request();
  r.environment = {{"THREATD_HTTP_PROT", "1"}};
  auto o = Load(r);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("THREATD_HTTP_PROT"), std::string::npos);
  r.environment = {{"SOMETHING_ELSE", "1"}};
  EXPECT_TRUE(Load(r).ok());
}

TEST_F(ConfigTest, BadValuesNameTheKeyAndTheAcceptedValues) {
  struct Case {
    std::string key, value, accepted;
  };
  for (const auto& c : std::vector<Case>{{"http.port", "70000", "integer 0..65535"},
                                         {"http.port", "80x", "integer 0..65535"},
                                         {"log_level", "loud", "trace|debug|info"},
                                         {"http.metrics_public", "maybe", "true|false"},
                                         {"http.idle_timeout", "soon", "duration"},
                                         {"http.max_body_bytes", "1 parsec", "size"},
                                         {"api_prefix", "api/", "starting with '/'"},
                                         {"database.url", "mysql://x", "sqlite:///"}}) {
    auto r = Request();
    r.flags = {{c.key, c.value}};
    auto o = Load(r);
    ASSERT_FALSE(o.ok()) << c.key << "=" << c.value;
    EXPECT_NE(o.status().message().find("'" + c.key + "'"), std::string::npos) << o.status().ToString();
    EXPECT_NE(o.status().hint().find(c.accepted), std::string::npos) << o.status().ToString();
  }
}

TEST_F(ConfigTest, MalformedYamlAndMissingFiles) {
  auto r = Request();
  r.config_file = Write("c.yaml", "http: [unclosed\n");
  EXPECT_NE(Load(r).status().message().find("not valid YAML"), std::string::npos);
  r.config_file = (dir_ / "nope.yaml").string();
  EXPECT_NE(Load(r).status().message().find("cannot read config file"), std::string::npos);
  r.config_file.clear();
  r.env_file = (dir_ / "missing.env").string();
  r.env_file_explicit = true;
  EXPECT_FALSE(Load(r).ok());
}

TEST(ConfigParsers, DurationsSizesLists) {
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("10s")->count(), 10'000);
  EXPECT_EQ(ParseDuration("2m")->count(), 120'000);
  EXPECT_EQ(ParseDuration("1.5")->count(), 1'500);
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_EQ(*ParseSize("64KiB"), 65'536u);
  EXPECT_EQ(*ParseSize("2GB"), 2'000'000'000u);
  EXPECT_FALSE(ParseSize("lots").ok());
  EXPECT_EQ(ParseList(" a, b ,,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(RedactUrl("postgresql://u:pw@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(RedactUrl("sqlite:///x.db"), "sqlite:///x.db");
}

// The example config documents every key, and only real keys.
TEST(ConfigExample, DocumentsEveryKey) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  const std::string path = std::string(src) + "/configs/threatd.example.yaml";
  LoadRequest r;
  r.config_file = path;
  r.env_file.clear();
  auto o = Load(r);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& k : Keys()) {
    const std::string leaf = k.key.substr(k.key.rfind('.') + 1);
    EXPECT_TRUE(std::regex_search(text, std::regex("(^|\\n)\\s*#?\\s*" + leaf + ":"))) << "undocumented key " << k.key;
    for (const auto& env : k.env) EXPECT_NE(text.find(env), std::string::npos) << "undocumented env " << env;
  }
}

}  // namespace
}  // namespace threatd::config
