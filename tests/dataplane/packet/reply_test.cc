// AnswerArp, AnswerNeighborSolicit and AnswerEcho: each reply re-parsed by the independent checker
// (reply_checker.h), untagged, 802.1Q and QinQ.
#include "dataplane/packet/reply.h"

#include <gtest/gtest.h>

#include "tests/dataplane/packet/frame_builder.h"
#include "tests/dataplane/packet/reply_checker.h"
#include "tests/dataplane/packet/test_port.h"

namespace clusterdns::testing {
namespace {

using dataplane::FrameAction;
using dataplane::ParsedFrame;

// Room for any reply: the frame copied into a buffer with spare capacity behind it.
constexpr size_t kSpare = 2048;

std::vector<EthSpec> TagVariants(Mac dst) {
  std::vector<EthSpec> out(3);
  out[1].tags = {{0x8100, 0x0123}};
  out[2].tags = {{0x88a8, 0x0100}, {0x8100, 0x0fff}};
  for (auto& e : out) e.dst = dst;
  return out;
}

// Classifies `request` expecting `action`, then applies `answer` to a copy with room to spare.
template <typename Answer>
Bytes Reply(const Bytes& request, FrameAction action, Answer answer) {
  Bytes buf = request;
  buf.resize(request.size() + kSpare);
  const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), request.size(), OurMac(), Served());
  EXPECT_EQ(p.action, action) << dataplane::DropReasonName(p.drop) << " "
                              << dataplane::ExceptionReasonName(p.exception);
  if (p.action != action) return {};
  const size_t len = answer(buf.data(), buf.size(), p);
  EXPECT_GT(len, 0u);
  buf.resize(len);
  return buf;
}

TEST(AnswerArp, RepliesToTheRequester) {
  const Mac broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (const EthSpec& eth : TagVariants(broadcast)) {
    for (const Ip4& asked : {ServedV4(), ServedV4b()}) {
      const Bytes request = ArpFrame(eth, 1, kClientMac, ClientV4(), Mac{}, asked);
      const Bytes reply =
          Reply(request, FrameAction::kArpRequest, [](uint8_t* f, size_t, const ParsedFrame& p) {
            return dataplane::AnswerArp(f, p, OurMac());
          });
      EXPECT_TRUE(CheckArpReply(request, reply, kOurMac));
    }
  }
}

TEST(AnswerArp, PaddedRequestGivesUnpaddedReply) {
  Bytes request = ArpFrame({}, 1, kClientMac, ClientV4(), kOurMac, ServedV4());
  request.resize(60, 0);  // a 60-byte frame as it arrives from the wire
  const Bytes reply =
      Reply(request, FrameAction::kArpRequest, [](uint8_t* f, size_t, const ParsedFrame& p) {
        return dataplane::AnswerArp(f, p, OurMac());
      });
  EXPECT_EQ(reply.size(), 42u);
  EXPECT_TRUE(CheckArpReply(request, reply, kOurMac));
}

TEST(AnswerArp, ProbeFromUnspecifiedIsAnswered) {
  const Bytes request = ArpFrame({}, 1, kClientMac, V4("0.0.0.0"), Mac{}, ServedV4());
  const Bytes reply =
      Reply(request, FrameAction::kArpRequest, [](uint8_t* f, size_t, const ParsedFrame& p) {
        return dataplane::AnswerArp(f, p, OurMac());
      });
  EXPECT_TRUE(CheckArpReply(request, reply, kOurMac));
}

Bytes Solicitation(const EthSpec& base, const Ip6& src, bool to_group, bool with_option) {
  EthSpec eth = base;
  Ipv6Spec ip;
  ip.src = src;
  ip.hop_limit = 255;
  if (to_group) {
    ip.dst = SolicitedNode(ServedV6());
    eth.dst = MulticastMac(ip.dst);
  }
  return Icmp6FrameV6(eth, ip, 135, 0, NsBody(ServedV6(), with_option ? &kClientMac : nullptr));
}

auto AnswerNs(size_t capacity_override = 0) {
  return [capacity_override](uint8_t* f, size_t capacity, const ParsedFrame& p) {
    return dataplane::AnswerNeighborSolicit(f, capacity_override ? capacity_override : capacity, p,
                                            OurMac());
  };
}

TEST(AnswerNeighborSolicit, AdvertisesOurMacToTheSolicitor) {
  for (const EthSpec& eth : TagVariants(kOurMac)) {
    for (const Ip6& src : {LinkLocalClientV6(), ClientV6()}) {
      for (bool to_group : {true, false}) {
        for (bool with_option : {true, false}) {
          SCOPED_TRACE(::testing::Message() << "tags " << eth.tags.size() << " group " << to_group
                                            << " option " << with_option);
          const Bytes ns = Solicitation(eth, src, to_group, with_option);
          const Bytes na = Reply(ns, FrameAction::kNeighborSolicit, AnswerNs());
          EXPECT_TRUE(CheckNeighborAdvert(ns, na, kOurMac));
        }
      }
    }
  }
}

