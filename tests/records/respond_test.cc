// respond() against the kube-dns walkthrough cluster: the answers of DESIGN.md "The zone" and
// the header rules of "respond(): one query". Every response is re-decoded by the independent
// decoder in tests/support.
#include "records/respond.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "records/dns_constants.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"

namespace clusterdns::testing {
namespace {

using records::kRcodeNoError;
using records::kRcodeNxDomain;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class RespondTest : public ::testing::Test {
 protected:
  void SetUp() override { table_ = KubeDnsBuilder()->Build(); }
  std::shared_ptr<const records::AnswerTable> table_;
};

TEST_F(RespondTest, RedisMasterA) {
  Asked a = Ask(*table_, "redis-master.default.svc.cluster.local", records::kTypeA);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_TRUE(a.message.aa);
  EXPECT_TRUE(a.message.qr);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("redis-master.default.svc.cluster.local. 30 IN A 10.254.7.160"));
  EXPECT_EQ(a.message.answer[0].owner_pointer, 12);
}

TEST_F(RespondTest, LegacyNameAnswersTheSame) {
  Asked a = Ask(*table_, "redis-master.default.cluster.local", records::kTypeA);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("redis-master.default.cluster.local. 30 IN A 10.254.7.160"));
}

TEST_F(RespondTest, LegacyNamesCanBeTurnedOff) {
  auto config = KubeDnsConfig();
  config.legacy_names = false;
  auto table = KubeDnsBuilder(config)->Build();
  Asked a = Ask(*table, "redis-master.default.cluster.local", records::kTypeA);
  EXPECT_EQ(a.message.rcode, kRcodeNxDomain);
}

TEST_F(RespondTest, KubeDnsA) {
  Asked a = Ask(*table_, "kube-dns.kube-system.svc.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.3"));
}

TEST_F(RespondTest, NamedPortSrvWithAdditionalAddress) {
  Asked a = Ask(*table_, "_dns._udp.kube-dns.kube-system.svc.cluster.local", records::kTypeSrv);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 IN SRV 0 100 53 "
                          "kube-dns.kube-system.svc.cluster.local."));
  EXPECT_THAT(SectionTexts(a.message.additional),
              ElementsAre("kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.3"));
}

TEST_F(RespondTest, SrvAtServiceNameListsEveryPort) {
  // dns 53/UDP and dns-tcp 53/TCP give the same SRV rdata: an RRset is a set, so one record.
  Asked a = Ask(*table_, "kube-dns.kube-system.svc.cluster.local", records::kTypeSrv);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("kube-dns.kube-system.svc.cluster.local. 30 IN SRV 0 100 53 "
                          "kube-dns.kube-system.svc.cluster.local."));
  Asked redis = Ask(*table_, "redis-master.default.svc.cluster.local", records::kTypeSrv);
  EXPECT_THAT(AnswerTexts(redis.message),
              ElementsAre("redis-master.default.svc.cluster.local. 30 IN SRV 0 100 6379 "
                          "redis-master.default.svc.cluster.local."));
  // Named and unnamed ports alike.
  auto builder = KubeDnsBuilder();
  builder->UpsertService(ClusterIpService("default", "web", {Ip("10.254.3.3")},
                                          {{"http", records::Protocol::kTcp, 80},
                                           {"", records::Protocol::kTcp, 8080}}));
  auto table = builder->Build();
  Asked web = Ask(*table, "web.default.svc.cluster.local", records::kTypeSrv);
  EXPECT_THAT(AnswerTexts(web.message),
              UnorderedElementsAre(
                  "web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local.",
                  "web.default.svc.cluster.local. 30 IN SRV 0 100 8080 web.default.svc.cluster.local."));
  EXPECT_THAT(SectionTexts(web.message.additional),
              ElementsAre("web.default.svc.cluster.local. 30 IN A 10.254.3.3"));
}

