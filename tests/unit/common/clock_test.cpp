#include "common/clock.h"

#include <gtest/gtest.h>

namespace threatd {
namespace {

TEST(Clock, FakeClockMovesOnlyWhenAdvanced) {
  FakeClock clock;
  const auto t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(std::chrono::seconds(90));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(90));
  EXPECT_EQ(FormatIso8601(clock.Now()), "2026-01-01T00:01:30.000Z");
}

TEST(Clock, Iso8601RoundTrip) {
  Clock::WallTime t;
  ASSERT_TRUE(ParseIso8601("2026-11-22T20:34:50.123Z", &t));
  EXPECT_EQ(FormatIso8601(t), "2026-11-22T20:34:50.123Z");
  ASSERT_TRUE(ParseIso8601("2026-11-22 21:34:50+01:00", &t));
  EXPECT_EQ(FormatIso8601(t), "2026-11-22T20:34:50.000Z");
  ASSERT_TRUE(ParseIso8601("2017-07-07", &t));
  EXPECT_EQ(FormatIso8601(t), "2017-07-07T00:00:00.000Z");
}

TEST(Clock, Iso8601RejectsGarbage) {
  Clock::WallTime t;
  EXPECT_FALSE(ParseIso8601("", &t));
  EXPECT_FALSE(ParseIso8601("yesterday", &t));
  EXPECT_FALSE(ParseIso8601("2026-13-01", &t));
  EXPECT_FALSE(ParseIso8601("2026-11-22T25:00:00Z", &t));
  EXPECT_FALSE(ParseIso8601("2026-11-22T10:00:00Zjunk", &t));
}

TEST(Clock, Iso8601RefusesYearsTheClockCannotHold) {
  Clock::WallTime t;
  // 64-bit nanoseconds since 1970 end in April 2262: later years used to wrap into the past.
  EXPECT_FALSE(ParseIso8601("2999-01-01T00:00:00Z", &t));
  EXPECT_FALSE(ParseIso8601("1600-01-01T00:00:00Z", &t));
  ASSERT_TRUE(ParseIso8601("2261-12-31T23:59:59Z", &t));
  EXPECT_GT(t, Clock::WallTime{});
}

}  // namespace
}  // namespace threatd
