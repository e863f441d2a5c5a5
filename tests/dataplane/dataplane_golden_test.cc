// Golden test of the whole dataplane: a pcap of queries and other frames replayed through the real
// Dataplane (dataplane-responder on net_pcap, rx_pcap → tx_pcap), and every frame it transmitted
// checked by the independent reply checker (tests/dataplane/packet/reply_checker.h: MACs, IPs,
// ports swapped, VLAN tags kept, lengths, every checksum summed by naive code) and the DNS
// decoder (tests/support/dns_message.h). The TCP SYN (exception path) and the frame for another
// MAC (drop) must produce nothing, and the responder's counters must say so.
//
// Needs no root and no network: net_pcap reads and writes files. Every DPDK run passes --no-pci,
// --no-huge and a unique --file-prefix (DESIGN.md "Test topology and safety").
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "records/dns_constants.h"
#include "tests/dataplane/child_process.h"
#include "tests/dataplane/packet/frame_builder.h"
#include "tests/dataplane/packet/reply_checker.h"
#include "tests/dataplane/pcap_file.h"
#include "tests/dataplane/responder_output.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

// net_pcap's port MAC in DPDK 22.11 (pcap_ethdev.c: 02:70:63:61:70:<port>, "pcap"); the test
// checks the responder's port log line says so, so a DPDK that changes it fails clearly here.
constexpr Mac kPcapMac = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00};
constexpr char kDomain[] = "cluster.local";

enum class Kind { kDns, kArp, kNeighbor, kEcho, kNone };

struct Case {
  std::string what;
  Bytes frame;
  Kind reply;
  uint16_t dns_id = 0;               // kDns: the query ID, to find its reply
  uint8_t rcode = 0;                 // kDns
  std::vector<std::string> answers;  // kDns: RecordToText of each answer, in order
};

Bytes DnsQueryV4(const EthSpec& eth, const std::string& name, uint16_t type, uint16_t id,
                 bool edns = false) {
  QueryOptions o;
  o.id = id;
  o.edns = edns;
  return UdpFrameV4(eth, {}, static_cast<uint16_t>(40000 + id % 1000), 53,
                    BuildQuery(name, type, o));
}

Bytes DnsQueryV6(const EthSpec& eth, const std::string& name, uint16_t type, uint16_t id,
                 bool edns = false) {
  QueryOptions o;
  o.id = id;
  o.edns = edns;
  return UdpFrameV6(eth, {}, static_cast<uint16_t>(40000 + id % 1000), 53,
                    BuildQuery(name, type, o));
}

Bytes TcpSynV4(const EthSpec& eth) {
  Bytes tcp(20, 0);
  PutU16(tcp, 0, 40053);  // source port
  PutU16(tcp, 2, 53);
  tcp[7] = 1;              // sequence number 1
  tcp[12] = 5 << 4;        // data offset: 5 words
  tcp[13] = 0x02;          // SYN
  PutU16(tcp, 14, 64240);  // window
  Ipv4Spec ip;
  PutU16(tcp, 16,
         NaiveChecksum(tcp.data(), tcp.size(),
                       NaivePseudoV4(ip.src, ip.dst, 6, static_cast<uint16_t>(tcp.size()))));
  return Ethernet(eth, 0x0800, Ipv4Packet(ip, 6, tcp));
}

