// Hostile input: every truncation of every kind of valid frame, and 100k seeded random mutations
// of them (with checksums repaired half the time, so mutations reach past the checksum checks).
// Frames are classified from exactly sized heap buffers (test_port.h), so under ASan any read past
// the end fails the test. Whatever ClassifyFrame accepts, the reply built from it must pass the
// independent checker: a mutation may change the verdict, never make a malformed reply.
#include <gtest/gtest.h>

#include <array>
#include <random>

#include "dataplane/packet/reply.h"
#include "tests/dataplane/packet/frame_builder.h"
#include "tests/dataplane/packet/reply_checker.h"
#include "tests/dataplane/packet/test_port.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using dataplane::DropReason;
using dataplane::ExceptionReason;
using dataplane::FrameAction;
using dataplane::ParsedFrame;

// One valid frame of every kind the classifier answers.
std::vector<Bytes> Corpus() {
  const Bytes dns = BuildQuery("kube-dns.kube-system.svc.cluster.local", 1);
  EthSpec vlan;
  vlan.tags = {{0x8100, 9}};
  EthSpec qinq;
  qinq.tags = {{0x88a8, 1}, {0x8100, 2}};
  EthSpec broadcast;
  broadcast.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Ipv4Spec ecn;
  ecn.tos = 0x03;  // CE (options would go to the kernel)
  Ipv6Spec nd;
  nd.src = LinkLocalClientV6();
  nd.dst = SolicitedNode(ServedV6());
  nd.hop_limit = 255;
  EthSpec nd_eth;
  nd_eth.dst = MulticastMac(nd.dst);
  Ipv6Spec dad = nd;
  dad.src = V6("::");
  return {
      UdpFrameV4({}, {}, 40000, 53, dns),
      UdpFrameV4(vlan, ecn, 40000, 53, dns),
      UdpFrameV4({}, {}, 40000, 53, dns, /*with_checksum=*/false),
      UdpFrameV6({}, {}, 40000, 53, dns),
      UdpFrameV6(qinq, {}, 40000, 53, dns),
      IcmpFrameV4({}, {}, 8, 0, EchoBody(1, 2, 24)),
      Icmp6FrameV6(vlan, {}, 128, 0, EchoBody(1, 2, 25)),
      ArpFrame(broadcast, 1, kClientMac, ClientV4(), Mac{}, ServedV4()),
      ArpFrame(vlan, 1, kClientMac, ClientV4(), kOurMac, ServedV4b()),
      Icmp6FrameV6(nd_eth, nd, 135, 0, NsBody(ServedV6(), &kClientMac)),
      Icmp6FrameV6(nd_eth, dad, 135, 0, NsBody(ServedV6(), nullptr)),
  };
}