// The target is written in full (see SrvTargetsAreNeverCompressed), so the legacy name's answer,
// which is its svc twin's bytes, names the svc form; the additional owner still points into the
// legacy question. Both records are true, and the target resolves.
TEST_F(RespondTest, LegacySrvTargetsTheSvcName) {
  Asked a = Ask(*table_, "_dns._udp.kube-dns.kube-system.cluster.local", records::kTypeSrv);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("_dns._udp.kube-dns.kube-system.cluster.local. 30 IN SRV 0 100 53 "
                          "kube-dns.kube-system.svc.cluster.local."));
  EXPECT_THAT(SectionTexts(a.message.additional),
              ElementsAre("kube-dns.kube-system.cluster.local. 30 IN A 10.254.0.3"));
}

// RFC 2782: "name compression is not to be used for this field"; RFC 3597 4: servers MUST NOT
// compress names in the RDATA of types after RFC 1035. Knot, NSD and CoreDNS write it in full.
TEST_F(RespondTest, SrvTargetsAreNeverCompressed) {
  for (const char* name : {"_dns._udp.kube-dns.kube-system.svc.cluster.local",
                           "kube-dns.kube-system.svc.cluster.local",
                           "_http._tcp.nginx.default.svc.cluster.local",
                           "_http._tcp.nginx.default.cluster.local"}) {
    Asked a = Ask(*table_, name, records::kTypeSrv);
    ASSERT_FALSE(a.message.answer.empty()) << name;
    for (const auto& rr : a.message.answer) {
      ASSERT_EQ(rr.type, records::kTypeSrv);
      const std::vector<uint8_t>& rdata = rr.rdata_raw;
      size_t at = 6;  // priority, weight, port
      while (at < rdata.size() && rdata[at] != 0) {
        ASSERT_LT(rdata[at], 64) << name << ": a pointer in the target at rdata byte " << at;
        at += 1 + rdata[at];
      }
      EXPECT_EQ(at + 1, rdata.size()) << name << ": the target ends with the root";
    }
  }
}

TEST_F(RespondTest, ReversePtr) {
  Asked a = Ask(*table_, "160.7.254.10.in-addr.arpa", records::kTypePtr);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("160.7.254.10.in-addr.arpa. 30 IN PTR redis-master.default.svc.cluster.local."));
}

TEST_F(RespondTest, Ipv6ReversePtr) {
  Asked a = Ask(*table_,
                "9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.5.2.0.0.1.0.0.0.0.d.f.ip6.arpa",
                records::kTypePtr);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.5.2.0.0.1.0.0.0.0.d.f.ip6.arpa. "
                          "30 IN PTR dual.default.svc.cluster.local."));
}

TEST_F(RespondTest, SearchPathExpansionIsNxdomainWithSoa) {
  Asked a = Ask(*table_, "kube-dns.default.svc.cluster.local", records::kTypeA);
  EXPECT_EQ(a.message.rcode, kRcodeNxDomain);
  EXPECT_TRUE(a.message.aa);
  EXPECT_TRUE(a.message.answer.empty());
  EXPECT_THAT(SectionTexts(a.message.authority),
              ElementsAre("cluster.local. 30 IN SOA ns.dns.cluster.local. "
                          "hostmaster.cluster.local. 12345 7200 1800 86400 30"));
}

TEST_F(RespondTest, ExternalSearchExpansionIsNxdomain) {
  for (const char* name : {"google.com.default.svc.cluster.local", "google.com.svc.cluster.local",
                           "google.com.cluster.local"}) {
    Asked a = Ask(*table_, name, records::kTypeA);
    EXPECT_EQ(a.message.rcode, kRcodeNxDomain) << name;
    ASSERT_EQ(a.message.authority.size(), 1u) << name;
    EXPECT_EQ(a.message.authority[0].name, "cluster.local.");
  }
}

