#include "common/ip_network.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace threatd {
namespace {

std::string Canonical(std::string_view text) {
  auto n = IpNetwork::Parse(text);
  return n.ok() ? n->ToString() : "ERROR: " + n.status().message();
}

TEST(IpNetworkTest, ParsesAddressesAndRangesIntoCanonicalText) {
  EXPECT_EQ(Canonical("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(Canonical("192.0.2.7/32"), "192.0.2.7");
  EXPECT_EQ(Canonical("192.0.2.0/24"), "192.0.2.0/24");
  EXPECT_EQ(Canonical("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(Canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(Canonical("2001:db8::1/128"), "2001:db8::1");
  EXPECT_EQ(Canonical("2001:db8::/32"), "2001:db8::/32");
  EXPECT_EQ(Canonical("::"), "::");
  EXPECT_EQ(Canonical("::/0"), "::/0");
}

TEST(IpNetworkTest, Ipv4MappedIpv6IsTheIpv4Address) {
  EXPECT_EQ(Canonical("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(Canonical("::FFFF:c000:0207"), "192.0.2.7");
  EXPECT_EQ(Canonical("::ffff:192.0.2.0/120"), "192.0.2.0/24");
  EXPECT_EQ(IpNetwork::Parse("::ffff:192.0.2.7")->family(), IpNetwork::Family::kV4);
  EXPECT_FALSE(IpNetwork::Parse("::ffff:0:0/95").ok());
}

TEST(IpNetworkTest, RejectsHostBitsAndSuggestsTheNetwork) {
  auto n = IpNetwork::Parse("10.0.0.5/24");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(n.status().message(), "Invalid IP address or CIDR range: 10.0.0.5/24");
  EXPECT_NE(n.status().hint().find("host bits"), std::string::npos) << n.status().hint();
  EXPECT_NE(n.status().hint().find("10.0.0.0/24"), std::string::npos) << n.status().hint();
  EXPECT_NE(n.status().hint().find("single address 10.0.0.5?"), std::string::npos);
  EXPECT_FALSE(IpNetwork::Parse("2001:db8::1/64").ok());
}

TEST(IpNetworkTest, RejectsHostileInput) {
  const std::vector<std::string> inputs = {"", " ", "192.0.2.7 ", " 192.0.2.7", "192.0.2", "10.1", "192.0.2.256", "192.0.2.07", "1.2.3.4.5",
        "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/08", "192.0.2.0/1000",
        "192.0.2.0/24/24", "2001:db8::/129", "2001:db8:::1", "2001:db8::1::2", "fe80::1%eth0", "localhost",
        "0x7f.0.0.1", "::ffff:300.0.0.1", std::string("192.0.2.7\0", 10), "192.0.2.7\n",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999", std::string(4096, '1'), "\xff\xfe", "' OR 1=1 --"};
  for (const std::string& bad : inputs) {
    auto n = IpNetwork::Parse(bad);
    EXPECT_FALSE(n.ok()) << "accepted '" << bad << "' as " << (n.ok() ? n->ToString() : "");
    if (!n.ok()) {
      EXPECT_EQ(n.status().code(), ErrorCode::kValidation);
      EXPECT_EQ(n.status().message().rfind("Invalid IP address or CIDR range: ", 0), 0u) << n.status().message();
      for (char c : n.status().message()) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "unprintable byte in message";
      EXPECT_LE(n.status().message().size(), 34 + IpNetwork::kMaxTextLength);  // the input is truncated
      EXPECT_FALSE(n.status().hint().empty());
    }
  }
}

TEST(IpNetworkTest, ParseAddressRefusesRanges) {
  EXPECT_TRUE(IpNetwork::ParseAddress("192.0.2.7").ok());
  EXPECT_FALSE(IpNetwork::ParseAddress("192.0.2.0/24").ok());
  EXPECT_FALSE(IpNetwork::ParseAddress("192.0.2.7/32").ok());
}

TEST(IpNetworkTest, ContainsAddressesOfTheSameFamilyOnly) {
  const auto net = *IpNetwork::Parse("192.0.2.0/24");
  EXPECT_TRUE(net.Contains("192.0.2.0"));
  EXPECT_TRUE(net.Contains("192.0.2.255"));
  EXPECT_FALSE(net.Contains("192.0.3.0"));
  EXPECT_FALSE(net.Contains("192.0.1.255"));
  EXPECT_TRUE(net.Contains("::ffff:192.0.2.9"));  // mapped form of a member
  EXPECT_FALSE(net.Contains("2001:db8::1"));
  EXPECT_FALSE(net.Contains("not an address"));
  EXPECT_FALSE(net.Contains("192.0.2.0/24"));  // a range is not an address

  const auto host = *IpNetwork::Parse("192.0.2.7");
  EXPECT_TRUE(host.Contains("192.0.2.7"));
  EXPECT_FALSE(host.Contains("192.0.2.8"));

  const auto odd = *IpNetwork::Parse("10.0.0.0/9");  // a prefix not on a byte boundary
  EXPECT_TRUE(odd.Contains("10.127.255.255"));
  EXPECT_FALSE(odd.Contains("10.128.0.0"));

  const auto v6 = *IpNetwork::Parse("2001:db8::/33");
  EXPECT_TRUE(v6.Contains("2001:db8:7fff::1"));
  EXPECT_FALSE(v6.Contains("2001:db8:8000::1"));
  EXPECT_FALSE(v6.Contains("192.0.2.7"));

  EXPECT_TRUE(IpNetwork::Parse("0.0.0.0/0")->Contains("203.0.113.9"));
  EXPECT_TRUE(IpNetwork::Parse("::/0")->Contains("::1"));
  EXPECT_TRUE(net.Contains(*IpNetwork::Parse("192.0.2.128/25")));
  EXPECT_FALSE(IpNetwork::Parse("192.0.2.128/25")->Contains(net));
}

TEST(IpNetworkTest, CanonicalTextRoundTrips) {
  for (const char* text : {"192.0.2.7", "10.0.0.0/8", "2001:db8::1", "2001:db8:0:1::/64", "::1", "fe80::/10"}) {
    const auto a = *IpNetwork::Parse(text);
    const auto b = IpNetwork::Parse(a.ToString());
    ASSERT_TRUE(b.ok()) << text;
    EXPECT_EQ(a, *b) << text;
  }
}

}  // namespace
}  // namespace threatd

namespace threatd {
namespace {

TEST(IpNetworkSupernet, ClearsHostBitsAndNeverNarrows) {
  EXPECT_EQ(IpNetwork::Parse("2001:db8:1:2:3:4:5:6")->Supernet(64).ToString(), "2001:db8:1:2::/64");
  EXPECT_EQ(IpNetwork::Parse("192.0.2.77")->Supernet(24).ToString(), "192.0.2.0/24");
  EXPECT_EQ(IpNetwork::Parse("192.0.2.0/24")->Supernet(28).ToString(), "192.0.2.0/24");
  EXPECT_EQ(IpNetwork::Parse("192.0.2.77")->Supernet(0).ToString(), "0.0.0.0/0");
}

TEST(IpNetworkOverlaps, EitherContainsTheOther) {
  const auto net = *IpNetwork::Parse("10.1.0.0/16");
  EXPECT_TRUE(net.Overlaps(*IpNetwork::Parse("10.1.2.3")));
  EXPECT_TRUE(IpNetwork::Parse("10.1.2.3")->Overlaps(net));
  EXPECT_TRUE(IpNetwork::Parse("10.0.0.0/8")->Overlaps(net));
  EXPECT_FALSE(net.Overlaps(*IpNetwork::Parse("10.2.0.0/16")));
  EXPECT_FALSE(net.Overlaps(*IpNetwork::Parse("::ffff:a02:0/112")));  // 10.2.0.0/16, mapped
  EXPECT_FALSE(IpNetwork::Parse("::/0")->Overlaps(net));                // families never overlap
}

}  // namespace
}  // namespace threatd
