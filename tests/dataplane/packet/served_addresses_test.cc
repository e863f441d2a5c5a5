// ServedAddresses (validation, lookups, solicited-node groups) and MacAddress text forms.
#include "dataplane/packet/served_addresses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/packet/mac_address.h"
#include "tests/dataplane/packet/frame_builder.h"

namespace clusterdns::testing {
namespace {

using dataplane::MacAddress;
using dataplane::ServedAddresses;
using ::testing::HasSubstr;

records::IpAddress Ip(const char* text) { return *records::IpAddress::Parse(text); }

TEST(ServedAddresses, LooksUpBothFamilies) {
  auto served = ServedAddresses::Create({Ip("198.18.0.53"), Ip("2001:2::53"), Ip("198.18.0.54")});
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->v4_count(), 2u);
  EXPECT_EQ(served->v6_count(), 1u);
  EXPECT_TRUE(served->HasV4(V4("198.18.0.53").data()));
  EXPECT_TRUE(served->HasV4(V4("198.18.0.54").data()));
  EXPECT_FALSE(served->HasV4(V4("198.18.0.55").data()));
  EXPECT_FALSE(served->HasV4(V4("53.0.18.198").data()));  // byte order matters
  EXPECT_TRUE(served->HasV6(V6("2001:2::53").data()));
  EXPECT_FALSE(served->HasV6(V6("2001:2::54").data()));
  EXPECT_FALSE(served->HasV6(V6("2001:3::53").data()));  // differs in the high half only
}

// ParseIpv4's one pass over an IPv4 header's source and destination (8 bytes, source first).
TEST(ServedAddresses, V4SourceAndDestination) {
  auto served = ServedAddresses::Create({Ip("198.18.0.53"), Ip("198.18.0.54")});
  ASSERT_TRUE(served.ok()) << served.status();
  const auto pair = [](const ServedAddresses& addresses, const char* src, const char* dst) {
    uint8_t b[9];  // unaligned on purpose
    std::memcpy(b + 1, V4(src).data(), 4);
    std::memcpy(b + 5, V4(dst).data(), 4);
    return addresses.V4SourceAndDestination(b + 1);
  };
  constexpr uint32_t kDst = ServedAddresses::kDestinationServed;
  constexpr uint32_t kSrc = ServedAddresses::kSourceServed;
  EXPECT_EQ(pair(*served, "198.18.0.2", "198.18.0.53"), kDst);
  EXPECT_EQ(pair(*served, "198.18.0.2", "198.18.0.54"), kDst);
  EXPECT_EQ(pair(*served, "198.18.0.54", "198.18.0.53"), kDst | kSrc);
  EXPECT_EQ(pair(*served, "198.18.0.53", "198.18.0.53"), kDst | kSrc);
  EXPECT_EQ(pair(*served, "198.18.0.53", "198.18.0.2"), kSrc);
  EXPECT_EQ(pair(*served, "198.18.0.2", "198.18.0.3"), 0u);
  EXPECT_EQ(pair(ServedAddresses(), "198.18.0.53", "198.18.0.53"), 0u);  // serves nothing
}

TEST(ServedAddresses, UnalignedWireBytes) {
  auto served = ServedAddresses::Create({Ip("198.18.0.53"), Ip("2001:2::53")});
  ASSERT_TRUE(served.ok());
  Bytes buf(40, 0);
  const Ip4 v4 = V4("198.18.0.53");
  const Ip6 v6 = V6("2001:2::53");
  for (size_t at = 1; at < 8; ++at) {
    std::copy(v4.begin(), v4.end(), buf.begin() + at);
    EXPECT_TRUE(served->HasV4(buf.data() + at));
    std::copy(v6.begin(), v6.end(), buf.begin() + at);
    EXPECT_TRUE(served->HasV6(buf.data() + at));
  }
}

TEST(ServedAddresses, DuplicatesMergeAndListKeepsOrder) {
  auto served = ServedAddresses::Create(
      {Ip("2001:2::53"), Ip("198.18.0.53"), Ip("198.18.0.53"), Ip("2001:2::53"), Ip("198.18.0.1")});
  ASSERT_TRUE(served.ok());
  std::vector<std::string> texts;
  for (const auto& ip : served->List()) texts.push_back(ip.ToString());
  EXPECT_THAT(texts, ::testing::ElementsAre("198.18.0.53", "198.18.0.1", "2001:2::53"));
}

TEST(ServedAddresses, RejectsAddressesNoUnicastPacketIsSentTo) {
  for (const char* bad : {"0.0.0.0", "127.0.0.1", "224.0.0.1", "239.1.2.3", "255.255.255.255",
                          "240.0.0.1", "::", "::1", "ff02::1", "ff05::53"}) {
    auto served = ServedAddresses::Create({Ip("198.18.0.53"), Ip(bad)});
    ASSERT_FALSE(served.ok()) << bad;
    EXPECT_THAT(served.status().message(), HasSubstr(bad));
  }
  EXPECT_TRUE(ServedAddresses::Create({Ip("fe80::53")}).ok());  // link-local is fine
}

TEST(ServedAddresses, AtMostKMaxPerFamily) {
  std::vector<records::IpAddress> many;
  for (int i = 1; i <= static_cast<int>(ServedAddresses::kMaxPerFamily); ++i) {
    many.push_back(Ip(("198.18.0." + std::to_string(i)).c_str()));
  }
  EXPECT_TRUE(ServedAddresses::Create(many).ok());
  many.push_back(Ip("198.18.1.1"));
  auto served = ServedAddresses::Create(many);
  ASSERT_FALSE(served.ok());
  EXPECT_THAT(served.status().message(), HasSubstr("198.18.1.1"));
}

TEST(ServedAddresses, SolicitedNodeGroups) {
  auto served = ServedAddresses::Create({Ip("2001:2::aa:bbcc"), Ip("fe80::1:2:3")});
  ASSERT_TRUE(served.ok());
  EXPECT_TRUE(served->IsSolicitedNodeGroup(V6("ff02::1:ffaa:bbcc").data()));
  EXPECT_TRUE(served->IsSolicitedNodeGroup(V6("ff02::1:ff02:3").data()));
  EXPECT_FALSE(served->IsSolicitedNodeGroup(V6("ff02::1:ffaa:bbcd").data()));
  EXPECT_FALSE(served->IsSolicitedNodeGroup(V6("ff02::2:ffaa:bbcc").data()));
  EXPECT_FALSE(served->IsSolicitedNodeGroup(V6("ff02::1").data()));
  const Mac group = {0x33, 0x33, 0xff, 0xaa, 0xbb, 0xcc};
  const Mac other = {0x33, 0x33, 0xff, 0xaa, 0xbb, 0xcd};
  const Mac not_solicited = {0x33, 0x33, 0x00, 0xaa, 0xbb, 0xcc};
  EXPECT_TRUE(served->IsSolicitedNodeMac(group.data()));
  EXPECT_FALSE(served->IsSolicitedNodeMac(other.data()));
  EXPECT_FALSE(served->IsSolicitedNodeMac(not_solicited.data()));
  // IPv4 only: no groups at all.
  auto v4 = ServedAddresses::Create({Ip("198.18.0.53")});
  EXPECT_FALSE(v4->IsSolicitedNodeMac(group.data()));
}

TEST(MacAddress, ParseAndFormat) {
  auto mac = MacAddress::Parse("02:00:5E:10:00:0a");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->ToString(), "02:00:5e:10:00:0a");
  EXPECT_EQ(MacAddress::Parse("02-00-5e-10-00-0a"), mac);
  for (const char* bad : {"", "02:00:5e:10:00", "02:00:5e:10:00:0a:", "02:00-5e:10:00:0a",
                          "0g:00:5e:10:00:0a", "02:00:5e:10:00:0", "0200:5e:10:00:0a"}) {
    EXPECT_FALSE(MacAddress::Parse(bad).has_value()) << bad;
  }
  const uint8_t wire[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a};
  EXPECT_TRUE(mac->Equals(wire));
  EXPECT_EQ(MacAddress().ToString(), "00:00:00:00:00:00");
}

}  // namespace
}  // namespace clusterdns::testing