TEST_F(RespondTest, MissingTypeIsNodata) {
  Asked a = Ask(*table_, "redis-master.default.svc.cluster.local", records::kTypeAaaa);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_TRUE(a.message.answer.empty());
  EXPECT_EQ(a.message.authority.size(), 1u);
  EXPECT_EQ(a.message.authority[0].type, records::kTypeSoa);
}

TEST_F(RespondTest, EmptyNonTerminalsAreNodata) {
  for (const char* name : {"svc.cluster.local", "default.svc.cluster.local",
                           "_udp.kube-dns.kube-system.svc.cluster.local", "kube-system.cluster.local"}) {
    Asked a = Ask(*table_, name, records::kTypeA);
    EXPECT_EQ(a.message.rcode, kRcodeNoError) << name;
    EXPECT_TRUE(a.message.answer.empty()) << name;
    EXPECT_EQ(a.message.authority.size(), 1u) << name;
  }
}

TEST_F(RespondTest, MixedCaseIsEchoed) {
  Asked a = Ask(*table_, "ReDiS-MaStEr.DeFaUlT.SvC.ClUsTeR.LoCaL", records::kTypeA);
  EXPECT_EQ(a.message.question[0].name, "ReDiS-MaStEr.DeFaUlT.SvC.ClUsTeR.LoCaL.");
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("ReDiS-MaStEr.DeFaUlT.SvC.ClUsTeR.LoCaL. 30 IN A 10.254.7.160"));
  Asked nx = Ask(*table_, "NoSuch.DeFaUlT.SvC.ClUsTeR.LoCaL", records::kTypeA);
  EXPECT_EQ(nx.message.authority[0].name, "ClUsTeR.LoCaL.");
}

TEST_F(RespondTest, IdAndRdAreCopied) {
  QueryOptions q;
  q.id = 0xbeef;
  q.rd = false;
  Asked a = Ask(*table_, "redis-master.default.svc.cluster.local", records::kTypeA, q);
  EXPECT_EQ(a.message.id, 0xbeef);
  EXPECT_FALSE(a.message.rd);
  q.rd = true;
  a = Ask(*table_, "redis-master.default.svc.cluster.local", records::kTypeA, q);
  EXPECT_TRUE(a.message.rd);
  EXPECT_FALSE(a.message.ra);
}

TEST_F(RespondTest, HeadlessServiceAnswersReadyEndpoints) {
  Asked a = Ask(*table_, "nginx.default.svc.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(a.message),
              UnorderedElementsAre("nginx.default.svc.cluster.local. 30 IN A 10.244.1.5",
                                   "nginx.default.svc.cluster.local. 30 IN A 10.244.2.7"));
  Asked host = Ask(*table_, "web-0.nginx.default.svc.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(host.message),
              ElementsAre("web-0.nginx.default.svc.cluster.local. 30 IN A 10.244.2.7"));
  Asked dashed = Ask(*table_, "10-244-1-5.nginx.default.svc.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(dashed.message),
              ElementsAre("10-244-1-5.nginx.default.svc.cluster.local. 30 IN A 10.244.1.5"));
  Asked not_ready = Ask(*table_, "10-244-3-9.nginx.default.svc.cluster.local", records::kTypeA);
  EXPECT_EQ(not_ready.message.rcode, kRcodeNxDomain);
}

// A slice named `name` of Service `service` in "default", port http/TCP/80, with one ready
// endpoint per address, named hostnames[i] where given.
records::EndpointSlice ReadySlice(const char* name, const char* service,
                                  const std::vector<std::string>& addresses,
                                  const std::vector<std::string>& hostnames = {}) {
  records::EndpointSlice slice;
  slice.ns = "default";
  slice.name = name;
  slice.service_name = service;
  for (size_t i = 0; i < addresses.size(); ++i) {
    records::Endpoint e;
    e.addresses = {Ip(addresses[i].c_str())};
    if (i < hostnames.size()) e.hostname = hostnames[i];
    e.ready = true;
    slice.endpoints.push_back(e);
  }
  slice.ports = {{"http", records::Protocol::kTcp, 80}};
  return slice;
}