std::vector<Case> GoldenCases() {
  using namespace records;  // kType*, kRcode*
  EthSpec plain;
  plain.dst = kPcapMac;
  EthSpec vlan = plain;
  vlan.tags = {{0x8100, 42}};
  EthSpec qinq = plain;
  qinq.tags = {{0x88a8, 100}, {0x8100, 7}};
  EthSpec broadcast = plain;
  broadcast.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EthSpec other_mac = plain;
  other_mac.dst = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

  const std::string redis = absl::StrCat("redis-master.default.svc.", kDomain);
  std::vector<Case> cases;
  cases.push_back({"ipv4 A",
                   DnsQueryV4(plain, redis, kTypeA, 0x1001),
                   Kind::kDns,
                   0x1001,
                   kRcodeNoError,
                   {redis + ". 30 IN A 10.254.7.160"}});
  cases.push_back({"ipv4 802.1Q NXDOMAIN",
                   DnsQueryV4(vlan, absl::StrCat("nothere.default.svc.", kDomain), kTypeA, 0x1002),
                   Kind::kDns,
                   0x1002,
                   kRcodeNxDomain,
                   {}});
  cases.push_back({"ipv6 SRV",
                   DnsQueryV6(plain, absl::StrCat("_dns._udp.kube-dns.kube-system.svc.", kDomain),
                              kTypeSrv, 0x1003),
                   Kind::kDns,
                   0x1003,
                   kRcodeNoError,
                   {absl::StrCat("_dns._udp.kube-dns.kube-system.svc.", kDomain,
                                 ". 30 IN SRV 0 100 53 kube-dns.kube-system.svc.", kDomain, ".")}});
  cases.push_back({"ipv6 802.1Q A with EDNS",
                   DnsQueryV6(vlan, redis, kTypeA, 0x1004, true),
                   Kind::kDns,
                   0x1004,
                   kRcodeNoError,
                   {redis + ". 30 IN A 10.254.7.160"}});
  cases.push_back({"ipv4 QinQ AAAA of a dual-stack Service",
                   DnsQueryV4(qinq, absl::StrCat("dual.default.svc.", kDomain), kTypeAaaa, 0x1005),
                   Kind::kDns,
                   0x1005,
                   kRcodeNoError,
                   {absl::StrCat("dual.default.svc.", kDomain, ". 30 IN AAAA fd00:10:254::9")}});
  cases.push_back({"ipv4 name outside the zone: REFUSED",
                   DnsQueryV4(plain, "www.example.com", kTypeA, 0x1006),
                   Kind::kDns,
                   0x1006,
                   kRcodeRefused,
                   {}});
  cases.push_back({"ARP request", ArpFrame(broadcast, 1, kClientMac, ClientV4(), Mac{}, ServedV4()),
                   Kind::kArp});
  {
    EthSpec eth = plain;
    Ipv6Spec ip;
    ip.hop_limit = 255;
    ip.dst = SolicitedNode(ServedV6());
    eth.dst = MulticastMac(ip.dst);
    cases.push_back({"neighbour solicitation",
                     Icmp6FrameV6(eth, ip, 135, 0, NsBody(ServedV6(), &kClientMac)),
                     Kind::kNeighbor});
  }
  cases.push_back(
      {"ICMP echo", IcmpFrameV4(plain, {}, 8, 0, EchoBody(0xbeef, 1, 56)), Kind::kEcho});
  cases.push_back(
      {"ICMPv6 echo", Icmp6FrameV6(vlan, {}, 128, 0, EchoBody(0xbeef, 2, 56)), Kind::kEcho});
  cases.push_back({"TCP SYN to port 53 (exception)", TcpSynV4(plain), Kind::kNone});
  cases.push_back(
      {"query to another MAC (drop)", DnsQueryV4(other_mac, redis, kTypeA, 0x10ff), Kind::kNone});
  return cases;
}

// Which request a transmitted frame answers: by DNS ID, by kind, by ICMP family.
const Case* FindRequest(const std::vector<Case>& cases, const Bytes& reply) {
  const L2Layout l2 = ReadL2(reply);
  for (const Case& c : cases) {
    const L2Layout q = ReadL2(c.frame);
    if (q.type != l2.type) continue;
    switch (c.reply) {
      case Kind::kArp: return &c;
      case Kind::kDns: {
        const size_t l4 = l2.type == 0x0800 ? l2.l3 + size_t{reply[l2.l3] & 0x0fu} * 4 : l2.l3 + 40;
        const uint8_t protocol = l2.type == 0x0800 ? reply[l2.l3 + 9] : reply[l2.l3 + 6];
        if (protocol == 17 && reply.size() >= l4 + 10 && GetU16(reply, l4 + 8) == c.dns_id)
          return &c;
        break;
      }
      case Kind::kNeighbor:
        if (l2.type == 0x86dd && reply[l2.l3 + 6] == 58 && reply[l2.l3 + 40] == 136) return &c;
        break;
      case Kind::kEcho: {
        if (l2.type == 0x0800 && reply[l2.l3 + 9] == 1) return &c;
        if (l2.type == 0x86dd && reply[l2.l3 + 6] == 58 && reply[l2.l3 + 40] == 129) return &c;
        break;
      }
      case Kind::kNone: break;
    }
  }
  return nullptr;
}

