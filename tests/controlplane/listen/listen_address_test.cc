// ParseListenAddress and DnsListeners::Bind errors.
#include "controlplane/listen/listen_address.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/listen/dns_listeners.h"
#include "records/table_publisher.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::HasSubstr;

TEST(ParseListenAddress, ReadsIpv4) {
  auto a = ParseListenAddress("198.18.0.1:53");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 53);
  EXPECT_EQ(a->length, sizeof(sockaddr_in));
  EXPECT_EQ(reinterpret_cast<const sockaddr_in*>(&a->storage)->sin_addr.s_addr,
            inet_addr("198.18.0.1"));
  EXPECT_EQ(a->ToString(), "198.18.0.1:53");
  EXPECT_FALSE(a->is_wildcard());
}

TEST(ParseListenAddress, ReadsBracketedIpv6) {
  auto a = ParseListenAddress("[2001:2::1]:5353");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->port(), 5353);
  EXPECT_EQ(a->length, sizeof(sockaddr_in6));
  EXPECT_EQ(a->ToString(), "[2001:2::1]:5353");
}

TEST(ParseListenAddress, PortZeroAndWildcards) {
  auto a = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port(), 0);
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:53")->is_wildcard());
  EXPECT_TRUE(ParseListenAddress("[::]:53")->is_wildcard());
  EXPECT_EQ(ParseListenAddress("[::]:53")->ToString(), "[::]:53");
}

TEST(ParseListenAddress, ErrorsNameTheValue) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"198.18.0.1", "expected ADDR:PORT"},
      {"198.18.0.1:", "port must be a number"},
      {"198.18.0.1:65536", "port must be a number from 0 to 65535"},
      {"198.18.0.1:-1", "port must be a number"},
      {"198.18.0.1:5x", "port must be a number"},
      {"198.18.0.300:53", "is not an IPv4 address"},
      {"kube-dns:53", "is not an IPv4 address"},
      {":53", "missing address"},
      {"2001:2::1:53", "needs brackets"},
      {"[2001:2::1]53", "expected ADDR:PORT"},
      {"[2001:2::1", "missing ']'"},
      {"[198.18.0.1]:53", "is not an IPv6 address"},
      {"", "expected ADDR:PORT"},
  };
  for (const Case& c : cases) {
    auto a = ParseListenAddress(c.text);
    ASSERT_FALSE(a.ok()) << c.text;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(a.status().message()),
                HasSubstr(std::string("--listen \"") + c.text + "\": "));
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(c.why)) << c.text;
  }
}

TEST(DnsListenersBind, NamesTheAddressWhenThePortIsTaken) {
  records::EpochGracePeriod grace(4);
  records::TablePublisher publisher(&grace);
  auto first = DnsListeners::Bind({*ParseListenAddress("127.0.0.1:0")}, &publisher, &grace, 0, {});
  ASSERT_TRUE(first.ok()) << first.status();
  const ListenAddress taken = (*first)->bound()[0];
  ASSERT_NE(taken.port(), 0);
  EXPECT_EQ((*first)->reader_count(), 2u);
  EXPECT_EQ((*first)->counters().size(), 2u);

  auto second = DnsListeners::Bind({taken}, &publisher, &grace, 2, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(std::string(second.status().message()),
            "--listen " + taken.ToString() + ": bind udp: Address already in use");
}

TEST(DnsListenersBind, NonLocalAddressFails) {
  records::EpochGracePeriod grace(4);
  records::TablePublisher publisher(&grace);
  // 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails with EADDRNOTAVAIL.
  auto bound = DnsListeners::Bind({*ParseListenAddress("192.0.2.1:0")}, &publisher, &grace, 0, {});
  ASSERT_FALSE(bound.ok());
  EXPECT_THAT(std::string(bound.status().message()),
              HasSubstr("--listen 192.0.2.1:0: bind udp: Cannot assign requested address"));
}

TEST(DnsListenersBind, PortZeroGivesUdpAndTcpTheSamePort) {
  records::EpochGracePeriod grace(4);
  records::TablePublisher publisher(&grace);
  auto bound = DnsListeners::Bind(
      {*ParseListenAddress("127.0.0.1:0"), *ParseListenAddress("127.0.0.1:0")}, &publisher,
      &grace, 0, {});
  ASSERT_TRUE(bound.ok()) << bound.status();
  const auto addresses = (*bound)->bound();
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_NE(addresses[0].port(), addresses[1].port());
  EXPECT_EQ((*bound)->reader_count(), 4u);
  EXPECT_EQ((*bound)->threads().size(), 4u);
  (*bound)->Stop();
  (*bound)->Stop();  // idempotent, and fine without Start()
}

}  // namespace
}  // namespace clusterdns::controlplane