// An endpoint without a hostname is named after its address; an IPv6 one that ends in "::" gets
// a '0' after the trailing '-', as CoreDNS names it (fd00:: → fd00--0).
TEST_F(RespondTest, HeadlessIpv6EndpointNames) {
  auto builder = KubeDnsBuilder();
  builder->UpsertSlice(ReadySlice("nginx-v6", "nginx", {"fd00::", "fd00::5", "fd00:1::1:0"}));
  auto table = builder->Build();
  for (const auto& [name, ip] : {std::pair{"fd00--0", "fd00::"}, std::pair{"fd00--5", "fd00::5"},
                                 std::pair{"fd00-1--1-0", "fd00:1::1:0"}}) {
    const std::string owner = absl::StrCat(name, ".nginx.default.svc.cluster.local");
    Asked a = Ask(*table, owner, records::kTypeAaaa);
    EXPECT_THAT(AnswerTexts(a.message), ElementsAre(absl::StrCat(owner, ". 30 IN AAAA ", ip)));
  }
  EXPECT_EQ(Ask(*table, "fd00--.nginx.default.svc.cluster.local", records::kTypeAaaa)
                .message.rcode,
            kRcodeNxDomain);
}

// RFC 2181 9: TC only when the answer itself does not fit in 512 bytes; when only the additional
// records do not, they are left out and TC stays clear (as Knot and NSD answer). Headless
// Services with 1 to 20 named endpoints: every case of "all fits", "answer fits" and "nothing
// fits" is met.
TEST_F(RespondTest, AdditionalRecordsAreLeftOutBeforeTheAnswerIsTruncated) {
  int fits = 0, answer_only = 0, truncated = 0;
  for (int n = 1; n <= 20; ++n) {
    auto builder = KubeDnsBuilder();
    records::Service svc;
    svc.ns = "default";
    svc.name = "many";
    svc.headless = true;
    svc.ports = {{"http", records::Protocol::kTcp, 80}};
    builder->UpsertService(svc);
    std::vector<std::string> addresses, hostnames;
    for (int i = 0; i < n; ++i) {
      addresses.push_back(absl::StrCat("10.244.7.", i + 1));
      hostnames.push_back(absl::StrCat("web-", i));
    }
    builder->UpsertSlice(ReadySlice("many-x", "many", addresses, hostnames));
    auto table = builder->Build();
    const char* name = "_http._tcp.many.default.svc.cluster.local";
    records::RespondOptions tcp;
    tcp.transport = records::Transport::kTcp;
    const Asked whole = Ask(*table, name, records::kTypeSrv, {}, tcp);
    ASSERT_EQ(whole.message.answer.size(), static_cast<size_t>(n));
    ASSERT_EQ(whole.message.additional.size(), static_cast<size_t>(n));
    const size_t answer_end = whole.message.additional[0].offset;
    const Asked udp = Ask(*table, name, records::kTypeSrv);
    SCOPED_TRACE(::testing::Message() << n << " endpoints, " << whole.bytes.size() << " bytes");
    if (whole.bytes.size() <= 512) {
      ++fits;
      EXPECT_EQ(udp.bytes, whole.bytes);
    } else if (answer_end <= 512) {
      ++answer_only;
      EXPECT_FALSE(udp.message.tc);
      EXPECT_EQ(udp.message.answer.size(), static_cast<size_t>(n));
      EXPECT_EQ(udp.message.arcount, 0);
      EXPECT_EQ(udp.bytes.size(), answer_end);
      EXPECT_EQ(std::vector<uint8_t>(udp.bytes.begin() + 12, udp.bytes.end()),
                std::vector<uint8_t>(whole.bytes.begin() + 12, whole.bytes.begin() + answer_end));
    } else {
      ++truncated;
      EXPECT_TRUE(udp.message.tc);
      EXPECT_TRUE(udp.message.answer.empty());
    }
    // With EDNS, the OPT goes right after what is kept.
    QueryOptions edns;
    edns.edns = true;
    edns.edns_udp_size = 512;
    const Asked small = Ask(*table, name, records::kTypeSrv, edns);
    EXPECT_TRUE(small.message.opt.has_value());
    EXPECT_EQ(small.message.tc, answer_end + 11 > 512);
  }
  EXPECT_GT(fits, 0);
  EXPECT_GT(answer_only, 0);
  EXPECT_GT(truncated, 0);
}