TEST(DataplaneGolden, AnswersEveryFrameOfThePcap) {
  TempDir dir;
  const std::vector<Case> cases = GoldenCases();
  std::vector<Bytes> frames;
  size_t expected_replies = 0;
  for (const Case& c : cases) {
    frames.push_back(c.frame);
    if (c.reply != Kind::kNone) ++expected_replies;
  }
  const std::string in = dir.path() + "/in.pcap";
  const std::string out = dir.path() + "/out.pcap";
  ASSERT_TRUE(WritePcap(in, frames).ok());

  const std::string prefix = absl::StrCat("cdns-golden-", getpid());
  auto child =
      ChildProcess::Spawn({CDNS_RESPONDER, "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
                           "--no-telemetry", absl::StrCat("--file-prefix=", prefix), "-l", "0",
                           absl::StrCat("--vdev=net_pcap0,rx_pcap=", in, ",tx_pcap=", out), "--",
                           "--ip=198.18.0.53,198.18.1.53,2001:2::53", "--seconds=20",
                           absl::StrCat("--stop-after-rx=", frames.size())},
                          dir.path() + "/stdout", dir.path() + "/stderr");
  ASSERT_TRUE(child.ok()) << child.status();
  const std::optional<int> status = child->Wait(absl::Seconds(30));
  const std::string stdout_text = ReadFileOrEmpty(dir.path() + "/stdout");
  const std::string stderr_text = ReadFileOrEmpty(dir.path() + "/stderr");
  ASSERT_TRUE(status.has_value()) << "responder still running after 30 s\n" << stderr_text;
  ASSERT_EQ(*status, 0) << stderr_text;
  EXPECT_NE(stderr_text.find("mac 02:70:63:61:70:00"), std::string::npos) << stderr_text;

  auto replies = ReadPcap(out);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(replies->size(), expected_replies);
  std::map<std::string, int> answered;
  for (const Bytes& reply : *replies) {
    const Case* c = FindRequest(cases, reply);
    ASSERT_NE(c, nullptr) << "a transmitted frame answers no request (" << reply.size()
                          << " bytes)";
    SCOPED_TRACE(c->what);
    ++answered[c->what];
    switch (c->reply) {
      case Kind::kDns: {
        Bytes payload;
        ASSERT_TRUE(CheckUdpReply(c->frame, reply, kPcapMac, &payload));
        auto m = DecodeMessage(payload);
        ASSERT_TRUE(m.ok()) << m.status();
        EXPECT_TRUE(m->qr);
        EXPECT_EQ(m->id, c->dns_id);
        EXPECT_EQ(m->rcode, c->rcode) << ToText(*m);
        std::vector<std::string> answers;
        for (const DecodedRecord& r : m->answer) answers.push_back(RecordToText(r));
        EXPECT_EQ(answers, c->answers) << ToText(*m);
        if (c->rcode == records::kRcodeNxDomain) {
          ASSERT_EQ(m->authority.size(), 1u) << ToText(*m);
          EXPECT_EQ(m->authority[0].type, records::kTypeSoa);
        }
        EXPECT_EQ(m->opt.has_value(), c->dns_id == 0x1004) << ToText(*m);
        break;
      }
      case Kind::kArp: EXPECT_TRUE(CheckArpReply(c->frame, reply, kPcapMac)); break;
      case Kind::kNeighbor: EXPECT_TRUE(CheckNeighborAdvert(c->frame, reply, kPcapMac)); break;
      case Kind::kEcho: EXPECT_TRUE(CheckEchoReply(c->frame, reply, kPcapMac)); break;
      case Kind::kNone: ADD_FAILURE() << "a reply to a frame that must get none"; break;
    }
  }
  for (const Case& c : cases) {
    EXPECT_EQ(answered[c.what], c.reply == Kind::kNone ? 0 : 1) << c.what;
  }

  // The counters agree with what went out, and name the exception and the drop.
  const std::vector<Fields> workers = ParseLines(stdout_text, "worker");
  ASSERT_EQ(workers.size(), 1u) << stdout_text;
  const Fields& w = workers[0];
  EXPECT_EQ(Get(w, "rx"), frames.size()) << stdout_text;
  EXPECT_EQ(Get(w, "tx"), expected_replies) << stdout_text;
  EXPECT_EQ(Get(w, "tx_dropped"), 0u);
  EXPECT_EQ(Get(w, "dns"), 6u);
  EXPECT_EQ(Get(w, "arp"), 1u);
  EXPECT_EQ(Get(w, "nd"), 1u);
  EXPECT_EQ(Get(w, "echo"), 2u);
  EXPECT_EQ(Get(w, "drops"), 1u);
  EXPECT_EQ(Get(w, "drop.not_for_us"), 1u) << stdout_text;
  EXPECT_EQ(Get(w, "exceptions"), 1u);
  EXPECT_EQ(Get(w, "exception.protocol"), 1u) << stdout_text;
  const std::vector<Fields> queries = ParseLines(stdout_text, "queries");
  ASSERT_EQ(queries.size(), 1u) << stdout_text;
  EXPECT_EQ(Get(queries[0], "replies"), 6u);
  EXPECT_EQ(Get(queries[0], "noerror"), 4u);
  EXPECT_EQ(Get(queries[0], "nxdomain"), 1u);
  EXPECT_EQ(Get(queries[0], "refused"), 1u);
}

}  // namespace
}  // namespace clusterdns::testing
