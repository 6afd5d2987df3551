#include "common/clock.h"

#include <fmt/format.h>
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

TEST(Clock, SplitUtcGivesTheCalendarFields) {
  auto fields = [](int64_t us) {
    const UtcFields u = SplitUtc(us);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", u.year, u.month, u.day, u.hour, u.minute, u.second,
                       u.microsecond);
  };
  EXPECT_EQ(fields(0), "1970-01-01 00:00:00.000000");
  EXPECT_EQ(fields(1'709'164'800'000'000 + 86'399'999'999), "2024-02-29 23:59:59.999999") << "a leap day's last µs";
  EXPECT_EQ(fields(1'709'251'200'000'000), "2024-03-01 00:00:00.000000");
  EXPECT_EQ(fields(-1), "1969-12-31 23:59:59.999999") << "before 1970: toward the past, never a negative field";
  EXPECT_EQ(fields(-86'400'000'000), "1969-12-31 00:00:00.000000");
  EXPECT_EQ(fields(1'795'479'293'123'456), "2026-11-24 00:14:53.123456");
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
