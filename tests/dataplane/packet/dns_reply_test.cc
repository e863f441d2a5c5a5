// DNS round trips through the packet layer as the worker will run them: frame → ClassifyFrame →
// records::Respond on the payload in place → FinishDnsReply, then the reply frame checked by the
// independent checker and its DNS message decoded by tests/support/dns_message.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/reply.h"
#include "records/dns_constants.h"
#include "records/respond.h"
#include "tests/dataplane/packet/frame_builder.h"
#include "tests/dataplane/packet/reply_checker.h"
#include "tests/dataplane/packet/test_port.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using dataplane::FrameAction;
using dataplane::L4Checksum;
using dataplane::ParsedFrame;
using ::testing::ElementsAre;

class DnsReplyTest : public ::testing::Test {
 protected:
  void SetUp() override { table_ = KubeDnsBuilder()->Build(); }

  struct Answered {
    Bytes frame;  // the reply frame
    DecodedMessage message;
  };

  // The worker's path for one frame; the buffer has the room an mbuf would give respond().
  Answered Answer(const Bytes& query, L4Checksum checksum = L4Checksum::kSoftware) {
    Answered out;
    Bytes buf = query;
    const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), buf.size(), OurMac(), Served());
    EXPECT_EQ(p.action, FrameAction::kDns) << dataplane::DropReasonName(p.drop);
    if (p.action != FrameAction::kDns) return out;
    buf.resize(p.payload_offset + records::kUdpResponseRoom);
    const records::RespondResult r = records::Respond(*table_, buf.data() + p.payload_offset,
                                                      p.payload_len, records::kUdpResponseRoom, {});
    EXPECT_EQ(r.verdict, records::Verdict::kReply);
    // The worker passes the mbuf's room, which lets the checksum read past the reply
    // (checksum.h): the same frame as without it, with junk in that room.
    Bytes roomy = buf;
    roomy.resize(buf.size() + dataplane::kOnesSumSlack);
    std::fill(roomy.begin() + p.payload_offset + r.size, roomy.end(), 0xa5);
    const size_t len = dataplane::FinishDnsReply(buf.data(), p, r.size, checksum);
    EXPECT_EQ(len, size_t{p.payload_offset} + r.size);
    EXPECT_EQ(dataplane::FinishDnsReply(roomy.data(), p, r.size, checksum, roomy.size()), len);
    buf.resize(len);
    EXPECT_EQ(Bytes(roomy.begin(), roomy.begin() + static_cast<long>(len)), buf);
    if (checksum == L4Checksum::kOffload) SimulateNicChecksum(buf);
    Bytes dns;
    EXPECT_TRUE(CheckUdpReply(query, buf, kOurMac, &dns));
    auto decoded = DecodeMessage(dns.data(), dns.size());
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    if (decoded.ok()) out.message = *decoded;
    out.frame = std::move(buf);
    return out;
  }

  // What a NIC does with RTE_MBUF_F_TX_UDP_CKSUM: sums the datagram with the pseudo-header sum
  // the driver left in the checksum field, and stores the complement.
  static void SimulateNicChecksum(Bytes& frame) {
    const L2Layout l2 = ReadL2(frame);
    const size_t l4 = l2.type == 0x0800 ? l2.l3 + size_t{frame[l2.l3] & 0x0fu} * 4 : l2.l3 + 40;
    uint16_t c = NaiveChecksum(&frame[l4], frame.size() - l4);
    PutU16(frame, l4 + 6, c == 0 ? 0xffff : c);
  }

  std::shared_ptr<const records::AnswerTable> table_;
};

