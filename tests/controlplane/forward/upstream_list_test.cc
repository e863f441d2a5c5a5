// --upstream parsing and resolv.conf reading (temp files only: never the host's resolv.conf).
#include "controlplane/forward/upstream_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace clusterdns::testing {
namespace {

using controlplane::ParseResolvConf;
using controlplane::ParseUpstreamFlag;
using controlplane::ReadResolvConfNameservers;
using controlplane::UpstreamConfig;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Texts(const UpstreamConfig& c) {
  std::vector<std::string> out;
  for (const auto& a : c.upstreams) out.push_back(a.ToString());
  return out;
}

TEST(ParseUpstreamFlag, OneIpv4AddressGetsPort53) {
  auto c = ParseUpstreamFlag("198.18.0.53");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->none);
  EXPECT_THAT(Texts(*c), ElementsAre("198.18.0.53:53"));
}

TEST(ParseUpstreamFlag, ListsWithPortsAndBothIpv6Forms) {
  auto c = ParseUpstreamFlag("198.18.0.53:5353,[2001:2::53]:54,2001:2::1,[2001:2::2]");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Texts(*c), ElementsAre("198.18.0.53:5353", "[2001:2::53]:54", "[2001:2::1]:53",
                                     "[2001:2::2]:53"));
  EXPECT_EQ(c->upstreams[1].family(), AF_INET6);
}

TEST(ParseUpstreamFlag, None) {
  auto c = ParseUpstreamFlag("none");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->none);
  EXPECT_THAT(c->upstreams, IsEmpty());
}

struct BadFlag {
  const char* text;
  const char* message;  // a part of the error
};

class ParseUpstreamFlagErrors : public ::testing::TestWithParam<BadFlag> {};

TEST_P(ParseUpstreamFlagErrors, NameTheOffendingText) {
  auto c = ParseUpstreamFlag(GetParam().text);
  ASSERT_FALSE(c.ok()) << GetParam().text;
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseUpstreamFlagErrors,
    ::testing::Values(
        BadFlag{"", "--upstream \"\": empty"},
        BadFlag{"198.18.0.300", "\"198.18.0.300\" is not an IPv4 or IPv6 address"},
        BadFlag{"dns.example", "\"dns.example\" is not an IPv4 or IPv6 address"},
        BadFlag{"198.18.0.53:", "--upstream \"198.18.0.53:\": port must be"},
        BadFlag{"198.18.0.53:0", "port must be a number from 1 to 65535"},
        BadFlag{"198.18.0.53:65536", "port must be"},
        BadFlag{"198.18.0.53:5x", "--upstream \"198.18.0.53:5x\": port"},
        BadFlag{"198.18.0.53,,198.18.0.54", "empty entry"},
        BadFlag{"198.18.0.53,", "empty entry"},
        BadFlag{"[2001:2::53", "missing ']'"},
        BadFlag{"[2001:2::53]x", "expected [IPv6]:PORT"},
        BadFlag{"[198.18.0.53]:53", "\"198.18.0.53\" is not an IPv6 address"},
        BadFlag{"fe80::1%eth0", "zones"},
        BadFlag{"none,198.18.0.53", "cannot be combined"},
        BadFlag{"198.18.0.53,198.18.0.53:53", "--upstream \"198.18.0.53:53\": listed twice"}));

// A temp file removed at scope exit, also when the test fails.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/cdns_resolv_conf_XXXXXX";
    const int fd = ::mkstemp(name);
    path_ = name;
    if (fd >= 0) {
      [[maybe_unused]] const ssize_t n = ::write(fd, content.data(), content.size());
      ::close(fd);
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ReadResolvConfNameservers, ReadsNameserverLinesInOrder) {
  TempFile f(
      "# generated\n"
      "search default.svc.cluster.local svc.cluster.local\n"
      "nameserver 198.18.0.53\n"
      "nameserver\t2001:2::53   # trailing comment\n"
      "; another comment style\n"
      "options ndots:5\n"
      "nameserver 198.18.0.54\r\n");
  auto c = ReadResolvConfNameservers(f.path());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Texts(*c), ElementsAre("198.18.0.53:53", "[2001:2::53]:53", "198.18.0.54:53"));
  EXPECT_THAT(c->warnings, IsEmpty());
}

TEST(ReadResolvConfNameservers, SkipsZonesAndJunkWithWarnings) {
  TempFile f(
      "nameserver fe80::1%eth0\n"
      "nameserver dns.example\n"
      "nameserver\n"
      "nameserver 198.18.0.53\n");
  auto c = ReadResolvConfNameservers(f.path());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Texts(*c), ElementsAre("198.18.0.53:53"));
  ASSERT_EQ(c->warnings.size(), 3u);
  EXPECT_THAT(c->warnings[0],
              HasSubstr(f.path() + ":1: nameserver \"fe80::1%eth0\" has an IPv6 zone"));
  EXPECT_THAT(c->warnings[1], HasSubstr(":2: nameserver \"dns.example\" is not an IPv4 or IPv6"));
  EXPECT_THAT(c->warnings[2], HasSubstr(":3: nameserver without an address"));
}

TEST(ReadResolvConfNameservers, KeepsTheFirstThreeAsGlibcDoes) {
  auto c = ParseResolvConf(
      "nameserver 198.18.0.1\nnameserver 198.18.0.2\nnameserver 198.18.0.1\n"
      "nameserver 198.18.0.3\nnameserver 198.18.0.4\n",
      "test.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Texts(*c), ElementsAre("198.18.0.1:53", "198.18.0.2:53", "198.18.0.3:53"));
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0], HasSubstr("test.conf:5"));
}

TEST(ReadResolvConfNameservers, NoNameserverIsAnErrorNamingTheFile) {
  TempFile f("search example.com\noptions ndots:5\n");
  auto c = ReadResolvConfNameservers(f.path());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(f.path() + ": no usable nameserver line"));

  TempFile only_zone("nameserver fe80::1%eth0\n");
  c = ReadResolvConfNameservers(only_zone.path());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("IPv6 zone"));

  TempFile empty("");
  EXPECT_FALSE(ReadResolvConfNameservers(empty.path()).ok());
}

TEST(ReadResolvConfNameservers, MissingFileIsAnErrorNamingIt) {
  auto c = ReadResolvConfNameservers("/nonexistent/cdns/resolv.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/cdns/resolv.conf"));
}

}  // namespace
}  // namespace clusterdns::testing