TEST_F(RespondTest, HeadlessSrvPerEndpoint) {
  Asked a = Ask(*table_, "_http._tcp.nginx.default.svc.cluster.local", records::kTypeSrv);
  EXPECT_THAT(AnswerTexts(a.message),
              UnorderedElementsAre(
                  "_http._tcp.nginx.default.svc.cluster.local. 30 IN SRV 0 100 80 "
                  "10-244-1-5.nginx.default.svc.cluster.local.",
                  "_http._tcp.nginx.default.svc.cluster.local. 30 IN SRV 0 100 80 "
                  "web-0.nginx.default.svc.cluster.local."));
  EXPECT_THAT(SectionTexts(a.message.additional),
              UnorderedElementsAre("10-244-1-5.nginx.default.svc.cluster.local. 30 IN A 10.244.1.5",
                                   "web-0.nginx.default.svc.cluster.local. 30 IN A 10.244.2.7"));
}

// The legacy name is answered with its svc twin's bytes behind a question 4 bytes shorter, so
// those bytes must not point into themselves (found by fuzz_respond: the additional owners
// pointed at the SRV targets, 4 bytes off).
TEST_F(RespondTest, LegacyHeadlessSrvPerEndpoint) {
  for (const char* name : {"_http._tcp.nginx.default.cluster.local", "nginx.default.cluster.local"}) {
    Asked a = Ask(*table_, name, records::kTypeSrv);
    ASSERT_EQ(a.message.rcode, kRcodeNoError) << name;
    EXPECT_THAT(SectionTexts(a.message.additional),
                UnorderedElementsAre("10-244-1-5.nginx.default.cluster.local. 30 IN A 10.244.1.5",
                                     "web-0.nginx.default.cluster.local. 30 IN A 10.244.2.7"))
        << name;
  }
}

TEST_F(RespondTest, HeadlessEndpointPtr) {
  Asked a = Ask(*table_, "7.2.244.10.in-addr.arpa", records::kTypePtr);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("7.2.244.10.in-addr.arpa. 30 IN PTR web-0.nginx.default.svc.cluster.local."));
}

