#include "healing/nft_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace threatd::healing::nft {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NftErrors, KeepOnlyTheErrorLinesNotTheEchoedCommand) {
  const std::string huge_command(100000, 'x');
  const std::string errors = "Error: Could not process rule: File exists\n" + huge_command + "\n      ^^^^^\n" +
                             "/dev/stdin:3:1-4: Error: syntax error, unexpected table\n";
  EXPECT_EQ(SummarizeErrors(errors),
            "Error: Could not process rule: File exists; Error: syntax error, unexpected table");
  EXPECT_EQ(SummarizeErrors(""), "nft failed without a message");
}

TEST(NftErrors, PermissionAndMissingKernelSupportSayWhatToDo) {
  auto perm = UnusableNftables("Error: Could not process rule: Operation not permitted");
  ASSERT_TRUE(perm.has_value());
  EXPECT_THAT(perm->message(), HasSubstr("CAP_NET_ADMIN"));
  EXPECT_THAT(perm->message(), HasSubstr("log backend"));
  auto missing = UnusableNftables("Error: Could not process rule: Operation not supported");
  ASSERT_TRUE(missing.has_value());
  EXPECT_THAT(missing->message(), HasSubstr("modprobe nf_tables"));
  EXPECT_THAT(missing->message(), Not(HasSubstr("CAP_NET_ADMIN")));
  EXPECT_FALSE(UnusableNftables("Error: Could not process rule: File exists").has_value());
}

}  // namespace
}  // namespace threatd::healing::nft