// Builds the reply for an accepted frame and checks it independently. `frame` is the input as
// classified (len bytes).
::testing::AssertionResult ReplyIsWellFormed(const Bytes& frame, std::mt19937& rng) {
  Bytes buf = frame;
  buf.resize(frame.size() + 2048);
  const ParsedFrame p = dataplane::ClassifyFrame(buf.data(), frame.size(), OurMac(), Served());
  size_t len = 0;
  switch (p.action) {
    case FrameAction::kDns: {
      // A response of random size and content, as respond() might write.
      const size_t dns_len = 12 + rng() % 600;
      for (size_t i = 0; i < dns_len; ++i) buf[p.payload_offset + i] = static_cast<uint8_t>(rng());
      len = dataplane::FinishDnsReply(buf.data(), p, dns_len);
      buf.resize(len);
      return CheckUdpReply(frame, buf, kOurMac);
    }
    case FrameAction::kEchoRequest:
      len = dataplane::AnswerEcho(buf.data(), p);
      buf.resize(len);
      return CheckEchoReply(frame, buf, kOurMac);
    case FrameAction::kArpRequest:
      len = dataplane::AnswerArp(buf.data(), p, OurMac());
      buf.resize(len);
      return CheckArpReply(frame, buf, kOurMac);
    case FrameAction::kNeighborSolicit:
      len = dataplane::AnswerNeighborSolicit(buf.data(), buf.size(), p, OurMac());
      buf.resize(len);
      return CheckNeighborAdvert(frame, buf, kOurMac);
    case FrameAction::kException:
      if (p.exception == ExceptionReason::kNone || p.exception >= ExceptionReason::kCount) {
        return ::testing::AssertionFailure() << "exception without a reason";
      }
      return ::testing::AssertionSuccess();
    case FrameAction::kDrop:
      if (p.drop == DropReason::kNone || p.drop >= DropReason::kCount) {
        return ::testing::AssertionFailure() << "drop without a reason";
      }
      return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "unknown action";
}

TEST(Malformed, CorpusIsAnswered) {
  std::mt19937 rng(7);
  for (const Bytes& f : Corpus()) {
    const ParsedFrame p = Classify(f);
    EXPECT_NE(p.action, FrameAction::kDrop) << dataplane::DropReasonName(p.drop);
    EXPECT_NE(p.action, FrameAction::kException);
    EXPECT_TRUE(ReplyIsWellFormed(f, rng));
  }
}

// Every prefix of every valid frame: dropped or sent to the kernel, never answered, never an
// out-of-bounds read. (A prefix that ends exactly at the IP packet's end can only be the whole
// frame here: the corpus has no Ethernet padding.)
TEST(Malformed, EveryTruncation) {
  for (const Bytes& f : Corpus()) {
    for (size_t len = 0; len < f.size(); ++len) {
      const ParsedFrame p = Classify(f, len);
      EXPECT_TRUE(p.action == FrameAction::kDrop || p.action == FrameAction::kException)
          << "len " << len << " of " << f.size() << " action " << static_cast<int>(p.action);
      if (p.action == FrameAction::kDrop) {
        EXPECT_TRUE(p.drop == DropReason::kTruncated || p.drop == DropReason::kBadLength)
            << "len " << len << ": " << dataplane::DropReasonName(p.drop);
      }
    }
  }
}

TEST(Malformed, RandomMutations) {
  std::mt19937 rng(20240601);
  const std::vector<Bytes> corpus = Corpus();
  std::array<int, static_cast<size_t>(FrameAction::kDrop) + 1> actions{};
  std::array<int, static_cast<size_t>(DropReason::kCount)> drops{};
  constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x05, 0x06, 0x08, 0x11, 0x3a, 0x45,
                                      0x60, 0x7f, 0x80, 0x86, 0x87, 0xdd, 0xfe, 0xff};
  for (int i = 0; i < 100000; ++i) {
    Bytes f = corpus[rng() % corpus.size()];
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (rng() % 6) {
        case 0:  // flip a bit
          f[rng() % f.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:  // an interesting byte in a header (the first 80 bytes)
          f[rng() % std::min<size_t>(f.size(), 80)] = kInteresting[rng() % sizeof(kInteresting)];
          break;
        case 2:  // a random byte anywhere
          f[rng() % f.size()] = static_cast<uint8_t>(rng());
          break;
        case 3:  // cut the tail
          f.resize(f.size() - std::min<size_t>(f.size() - 2, 1 + rng() % 16));
          break;
        case 4:  // append bytes (padding or garbage)
          for (size_t n = 1 + rng() % 32; n > 0; --n) f.push_back(static_cast<uint8_t>(rng()));
          break;
        case 5: {  // a random 16-bit length-like value in a header (f keeps >= 2 bytes)
          const size_t at = rng() % std::min<size_t>(f.size() - 1, 70);
          PutU16(f, at, static_cast<uint16_t>(rng() % 1600));
          break;
        }
      }
    }
    if (rng() % 2 == 0) RepairChecksums(f);
    const ParsedFrame p = Classify(f);  // exact buffer: ASan sees over-reads
    ++actions[static_cast<size_t>(p.action)];
    if (p.action == FrameAction::kDrop) ++drops[static_cast<size_t>(p.drop)];
    ASSERT_TRUE(ReplyIsWellFormed(f, rng)) << "iteration " << i;
  }
  // The mutations reached every verdict, so the loop above tested replies, not just drops.
  for (FrameAction a : {FrameAction::kDns, FrameAction::kArpRequest, FrameAction::kNeighborSolicit,
                        FrameAction::kEchoRequest, FrameAction::kException, FrameAction::kDrop}) {
    EXPECT_GT(actions[static_cast<size_t>(a)], 100) << "action " << static_cast<int>(a);
  }
  for (DropReason d : {DropReason::kTruncated, DropReason::kNotForUs, DropReason::kBadSource,
                       DropReason::kBadHeader, DropReason::kBadLength, DropReason::kBadChecksum,
                       DropReason::kBadNeighborDiscovery}) {
    EXPECT_GT(drops[static_cast<size_t>(d)], 10) << dataplane::DropReasonName(d);
  }
}

}  // namespace
}  // namespace clusterdns::testing
