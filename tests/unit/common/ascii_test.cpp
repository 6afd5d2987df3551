#include "common/ascii.h"

#include <gtest/gtest.h>

namespace threatd {
namespace {

TEST(AsciiTest, LowersAsciiLettersOnly) {
  EXPECT_EQ(AsciiLower("Web Attack - XSS"), "web attack - xss");
  EXPECT_EQ(AsciiLower("ÉCOLE-Z@[`{"), "École-z@[`{") << "bytes beyond ASCII and the neighbours of A-Z unchanged";
  static_assert(AsciiLower('Q') == 'q' && AsciiLower('@') == '@' && AsciiLower('[') == '[');
}

TEST(AsciiTest, ComparesIgnoringCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-TYPE"));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Type", "Content-Typ"));
  EXPECT_FALSE(EqualsIgnoreCase("a@", "A`")) << "'@' and '`' are not a case pair";
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_TRUE(StartsWithIgnoreCase("Bearer tdk_x", "bearer "));
  EXPECT_FALSE(StartsWithIgnoreCase("Bear", "bearer "));
  EXPECT_TRUE(EndsWithIgnoreCase("flows.CSV.GZ", ".csv.gz"));
  EXPECT_FALSE(EndsWithIgnoreCase("gz", ".csv.gz"));
  static_assert(EqualsIgnoreCase("PortScan", "portscan"));
}

}  // namespace
}  // namespace threatd
