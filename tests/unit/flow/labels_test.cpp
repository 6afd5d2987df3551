#include "flow/labels.h"

#include <gtest/gtest.h>

namespace threatd::flow {
namespace {

TEST(Labels, CanonicalLabelsMapToThemselves) {
  for (auto label : kCanonicalLabels) EXPECT_EQ(NormaliseLabel(label), label);
}

TEST(Labels, Aliases) {
  EXPECT_EQ(NormaliseLabel("Bot"), "Botnet");
  EXPECT_EQ(NormaliseLabel("Botnet"), "Botnet");
  EXPECT_EQ(NormaliseLabel("PortScan"), "Portscan");
  EXPECT_EQ(NormaliseLabel("DoS slowloris"), "DoS Slowloris");
  EXPECT_EQ(NormaliseLabel("Benign"), "BENIGN");
  EXPECT_EQ(NormaliseLabel("normal"), "BENIGN");
  EXPECT_EQ(NormaliseLabel(" BENIGN "), "BENIGN");
  EXPECT_EQ(NormaliseLabel("Infiltration - Portscan"), "Infiltration - Portscan");
  EXPECT_EQ(NormaliseLabel("Infiltration \xE2\x80\x93 Portscan"), "Infiltration - Portscan");
  EXPECT_EQ(NormaliseLabel("Web Attack \xE2\x80\x93 Sql Injection"), "Web Attack - SQL Injection");
  EXPECT_EQ(NormaliseLabel("Web Attack - SQL Injection"), "Web Attack - SQL Injection");
  EXPECT_EQ(NormaliseLabel("Web Attack \xE2\x80\x93 XSS"), "Web Attack - XSS");
  EXPECT_EQ(NormaliseLabel("DoS attacks-Hulk"), "DoS Hulk");
  EXPECT_EQ(NormaliseLabel("FTP-BruteForce"), "FTP-Patator");
}

TEST(Labels, EveryDashOfBruteForce) {
  for (const char* label : {"Web Attack - Brute Force", "Web Attack \xE2\x80\x93 Brute Force",
                            "Web Attack \x96 Brute Force", "Web Attack \xE2\x80\x94 Brute Force",
                            "web attack-brute force"}) {
    EXPECT_EQ(NormaliseLabel(label), "Web Attack - Brute Force") << label;
  }
}

TEST(Labels, UnknownPassesThroughTrimmed) {
  EXPECT_EQ(NormaliseLabel("  Exploits "), "Exploits");
  EXPECT_EQ(NormaliseLabel("DoS Hulk - Attempted"), "DoS Hulk - Attempted");
  EXPECT_FALSE(IsKnownLabel("Exploits"));
  EXPECT_TRUE(IsKnownLabel("Bot"));
  EXPECT_EQ(NormaliseLabel("x\xFF"), "x\xC3\xBF");  // never invalid UTF-8
}

}  // namespace
}  // namespace threatd::flow
