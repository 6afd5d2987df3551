// End-to-end: the `threatd` subcommands other than serve.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

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

namespace threatd::testing {
namespace {

// Evaluate reports the value policy's per-column missing counts.
TEST(CliE2E, EvaluateCountsMissingValuesPerColumn) {
  ThreatdProcess p;
  const std::string src = ThreatdProcess::SourceDir();
  const std::string csv = p.data_dir() + "/sim.csv";
  auto r = p.Run({"simulate", "--profile", src + "/models/traffic_profile.json.gz", "--count", "50", "--seed", "3",
                  "--out", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Replace the first data row's flow_bytes_per_s with Infinity.
  std::ifstream in(csv);
  std::string header, first, rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream lines(rest);
  std::getline(lines, header);
  std::getline(lines, first);
  std::string tail((std::istreambuf_iterator<char>(lines)), std::istreambuf_iterator<char>());
  std::vector<std::string> cols, vals;
  for (std::istringstream h(header); std::getline(h, cols.emplace_back(), ',');) {}
  for (std::istringstream v(first); std::getline(v, vals.emplace_back(), ',');) {}
  size_t target = 0;
  while (target < cols.size() && cols[target] != "flow_bytes_per_s") ++target;
  ASSERT_LT(target, vals.size()) << header;
  vals[target] = "Infinity";
  std::string row;
  for (size_t i = 0; i + 1 < vals.size(); ++i) row += (i ? "," : "") + vals[i];
  std::ofstream(csv) << header << "\n" << row << "\n" << tail;

  r = p.Run({"evaluate", "--model", src + "/models/threat_detector.json.gz", "--data", csv, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"], 50);
  EXPECT_EQ(j["missing_values"]["flow_bytes_per_s"]["infinite"], 1) << j["missing_values"].dump();
}

}  // namespace
}  // namespace threatd::testing
