// End-to-end on PostgreSQL: detailed health while the database goes away.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/http_client.h"
#include "threatd_process.h"

namespace threatd::testing {
namespace {

using namespace std::chrono_literals;

// A PostgreSQL server of this test's own (scripts/pg-test-server.sh), so the
// test can stop it without disturbing other suites.
class OwnPostgres {
 public:
  OwnPostgres() {
    char tmpl[] = "/tmp/threatd-pg-e2e-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ok_ = Script("start") == 0;
    std::ifstream in(dir_ + "/url");
    std::getline(in, url_);
  }
  ~OwnPostgres() { Script("stop"); }
  int Script(const std::string& cmd) {
    const std::string line =
        ThreatdProcess::SourceDir() + "/scripts/pg-test-server.sh " + cmd + " " + dir_ + " >/dev/null 2>&1";
    return std::system(line.c_str());
  }
  bool ok() const { return ok_ && !url_.empty(); }
  const std::string& url() const { return url_; }

 private:
  std::string dir_, url_;
  bool ok_ = false;
};

TEST(PostgresE2E, DetailedHealthTurnsUnhealthyWhenTheDatabaseStopsAndServiceKeepsAnswering) {
  OwnPostgres pg;
  ASSERT_TRUE(pg.ok()) << "scripts/pg-test-server.sh start failed (is postgresql-15 installed?)";
  ThreatdProcess proc;
  proc.SetEnv("DATABASE_URL", pg.url());
  std::string error;
  ASSERT_TRUE(proc.Start(&error)) << error;
  HttpClient c("127.0.0.1", proc.port());
  auto r = c.Request("GET", "/api/v1/health/detailed");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->json()["checks"]["database"]["dialect"], "postgresql");
  EXPECT_EQ(r->json()["checks"]["database"]["status"], "ok");
  // Authenticated reads work on PostgreSQL too.
  r = c.Request("GET", "/api/v1/keys", {}, {{"Authorization", "Bearer " + proc.admin_key()}});
  EXPECT_EQ(r->status, 200) << r->body;

  pg.Script("stop");
  const auto t0 = std::chrono::steady_clock::now();
  r = c.Request("GET", "/api/v1/health/detailed");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "health must answer promptly";
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(r->json()["status"], "unhealthy");
  EXPECT_EQ(r->json()["checks"]["database"]["status"], "error");
  EXPECT_TRUE(r->json()["checks"]["database"].contains("error"));
  r = c.Request("GET", "/health");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(proc.Stop(), 0);
}

}  // namespace
}  // namespace threatd::testing
