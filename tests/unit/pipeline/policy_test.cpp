#include "pipeline/policy.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace threatd::pipeline {
namespace {

std::optional<storage::NewAction> Decide(std::string_view cls, bool attack = true, std::string src = "203.0.113.7") {
  flow::RowIdentifiers ids;
  ids.src_ip = std::move(src);
  return LogOnlyPolicy().Decide({ids, attack ? 0.9f : 0.1f, attack, cls, 0.8f});
}

TEST(LogOnlyPolicy, NeverActsOnBenignTraffic) {
  EXPECT_FALSE(Decide("BENIGN", /*attack=*/false));
  EXPECT_FALSE(Decide("", /*attack=*/false));
  // The detector flags it but the classifier says BENIGN: no action.
  EXPECT_FALSE(Decide("BENIGN"));
  EXPECT_FALSE(Decide("benign"));
}

TEST(LogOnlyPolicy, BlocksTheRealSourceNotAPlaceholder) {
  auto a = Decide("SSH-Patator");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->action_type, "block_ip");
  EXPECT_EQ(a->status, "logged");
  EXPECT_EQ(nlohmann::json::parse(*a->action_params_json)["ip"], "203.0.113.7");
  EXPECT_NE(a->action_description.find("203.0.113.7"), std::string::npos);
}

TEST(LogOnlyPolicy, WithoutASourceAddressItAlertsInsteadOfBlocking) {
  auto a = Decide("DoS Hulk", true, "");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->action_type, "alert_admin");
}

TEST(LogOnlyPolicy, KeepsTheOriginalMappingForOtherClasses) {
  EXPECT_EQ(Decide("DDoS")->action_type, "restart_service");
  EXPECT_EQ(Decide("DoS slowloris")->action_type, "restart_service");  // any spelling of the label
  EXPECT_EQ(Decide("Portscan")->action_type, "alert_admin");
  EXPECT_EQ(Decide("Botnet")->action_type, "alert_admin");
  // Detector only (no classifier): an alert.
  EXPECT_EQ(Decide("")->action_type, "alert_admin");
}

}  // namespace
}  // namespace threatd::pipeline