TEST_F(DnsReplyTest, Ipv4) {
  const Bytes query = UdpFrameV4(
      {}, {}, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", records::kTypeA));
  const Answered a = Answer(query);
  EXPECT_EQ(a.message.rcode, records::kRcodeNoError);
  EXPECT_THAT(a.message.answer.size(), 1u);
  if (!a.message.answer.empty()) {
    EXPECT_EQ(RecordToText(a.message.answer[0]),
              "kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.3");
  }
  EXPECT_GT(a.frame.size(), query.size());  // the response outgrew the query
}

TEST_F(DnsReplyTest, Ipv6) {
  const Bytes query = UdpFrameV6(
      {}, {}, 40000, 53, BuildQuery("redis-master.default.svc.cluster.local", records::kTypeA));
  const Answered a = Answer(query);
  ASSERT_EQ(a.message.answer.size(), 1u);
  EXPECT_EQ(RecordToText(a.message.answer[0]),
            "redis-master.default.svc.cluster.local. 30 IN A 10.254.7.160");
}

TEST_F(DnsReplyTest, VlanAndQinQ) {
  EthSpec one;
  one.tags = {{0x8100, 100}};
  EthSpec two;
  two.tags = {{0x88a8, 10}, {0x8100, 100}};
  for (const EthSpec& eth : {one, two}) {
    const Bytes q4 = UdpFrameV4(
        eth, {}, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", records::kTypeA));
    EXPECT_THAT(Answer(q4).message.answer.size(), 1u);
    const Bytes q6 = UdpFrameV6(eth, {}, 40000, 53,
                                BuildQuery("dual.default.svc.cluster.local", records::kTypeAaaa));
    const Answered a = Answer(q6);
    ASSERT_EQ(a.message.answer.size(), 1u);
    EXPECT_EQ(RecordToText(a.message.answer[0]),
              "dual.default.svc.cluster.local. 30 IN AAAA fd00:10:254::9");
  }
}

// A reply is not sent by an ECN-capable transport: no ECT, and no CE echoed back (RFC 3168 5).
// DSCP stays. CheckUdpReply checks the header checksum after the TOS change.
TEST_F(DnsReplyTest, EcnIsClearedAndDscpKept) {
  for (const uint8_t tos : {0x03, 0x02, 0x01, 0xb9, 0xff}) {
    Ipv4Spec ip;
    ip.tos = tos;
    const Bytes query = UdpFrameV4(
        {}, ip, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", records::kTypeA));
    const Answered a = Answer(query);
    ASSERT_FALSE(a.frame.empty());
    EXPECT_EQ(a.frame[15], tos & 0xfc) << int{tos};
  }
  for (const uint32_t class_flow : {0x0ab12345u, 0x00312345u, 0x0ff00000u}) {
    Ipv6Spec ip;
    ip.class_flow = class_flow;
    const Bytes query = UdpFrameV6(
        {}, ip, 40000, 53, BuildQuery("redis-master.default.svc.cluster.local", records::kTypeA));
    const Answered a = Answer(query);
    ASSERT_FALSE(a.frame.empty());
    const uint32_t got = uint32_t{GetU16(a.frame, 14)} << 16 | GetU16(a.frame, 16);
    EXPECT_EQ(got, (6u << 28 | class_flow) & ~(3u << 20)) << class_flow;
  }
}

TEST_F(DnsReplyTest, QueryWithoutUdpChecksumGetsOne) {
  const Bytes query = UdpFrameV4(
      {}, {}, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", records::kTypeA),
      /*with_checksum=*/false);
  const Answered a = Answer(query);  // CheckUdpReply insists on a nonzero, valid checksum
  EXPECT_FALSE(a.frame.empty());
}

// Responses of both parities over both families: an odd UDP length pads the checksum's last word.
TEST_F(DnsReplyTest, OddAndEvenLengths) {
  const char* names[] = {"kube-dns.kube-system.svc.cluster.local",
                         "redis-master.default.svc.cluster.local",
                         "nginx.default.svc.cluster.local",
                         "web-0.nginx.default.svc.cluster.local",
                         "dual.default.svc.cluster.local",
                         "nope.default.svc.cluster.local",
                         "a.svc.cluster.local",
                         "ab.svc.cluster.local"};
  bool saw_odd = false, saw_even = false;
  for (const char* name : names) {
    for (bool v6 : {false, true}) {
      QueryOptions o;
      o.edns = v6;
      const Bytes payload = BuildQuery(name, records::kTypeA, o);
      const Bytes query =
          v6 ? UdpFrameV6({}, {}, 1024, 53, payload) : UdpFrameV4({}, {}, 1024, 53, payload);
      const Answered a = Answer(query);
      ASSERT_FALSE(a.frame.empty()) << name;
      (a.message.size % 2 ? saw_odd : saw_even) = true;
    }
  }
  EXPECT_TRUE(saw_odd);
  EXPECT_TRUE(saw_even);
}

// A response shorter than the query: IP and UDP lengths shrink with it.
TEST_F(DnsReplyTest, ShorterResponse) {
  Bytes query =
      UdpFrameV4({}, {}, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", 1));
  Bytes buf = query;
  const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), buf.size(), OurMac(), Served());
  ASSERT_EQ(p.action, FrameAction::kDns);
  const size_t len = dataplane::FinishDnsReply(buf.data(), p, 12);  // a bare header
  ASSERT_EQ(len, size_t{p.payload_offset} + 12);
  buf.resize(len);
  EXPECT_TRUE(CheckUdpReply(query, buf, kOurMac));
}

TEST_F(DnsReplyTest, ChecksumOffloadLeavesThePseudoHeaderSum) {
  for (bool v6 : {false, true}) {
    const Bytes payload = BuildQuery("kube-dns.kube-system.svc.cluster.local", records::kTypeA);
    const Bytes query =
        v6 ? UdpFrameV6({}, {}, 40000, 53, payload) : UdpFrameV4({}, {}, 40000, 53, payload);
    // Before the NIC: the field holds the folded, uncomplemented pseudo-header sum.
    Bytes buf = query;
    const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), buf.size(), OurMac(), Served());
    ASSERT_EQ(p.action, FrameAction::kDns);
    const size_t len =
        dataplane::FinishDnsReply(buf.data(), p, p.payload_len, L4Checksum::kOffload);
    buf.resize(len);
    const size_t l4 = p.l4_offset;
    const uint32_t udp_len = static_cast<uint32_t>(len - l4);
    uint32_t pseudo;
    if (v6) {
      Ip6 s, d;
      std::copy(buf.begin() + 22, buf.begin() + 38, s.begin());
      std::copy(buf.begin() + 38, buf.begin() + 54, d.begin());
      pseudo = NaivePseudoV6(s, d, 17, udp_len);
    } else {
      Ip4 s, d;
      std::copy(buf.begin() + 26, buf.begin() + 30, s.begin());
      std::copy(buf.begin() + 30, buf.begin() + 34, d.begin());
      pseudo = NaivePseudoV4(s, d, 17, static_cast<uint16_t>(udp_len));
    }
    EXPECT_EQ(GetU16(buf, l4 + 6), NaiveFold(pseudo));
    // And after it, the reply is valid.
    const Answered a = Answer(query, L4Checksum::kOffload);
    EXPECT_THAT(a.message.answer.size(), 1u);
  }
}

TEST_F(DnsReplyTest, TooLargeForUdpIsRefused) {
  Bytes buf =
      UdpFrameV6({}, {}, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", 1));
  const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), buf.size(), OurMac(), Served());
  ASSERT_EQ(p.action, FrameAction::kDns);
  EXPECT_EQ(dataplane::FinishDnsReply(buf.data(), p, 65535 - 8 + 1), 0u);
  Bytes buf4 =
      UdpFrameV4({}, {}, 40000, 53, BuildQuery("kube-dns.kube-system.svc.cluster.local", 1));
  const ParsedFrame p4 = dataplane::ClassifyFrame(buf4.data(), buf4.size(), OurMac(), Served());
  ASSERT_EQ(p4.action, FrameAction::kDns);
  const Bytes before = buf4;
  EXPECT_EQ(dataplane::FinishDnsReply(buf4.data(), p4, 65535 - 28 + 1), 0u);
  EXPECT_EQ(buf4, before);  // nothing written when refusing
}

}  // namespace
}  // namespace clusterdns::testing
