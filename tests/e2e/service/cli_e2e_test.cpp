// End-to-end: the `threatd` subcommands other than serve.
#include <gtest/gtest.h>

#include <fstream>

#include "threatd_process.h"

namespace threatd::testing {
namespace {

TEST(CliE2E, VersionNamesCommitBuildTypeAndLibraries) {
  ThreatdProcess p;
  auto r = p.Run({"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("threatd 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("commit "), std::string::npos);
  EXPECT_NE(r.out.find("sqlite 3."), std::string::npos);
  EXPECT_NE(r.out.find("xgboost 1."), std::string::npos);
  EXPECT_NE(r.out.find("librdkafka 2."), std::string::npos);
}

TEST(CliE2E, EverySubcommandHasHelp) {
  ThreatdProcess p;
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"}, {"serve", "--help"}, {"migrate", "--help"},
                                                                {"config", "show", "--help"}, {"keys", "create", "--help"},
                                                                {"keys", "list", "--help"}, {"keys", "revoke", "--help"},
                                                                {"version", "--help"}}) {
    auto r = p.Run(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  }
}

TEST(CliE2E, StrictConfigStopsTheStartNamingTheKey) {
  ThreatdProcess p;
  auto r = p.Run({"serve", "--data-dir", p.data_dir(), "--set", "http.prot=9000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown configuration key 'http.prot'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'http.port'"), std::string::npos) << r.err;

  r = p.Run({"serve", "--data-dir", p.data_dir(), "--port", "99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'http.port'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("integer 0..65535"), std::string::npos) << r.err;

  const std::string cfg = p.data_dir() + "/bad.yaml";
  std::ofstream(cfg) << "kafka:\n  bootstrap: localhost:9092\n";
  r = p.Run({"config", "show", "--config", cfg});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'kafka.bootstrap'"), std::string::npos) << r.err;
}

TEST(CliE2E, ConfigShowRedactsSecretsAndNamesSources) {
  ThreatdProcess p;
  p.SetEnv("DATABASE_URL", "postgresql://threatd:hunter2@db.internal:5432/threatd");
  p.SetEnv("KAFKA_TOPIC_REALTIME_DATA", "flows");
  auto r = p.Run({"config", "show", "--port", "9001"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("database.url = postgresql://threatd:***@db.internal:5432/threatd  # the environment (DATABASE_URL)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("kafka.topic_realtime = flows  # the environment (KAFKA_TOPIC_REALTIME_DATA)"), std::string::npos);
  EXPECT_NE(r.out.find("http.port = 9001  # command line"), std::string::npos);
  EXPECT_NE(r.out.find("http.host = 127.0.0.1  # default"), std::string::npos);
}

TEST(CliE2E, MigrateIsIdempotentAndKeysRoundTrip) {
  ThreatdProcess p;
  auto r = p.Run({"migrate", "--data-dir", p.data_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0001"), std::string::npos) << r.out;
  r = p.Run({"migrate", "--data-dir", p.data_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 migration(s) applied now"), std::string::npos) << r.out;

  r = p.Run({"keys", "create", "--name", "grafana", "--role", "viewer", "--data-dir", p.data_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tdk_"), std::string::npos);
  r = p.Run({"keys", "list", "--data-dir", p.data_dir()});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("grafana"), std::string::npos);
  EXPECT_NE(r.out.find("active"), std::string::npos);
  EXPECT_EQ(r.out.find("tdk_"), std::string::npos) << "list never shows secrets";
  r = p.Run({"keys", "revoke", "1", "--data-dir", p.data_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = p.Run({"keys", "list", "--data-dir", p.data_dir()});
  EXPECT_NE(r.out.find("revoked"), std::string::npos) << r.out;
  r = p.Run({"keys", "revoke", "42", "--data-dir", p.data_dir()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("42"), std::string::npos) << r.err;
  r = p.Run({"keys", "create", "--name", "x", "--role", "root", "--data-dir", p.data_dir()});
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace threatd::testing