// Behind an ND proxy or a rewriting bridge the frame's source is not the solicitor's address:
// the NA goes to the source link-layer option's, as Linux sends it (its neighbour entry).
TEST(AnswerNeighborSolicit, AnswersTheSourceLinkLayerOptionsAddress) {
  EthSpec bridged;
  bridged.src = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x99};
  for (bool to_group : {true, false}) {
    const Bytes ns = Solicitation(bridged, ClientV6(), to_group, /*with_option=*/true);
    const Bytes na = Reply(ns, FrameAction::kNeighborSolicit, AnswerNs());
    EXPECT_TRUE(CheckNeighborAdvert(ns, na, kOurMac));
    ASSERT_GE(na.size(), 6u);
    EXPECT_EQ(Bytes(na.begin(), na.begin() + 6), Bytes(kClientMac.begin(), kClientMac.end()));
  }
}

TEST(AnswerNeighborSolicit, DuplicateAddressDetectionIsAnsweredToAllNodes) {
  for (const EthSpec& eth : TagVariants(kOurMac)) {
    const Bytes ns = Solicitation(eth, V6("::"), /*to_group=*/true, /*with_option=*/false);
    const Bytes na = Reply(ns, FrameAction::kNeighborSolicit, AnswerNs());
    EXPECT_TRUE(CheckNeighborAdvert(ns, na, kOurMac));
    ASSERT_GE(na.size(), 6u);
    EXPECT_EQ(na[0], 0x33);  // all-nodes group
  }
}

TEST(AnswerNeighborSolicit, RefusesWithoutRoomForTheOption) {
  // An NS without options is 8 bytes shorter than the NA; give exactly its own size.
  const Bytes ns = Solicitation({}, ClientV6(), false, false);
  Bytes buf = ns;
  const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), buf.size(), OurMac(), Served());
  ASSERT_EQ(p.action, FrameAction::kNeighborSolicit);
  EXPECT_EQ(dataplane::AnswerNeighborSolicit(buf.data(), buf.size(), p, OurMac()), 0u);
  EXPECT_EQ(buf, ns);  // untouched
  EXPECT_EQ(dataplane::AnswerNeighborSolicit(buf.data(), buf.size() + 7, p, OurMac()), 0u);
  buf.resize(ns.size() + 8);
  EXPECT_EQ(dataplane::AnswerNeighborSolicit(buf.data(), buf.size(), p, OurMac()), buf.size());
}

TEST(AnswerEcho, Ipv4AndIpv6) {
  for (const EthSpec& eth : TagVariants(kOurMac)) {
    for (size_t data_len : {0, 1, 56, 57, 1400}) {
      SCOPED_TRACE(::testing::Message() << "tags " << eth.tags.size() << " data " << data_len);
      Ipv4Spec ip;
      if (data_len == 57) ip.tos = 0xb3;  // CE: cleared in the reply, DSCP kept (CheckEchoReply)
      const Bytes v4 = IcmpFrameV4(eth, ip, 8, 0, EchoBody(0xbeef, 7, data_len));
      const Bytes r4 = Reply(
          v4, FrameAction::kEchoRequest,
          [](uint8_t* f, size_t, const ParsedFrame& p) { return dataplane::AnswerEcho(f, p); });
      EXPECT_TRUE(CheckEchoReply(v4, r4, kOurMac));
      const Bytes v6 = Icmp6FrameV6(eth, {}, 128, 0, EchoBody(0xbeef, 7, data_len));
      const Bytes r6 = Reply(
          v6, FrameAction::kEchoRequest,
          [](uint8_t* f, size_t, const ParsedFrame& p) { return dataplane::AnswerEcho(f, p); });
      EXPECT_TRUE(CheckEchoReply(v6, r6, kOurMac));
    }
  }
}

TEST(AnswerEcho, ChecksumEdgeValues) {
  // Requests whose checksum sits where the incremental update carries or wraps (0x0000, 0x0001,
  // 0x0800 = the type word itself, 0xf7ff, 0xfffe), chosen through the identifier: with
  // identifier 0 the checksum is c0, and adding `id` to the sum subtracts it from the checksum.
  const uint16_t c0 = GetU16(IcmpFrameV4({}, {}, 8, 0, EchoBody(0, 1, 4)), 34 + 2);
  for (uint16_t wanted : {0x0000, 0x0001, 0x0800, 0xf7ff, 0xfffe}) {
    const uint16_t id = NaiveFold(uint32_t{static_cast<uint16_t>(~wanted)} + c0);
    const Bytes v4 = IcmpFrameV4({}, {}, 8, 0, EchoBody(id, 1, 4));
    ASSERT_EQ(GetU16(v4, 34 + 2), wanted);
    const Bytes r4 =
        Reply(v4, FrameAction::kEchoRequest,
              [](uint8_t* f, size_t, const ParsedFrame& p) { return dataplane::AnswerEcho(f, p); });
    EXPECT_TRUE(CheckEchoReply(v4, r4, kOurMac)) << "checksum " << wanted;
  }
}

TEST(AnswerEcho, PaddingIsNotEchoed) {
  Bytes request = IcmpFrameV4({}, {}, 8, 0, EchoBody(1, 2, 0));  // 42 bytes
  request.resize(60, 0xaa);
  const Bytes reply =
      Reply(request, FrameAction::kEchoRequest,
            [](uint8_t* f, size_t, const ParsedFrame& p) { return dataplane::AnswerEcho(f, p); });
  EXPECT_EQ(reply.size(), 42u);
  EXPECT_TRUE(CheckEchoReply(request, reply, kOurMac));
}

}  // namespace
}  // namespace clusterdns::testing
