#include "http/error_mapping.h"

#include <gtest/gtest.h>

namespace threatd::http {
namespace {

struct Case {
  ErrorCode code;
  int status;
  const char* name;
};

class ErrorMappingTest : public ::testing::TestWithParam<Case> {};

TEST_P(ErrorMappingTest, StatusAndBodyShape) {
  const Case c = GetParam();
  const Status s(c.code, "something about it", "do this");
  const Response r = ErrorResponse(s);
  EXPECT_EQ(r.status, c.status);
  EXPECT_EQ(r.content_type, "application/json");
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["detail"], "something about it");
  EXPECT_EQ(body["error"]["code"], c.name);
  EXPECT_EQ(body["error"]["message"], "something about it");
  EXPECT_EQ(body["error"]["hint"], "do this");
  const bool retryable = c.status == 429 || c.status == 503 || c.status == 504;
  EXPECT_EQ(body["error"].contains("retryable"), retryable);
  bool has_retry_after = false, has_www_auth = false;
  for (const auto& [k, v] : r.headers) {
    if (k == "Retry-After") has_retry_after = true;
    if (k == "WWW-Authenticate") {
      has_www_auth = true;
      EXPECT_EQ(v, "Bearer");
    }
  }
  EXPECT_EQ(has_retry_after, retryable);
  EXPECT_EQ(has_www_auth, c.status == 401);
}

INSTANTIATE_TEST_SUITE_P(
    AllCodes, ErrorMappingTest,
    ::testing::Values(Case{ErrorCode::kInvalidArgument, 400, "invalid_argument"},
                      Case{ErrorCode::kValidation, 422, "validation_error"},
                      Case{ErrorCode::kUnauthenticated, 401, "unauthenticated"},
                      Case{ErrorCode::kPermissionDenied, 403, "permission_denied"},
                      Case{ErrorCode::kNotFound, 404, "not_found"},
                      Case{ErrorCode::kMethodNotAllowed, 405, "method_not_allowed"},
                      Case{ErrorCode::kConflict, 409, "conflict"},
                      Case{ErrorCode::kPayloadTooLarge, 413, "payload_too_large"},
                      Case{ErrorCode::kUnsupportedMediaType, 415, "unsupported_media_type"},
                      Case{ErrorCode::kTooManyRequests, 429, "too_many_requests"},
                      Case{ErrorCode::kUnavailable, 503, "unavailable"},
                      Case{ErrorCode::kTimeout, 504, "timeout"},
                      Case{ErrorCode::kInternal, 500, "internal"}),
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(ErrorMapping, HintOmittedWhenEmpty) {
  const auto body = ErrorBody(Status::NotFound("model 7 does not exist"));
  EXPECT_FALSE(body["error"].contains("hint"));
}

TEST(ErrorMapping, FromStatusOkIsNoContent) { EXPECT_EQ(Response::FromStatus(Status::Ok()).status, 204); }

Request JsonRequest(std::string body, std::string type = "application/json") {
  Request r;
  r.body = std::move(body);
  if (!type.empty()) r.headers.emplace_back("content-type", type);
  return r;
}

TEST(ParseJsonBody, ParsesObject) {
  auto j = ParseJsonBody(JsonRequest(R"({"a": 1})", "application/json; charset=utf-8"));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["a"], 1);
}

TEST(ParseJsonBody, MissingContentTypeIsAccepted) { EXPECT_TRUE(ParseJsonBody(JsonRequest("[1]", "")).ok()); }

TEST(ParseJsonBody, SyntaxErrorIs400WithPosition) {
  auto j = ParseJsonBody(JsonRequest(R"({"a": })"));
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(HttpStatusFor(j.status().code()), 400);
  EXPECT_NE(j.status().message().find("at byte 7"), std::string::npos) << j.status().message();
}

TEST(ParseJsonBody, EmptyBodyIs400) {
  auto j = ParseJsonBody(JsonRequest(""));
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(HttpStatusFor(j.status().code()), 400);
}

TEST(ParseJsonBody, WrongContentTypeIs415) {
  auto j = ParseJsonBody(JsonRequest("a,b", "text/csv"));
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(HttpStatusFor(j.status().code()), 415);
}

}  // namespace
}  // namespace threatd::http