TEST_F(RespondTest, DualStack) {
  Asked a = Ask(*table_, "dual.default.svc.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(a.message), ElementsAre("dual.default.svc.cluster.local. 30 IN A 10.254.9.9"));
  Asked aaaa = Ask(*table_, "dual.default.svc.cluster.local", records::kTypeAaaa);
  EXPECT_THAT(AnswerTexts(aaaa.message),
              ElementsAre("dual.default.svc.cluster.local. 30 IN AAAA fd00:10:254::9"));
  Asked srv = Ask(*table_, "_https._tcp.dual.default.svc.cluster.local", records::kTypeSrv);
  EXPECT_THAT(SectionTexts(srv.message.additional),
              UnorderedElementsAre("dual.default.svc.cluster.local. 30 IN A 10.254.9.9",
                                   "dual.default.svc.cluster.local. 30 IN AAAA fd00:10:254::9"));
}

TEST_F(RespondTest, ExternalNameCnameForEveryType) {
  for (uint16_t type : {records::kTypeA, records::kTypeAaaa, records::kTypeCname, records::kTypeSrv,
                        records::kTypeTxt}) {
    Asked a = Ask(*table_, "search.default.svc.cluster.local", type);
    EXPECT_EQ(a.message.rcode, kRcodeNoError);
    EXPECT_THAT(AnswerTexts(a.message),
                ElementsAre("search.default.svc.cluster.local. 30 IN CNAME www.example.com."))
        << type;
  }
}

TEST_F(RespondTest, DnsVersionSoaNs) {
  Asked txt = Ask(*table_, "dns-version.cluster.local", records::kTypeTxt);
  EXPECT_THAT(AnswerTexts(txt.message), ElementsAre("dns-version.cluster.local. 30 IN TXT \"1.1.0\""));
  Asked soa = Ask(*table_, "cluster.local", records::kTypeSoa);
  EXPECT_THAT(AnswerTexts(soa.message),
              ElementsAre("cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. "
                          "12345 7200 1800 86400 30"));
  Asked ns = Ask(*table_, "cluster.local", records::kTypeNs);
  EXPECT_THAT(AnswerTexts(ns.message), ElementsAre("cluster.local. 30 IN NS ns.dns.cluster.local."));
  Asked rsoa = Ask(*table_, "254.10.in-addr.arpa", records::kTypeSoa);
  EXPECT_EQ(rsoa.message.answer.size(), 1u);
}

TEST_F(RespondTest, NameServerAddressesAreGlue) {
  auto config = KubeDnsConfig();
  config.nameserver_addresses = {Ip("10.254.0.3")};
  auto table = KubeDnsBuilder(config)->Build();
  Asked ns = Ask(*table, "cluster.local", records::kTypeNs);
  EXPECT_THAT(SectionTexts(ns.message.additional),
              ElementsAre("ns.dns.cluster.local. 30 IN A 10.254.0.3"));
  Asked a = Ask(*table, "ns.dns.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(a.message), ElementsAre("ns.dns.cluster.local. 30 IN A 10.254.0.3"));
}

TEST_F(RespondTest, AnyGivesOneRrset) {
  Asked a = Ask(*table_, "kube-dns.kube-system.svc.cluster.local", records::kTypeAny);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_THAT(AnswerTexts(a.message),
              ElementsAre("kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.3"));
  Asked nx = Ask(*table_, "nothing.kube-system.svc.cluster.local", records::kTypeAny);
  EXPECT_EQ(nx.message.rcode, kRcodeNxDomain);
}

TEST_F(RespondTest, PodRecords) {
  auto config = KubeDnsConfig();
  config.pod_records = records::PodRecords::kInsecure;
  auto table = KubeDnsBuilder(config)->Build();
  Asked a = Ask(*table, "10-244-1-5.default.pod.cluster.local", records::kTypeA);
  EXPECT_THAT(AnswerTexts(a.message), ElementsAre("10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5"));
  Asked v6 = Ask(*table, "fd00--5.default.pod.cluster.local", records::kTypeAaaa);
  EXPECT_THAT(AnswerTexts(v6.message), ElementsAre("fd00--5.default.pod.cluster.local. 30 IN AAAA fd00::5"));
  Asked nodata = Ask(*table, "10-244-1-5.default.pod.cluster.local", records::kTypeAaaa);
  EXPECT_EQ(nodata.message.rcode, kRcodeNoError);
  EXPECT_TRUE(nodata.message.answer.empty());
  for (const char* bad : {"10-244-1-256.default.pod.cluster.local", "10-244-01-5.default.pod.cluster.local",
                          "10-244-1.default.pod.cluster.local", "x.10-244-1-5.default.pod.cluster.local"}) {
    EXPECT_EQ(Ask(*table, bad, records::kTypeA).message.rcode, kRcodeNxDomain) << bad;
  }
  EXPECT_EQ(Ask(*table, "default.pod.cluster.local", records::kTypeA).message.rcode, kRcodeNoError);
  EXPECT_EQ(Ask(*table, "pod.cluster.local", records::kTypeA).message.rcode, kRcodeNoError);
  // Disabled by default.
  EXPECT_EQ(Ask(*table_, "10-244-1-5.default.pod.cluster.local", records::kTypeA).message.rcode,
            kRcodeNxDomain);
}

TEST_F(RespondTest, OutsideTheZonesIsForwardedOrRefused) {
  records::RespondOptions forward;
  forward.refuse_outside_zones = false;
  Asked f = Ask(*table_, "www.example.com", records::kTypeA, {}, forward);
  EXPECT_EQ(f.result.verdict, records::Verdict::kForward);
  Asked r = Ask(*table_, "www.example.com", records::kTypeA);
  EXPECT_EQ(r.result.verdict, records::Verdict::kReply);
  EXPECT_EQ(r.message.rcode, records::kRcodeRefused);
  EXPECT_FALSE(r.message.aa);
  // A reverse name outside the served CIDRs is not ours either.
  Asked p = Ask(*table_, "1.1.168.192.in-addr.arpa", records::kTypePtr, {}, forward);
  EXPECT_EQ(p.result.verdict, records::Verdict::kForward);
  // Nor is a name that merely ends like the zone.
  Asked s = Ask(*table_, "xcluster.local", records::kTypeA, {}, forward);
  EXPECT_EQ(s.result.verdict, records::Verdict::kForward);
}

TEST_F(RespondTest, RecursionAvailableWhenConfigured) {
  records::RespondOptions options;
  options.recursion_available = true;
  Asked a = Ask(*table_, "redis-master.default.svc.cluster.local", records::kTypeA, {}, options);
  EXPECT_TRUE(a.message.ra);
}

}  // namespace
}  // namespace clusterdns::testing

