#include "flow/timestamp.h"

#include <gtest/gtest.h>

namespace threatd::flow {
namespace {

// 2017-07-03T00:00:00Z
constexpr int64_t kJuly3 = 1499040000LL * 1000000;

TEST(Timestamp, Iso) {
  EXPECT_EQ(ParseFlowTimestamp("2017-07-03 11:57:51.590705"),
            kJuly3 + (11 * 3600 + 57 * 60 + 51) * 1000000LL + 590705);
  EXPECT_EQ(ParseFlowTimestamp("2017-07-03T11:57:51Z"), kJuly3 + (11 * 3600 + 57 * 60 + 51) * 1000000LL);
  EXPECT_EQ(ParseFlowTimestamp("2017-07-03 00:00:00.5"), kJuly3 + 500000);
}

TEST(Timestamp, DayFirstCicIds2017) {
  EXPECT_EQ(ParseFlowTimestamp("3/7/2017 8:55"), kJuly3 + (8 * 3600 + 55 * 60) * 1000000LL);
  EXPECT_EQ(ParseFlowTimestamp("03/07/2017 08:55:58"), kJuly3 + (8 * 3600 + 55 * 60 + 58) * 1000000LL);
}

TEST(Timestamp, TwelveHourClock) {
  EXPECT_EQ(ParseFlowTimestamp("03/07/2017 08:55:58 PM"), kJuly3 + (20 * 3600 + 55 * 60 + 58) * 1000000LL);
  EXPECT_EQ(ParseFlowTimestamp("03/07/2017 12:00:00 AM"), kJuly3);
}

TEST(Timestamp, Rejects) {
  for (const char* text : {"", "yesterday", "2017-13-01 00:00:00", "3/7/17 8:55", "2017-07-03",
                           "03/07/2017 13:00:00 PM", "2017-07-03 10:00:00 extra"}) {
    EXPECT_FALSE(ParseFlowTimestamp(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace threatd::flow
