// libFuzzer target: the dataplane's packet layer on hostile frames. Each input picks a valid
// template frame (DNS over IPv4/IPv6, 802.1Q, QinQ, IPv4 options, ARP, NS, ICMP/ICMPv6 echo),
// XORs the rest of the input into it from an offset of the input's choosing and may cut it short;
// the IPv4 DNS templates carry no UDP checksum, so mutated DNS payloads get past classification.
// Then, as a worker would:
//   - ClassifyFrame reads only the frame's bytes (ASan: the copy is exactly that long);
//   - a DNS frame is answered by respond() in place and finished with FinishDnsReply; ARP, NS and
//     echo are answered in place;
//   - every reply must pass the independent checker of tests/dataplane/packet (swaps, lengths,
//     every checksum) — a reply a peer would reject aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/packet/frame.h"
#include "dataplane/packet/reply.h"
#include "dataplane/packet/served_addresses.h"
#include "records/respond.h"
#include "tests/dataplane/packet/frame_builder.h"
#include "tests/dataplane/packet/reply_checker.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/support/dns_query_builder.h"

namespace {

using namespace clusterdns;           // NOLINT: a fuzz target, not a library
using namespace clusterdns::testing;  // NOLINT

constexpr size_t kRoom = 4096;  // the reply's room past the frame, as an mbuf's data room gives

const std::vector<Bytes>& Templates() {
  static const std::vector<Bytes>* templates = [] {
    auto* t = new std::vector<Bytes>;
    const Bytes a = BuildQuery("redis-master.default.svc.cluster.local", records::kTypeA);
    QueryOptions edns;
    edns.edns = true;
    const Bytes srv = BuildQuery("_dns._udp.kube-dns.kube-system.svc.cluster.local",
                                 records::kTypeSrv, edns);
    t->push_back(UdpFrameV4({}, {}, 40000, 53, a, /*with_checksum=*/false));
    t->push_back(UdpFrameV4({}, {}, 40001, 53, srv, /*with_checksum=*/false));
    t->push_back(UdpFrameV6({}, {}, 40002, 53, srv));
    EthSpec vlan;
    vlan.tags = {{0x8100, 7}};
    t->push_back(UdpFrameV4(vlan, {}, 40003, 53, a, false));
    EthSpec qinq;
    qinq.tags = {{0x88a8, 3}, {0x8100, 9}};
    t->push_back(UdpFrameV6(qinq, {}, 40004, 53, a));
    Ipv4Spec options;
    options.options = {0x94, 0x04, 0x00, 0x00};  // router alert
    t->push_back(UdpFrameV4({}, options, 40005, 53, a, false));
    EthSpec broadcast;
    broadcast.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    t->push_back(ArpFrame(broadcast, 1, kClientMac, ClientV4(), Mac{}, ServedV4()));
    EthSpec to_group;
    to_group.dst = MulticastMac(SolicitedNode(ServedV6()));
    Ipv6Spec ns;
    ns.dst = SolicitedNode(ServedV6());
    ns.hop_limit = 255;
    t->push_back(Icmp6FrameV6(to_group, ns, 135, 0, NsBody(ServedV6(), &kClientMac)));
    t->push_back(IcmpFrameV4({}, {}, 8, 0, EchoBody(1, 2, 56)));
    t->push_back(Icmp6FrameV6({}, {}, 128, 0, EchoBody(3, 4, 33)));
    return t;
  }();
  return *templates;
}

const dataplane::ServedAddresses& Served() {
  static const dataplane::ServedAddresses* served = [] {
    auto s = dataplane::ServedAddresses::Create({*records::IpAddress::Parse("198.18.0.53"),
                                                 *records::IpAddress::Parse("198.18.1.53"),
                                                 *records::IpAddress::Parse("2001:2::53")});
    if (!s.ok()) std::abort();
    return new dataplane::ServedAddresses(*s);
  }();
  return *served;
}

const records::AnswerTable& Table() {
  static const std::shared_ptr<const records::AnswerTable> table = KubeDnsBuilder()->Build();
  return *table;
}

void Require(const ::testing::AssertionResult& ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "%s: %s\n", what, ok.message());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const std::vector<Bytes>& templates = Templates();
  Bytes frame = templates[data[0] % templates.size()];
  const size_t start = data[1];
  for (size_t i = 3; i < size; ++i) frame[(start + i - 3) % frame.size()] ^= data[i];
  frame.resize(frame.size() - std::min<size_t>(frame.size(), data[2] % 16 == 15 ? data[2] / 16 : 0));

  const dataplane::MacAddress ours(kOurMac.data());
  // Classify an exact-size copy: a read past the frame is an ASan report.
  std::unique_ptr<uint8_t[]> exact(new uint8_t[frame.size() + 1]);
  std::memcpy(exact.get(), frame.data(), frame.size());
  const dataplane::ParsedFrame p = dataplane::ClassifyFrame(exact.get(), frame.size(), ours, Served());

  Bytes buf(frame.size() + kRoom);
  std::memcpy(buf.data(), frame.data(), frame.size());
  size_t reply_len = 0;
  switch (p.action) {
    case dataplane::FrameAction::kDns: {
      const size_t cap = std::min<size_t>(records::kUdpResponseRoom, buf.size() - p.payload_offset);
      records::RespondResult r = records::Respond(Table(), buf.data() + p.payload_offset,
                                                  p.payload_len, cap, records::RespondOptions{});
      if (r.verdict != records::Verdict::kReply) return 0;
      reply_len = dataplane::FinishDnsReply(buf.data(), p, r.size);
      if (reply_len == 0) return 0;
      buf.resize(reply_len);
      Require(CheckUdpReply(frame, buf, kOurMac), "DNS reply");
      break;
    }
    case dataplane::FrameAction::kArpRequest:
      reply_len = dataplane::AnswerArp(buf.data(), p, ours);
      if (reply_len == 0) return 0;
      buf.resize(reply_len);
      Require(CheckArpReply(frame, buf, kOurMac), "ARP reply");
      break;
    case dataplane::FrameAction::kNeighborSolicit:
      reply_len = dataplane::AnswerNeighborSolicit(buf.data(), buf.size(), p, ours);
      if (reply_len == 0) return 0;
      buf.resize(reply_len);
      Require(CheckNeighborAdvert(frame, buf, kOurMac), "neighbour advertisement");
      break;
    case dataplane::FrameAction::kEchoRequest:
      reply_len = dataplane::AnswerEcho(buf.data(), p);
      if (reply_len == 0) return 0;
      buf.resize(reply_len);
      Require(CheckEchoReply(frame, buf, kOurMac), "echo reply");
      break;
    case dataplane::FrameAction::kException:
    case dataplane::FrameAction::kDrop:
      break;
  }
  return 0;
}
