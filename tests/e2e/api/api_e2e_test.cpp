// The e2e API suite, once per backend (SQLite; PostgreSQL on the CTest
// fixture `postgres`), a fresh service and database per test. One test per
// route group, plus one that runs every group on one service and fails for
// each documented operation it never exercised, and one that checks that
// every protected operation refuses an anonymous caller.
#include <gtest/gtest.h>

#include <regex>

#include "api_groups.h"

namespace threatd::testing {
namespace {

class ApiE2E : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string error;
    bool skip = false;
    session_ = ApiSession::Start(GetParam(), &error, &skip);
    if (skip) GTEST_SKIP() << error;
    ASSERT_TRUE(session_) << error;
  }
  void TearDown() override { session_.reset(); }

  std::unique_ptr<ApiSession> session_;
};

TEST_P(ApiE2E, SystemAuthKeysAudit) { ExerciseSystem(*session_); }
TEST_P(ApiE2E, UploadsAndPredictions) { ExercisePredictions(*session_); }
TEST_P(ApiE2E, WhitelistAndSources) { ExerciseConfig(*session_); }
TEST_P(ApiE2E, ModelRegistry) { ExerciseModels(*session_); }
TEST_P(ApiE2E, TestStreamAndRealtime) { ExerciseStream(*session_); }
TEST_P(ApiE2E, SelfHealing) { ExerciseHealing(*session_); }

TEST_P(ApiE2E, EveryDocumentedOperationIsExercised) {
  ExerciseSystem(*session_);
  ExercisePredictions(*session_);
  ExerciseConfig(*session_);
  ExerciseModels(*session_);
  ExerciseStream(*session_);
  ExerciseHealing(*session_);
  // A WebSocket upgrade is not a plain GET: its handshake was exercised above.
  std::vector<std::string> missing;
  for (const auto& op : session_->Uncovered())
    if (op != "GET /ws/realtime") missing.push_back(op);
  for (const auto& op : missing) ADD_FAILURE() << "documented operation never exercised: " << op;
  EXPECT_GE(session_->contract().Operations().size(), 40u);
}

TEST_P(ApiE2E, EveryProtectedOperationRefusesAnonymousCallers) {
  ApiSession& s = *session_;
  for (const auto& op : s.contract().Operations()) {
    if (s.contract().IsPublic(op) || op == "GET /ws/realtime") continue;
    const std::string method = op.substr(0, op.find(' '));
    const std::string path = std::regex_replace(op.substr(op.find(' ') + 1), std::regex("\\{[^}]*\\}"), "1");
    auto r = s.Call(method, path, As::kAnonymous, method == "GET" || method == "DELETE" ? "" : "{}");
    EXPECT_EQ(r.status, 401) << op << ": " << r.body.substr(0, 200);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiE2E, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) { return BackendName(p.param); });

}  // namespace
}  // namespace threatd::testing