namespace clusterdns::testing {
namespace {

// Zones found by their apex's last bytes, shorter apexes (under eight bytes) on their own, and
// many reverse zones of one CIDR (a /12 serves 16) side by side.
TEST(RespondZones, ShortApexAndManyReverseZones) {
  auto config = KubeDnsConfig();
  config.domains = {"cluster.local", "k8s"};
  config.service_cidrs.push_back(*records::IpPrefix::Parse("10.96.0.0/12"));
  auto builder = KubeDnsBuilder(config);
  builder->UpsertService(ClusterIpService("default", "api", {Ip("10.100.3.4")}, {}));
  auto table = builder->Build();
  EXPECT_THAT(AnswerTexts(Ask(*table, "redis-master.default.svc.k8s", records::kTypeA).message),
              ::testing::ElementsAre("redis-master.default.svc.k8s. 30 IN A 10.254.7.160"));
  Asked nx = Ask(*table, "nothing.default.svc.k8s", records::kTypeA);
  EXPECT_EQ(nx.message.rcode, records::kRcodeNxDomain);
  ASSERT_EQ(nx.message.authority.size(), 1u);
  EXPECT_EQ(nx.message.authority[0].name, "k8s.");
  EXPECT_THAT(AnswerTexts(Ask(*table, "4.3.100.10.in-addr.arpa", records::kTypePtr).message),
              ::testing::ElementsAre("4.3.100.10.in-addr.arpa. 30 IN PTR api.default.svc.cluster.local."));
  Asked rnx = Ask(*table, "9.9.111.10.in-addr.arpa", records::kTypePtr);
  EXPECT_EQ(rnx.message.rcode, records::kRcodeNxDomain);
  EXPECT_EQ(rnx.message.authority[0].name, "111.10.in-addr.arpa.");
  // 10.112.0.0 is past the /12: not ours.
  records::RespondOptions forward;
  forward.refuse_outside_zones = false;
  EXPECT_EQ(Ask(*table, "1.0.112.10.in-addr.arpa", records::kTypePtr, {}, forward).result.verdict,
            records::Verdict::kForward);
}

}  // namespace
}  // namespace clusterdns::testing
