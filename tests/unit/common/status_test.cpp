#include "common/status.h"

#include <gtest/gtest.h>

namespace threatd {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, CarriesCodeMessageAndHint) {
  auto s = Status::NotFound("model 7 does not exist", "list models with GET /api/v1/models");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: model 7 does not exist (hint: list models with GET /api/v1/models)");
  EXPECT_EQ(s.WithContext("activate").message(), "activate: model 7 does not exist");
  EXPECT_FALSE(s.retryable());
  EXPECT_TRUE(Status::Unavailable("db down").retryable());
}

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

Status UseHalf(int v, int* out) {
  auto r = Half(v);
  if (!r) return r.status();
  *out = *r;
  return Status::Ok();
}

TEST(Result, ValueOrStatus) {
  int out = 0;
  EXPECT_TRUE(UseHalf(8, &out).ok());
  EXPECT_EQ(out, 4);
  auto bad = UseHalf(3, &out);
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "odd");
}

}  // namespace
}  // namespace threatd
