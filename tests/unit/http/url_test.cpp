#include "http/url.h"

#include <gtest/gtest.h>

#include "http/request.h"
#include "http/request_id.h"

namespace threatd::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlus) {
  std::string out;
  ASSERT_TRUE(PercentDecode("a%20b+c%2F%e2%82%ac", true, &out));
  EXPECT_EQ(out, "a b c/\xe2\x82\xac");
  ASSERT_TRUE(PercentDecode("a+b", false, &out));
  EXPECT_EQ(out, "a+b");
}

TEST(PercentDecode, RejectsTruncatedOrNonHex) {
  std::string out;
  EXPECT_FALSE(PercentDecode("%", false, &out));
  EXPECT_FALSE(PercentDecode("%4", false, &out));
  EXPECT_FALSE(PercentDecode("%g1", false, &out));
}

TEST(ParseQuery, KeepsOrderRepeatsAndFlags) {
  auto q = ParseQuery("limit=10&tag=a&tag=b&flag&empty=&x%5B%5D=1+2");
  ASSERT_TRUE(q.ok());
  const Params expected = {{"limit", "10"}, {"tag", "a"}, {"tag", "b"}, {"flag", ""}, {"empty", ""}, {"x[]", "1 2"}};
  EXPECT_EQ(*q, expected);
}

TEST(ParseQuery, SkipsEmptyPairs) {
  auto q = ParseQuery("&&a=1&");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->size(), 1u);
}

TEST(ParseQuery, BadEscapeNamesTheParameter) {
  auto q = ParseQuery("ok=1&bad=%zz");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(q.status().message().find("'bad'"), std::string::npos);
}

TEST(SplitTarget, PathAndQuery) {
  std::string_view p, q;
  SplitTarget("/a/b?x=1&y=2", &p, &q);
  EXPECT_EQ(p, "/a/b");
  EXPECT_EQ(q, "x=1&y=2");
  SplitTarget("/a", &p, &q);
  EXPECT_EQ(p, "/a");
  EXPECT_TRUE(q.empty());
}

TEST(RequestAccessors, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Content-Type", "application/json"}, {"x-request-id", "abc"}};
  r.query = {{"limit", "5"}};
  r.path_params = {{"id", "7"}};
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("X-Request-ID"), "abc");
  EXPECT_TRUE(r.Header("Authorization").empty());
  EXPECT_FALSE(r.HasHeader("Authorization"));
  EXPECT_EQ(r.Query("limit").value(), "5");
  EXPECT_FALSE(r.Query("offset").has_value());
  EXPECT_EQ(r.PathParam("id"), "7");
}

TEST(RequestId, SaneIdsAreKept) {
  EXPECT_EQ(RequestIdFor("abc-DEF_123"), "abc-DEF_123");
  EXPECT_EQ(RequestIdFor(std::string(64, 'a')), std::string(64, 'a'));
}

TEST(RequestId, InsaneIdsAreReplaced) {
  for (std::string bad : {std::string(), std::string(65, 'a'), std::string("a b"), std::string("x\r\nInjected: 1"),
                          std::string("id;drop"), std::string("\xc3\xa9")}) {
    const std::string id = RequestIdFor(bad);
    EXPECT_NE(id, bad);
    EXPECT_TRUE(IsSaneRequestId(id)) << id;
    EXPECT_EQ(id.size(), 16u);
  }
}

}  // namespace
}  // namespace threatd::http
