// ClassifyFrame: what each kind of frame is classified as, and where its headers are.
#include "dataplane/packet/frame.h"

#include <gtest/gtest.h>

#include "dataplane/packet/checksum.h"
#include "tests/dataplane/packet/frame_builder.h"
#include "tests/dataplane/packet/test_port.h"

namespace clusterdns::testing {
namespace {

using dataplane::DropReason;
using dataplane::ExceptionReason;
using dataplane::FrameAction;
using dataplane::IpFamily;
using dataplane::ParsedFrame;

const Bytes kDns = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};  // ". A"

EthSpec Tagged(std::vector<std::pair<uint16_t, uint16_t>> tags) {
  EthSpec e;
  e.tags = std::move(tags);
  return e;
}

void ExpectDrop(const Bytes& frame, DropReason reason) {
  const ParsedFrame p = Classify(frame);
  EXPECT_EQ(p.action, FrameAction::kDrop);
  EXPECT_EQ(p.drop, reason) << "got " << dataplane::DropReasonName(p.drop);
}

void ExpectException(const Bytes& frame, ExceptionReason reason) {
  const ParsedFrame p = Classify(frame);
  EXPECT_EQ(p.action, FrameAction::kException) << dataplane::DropReasonName(p.drop);
  EXPECT_EQ(p.exception, reason) << "got " << dataplane::ExceptionReasonName(p.exception);
}

// ---- DNS ----

TEST(ClassifyFrame, DnsOverIpv4) {
  Bytes f = UdpFrameV4({}, {}, 40000, 53, kDns);
  const ParsedFrame p = dataplane::ClassifyFrame(f.data(), f.size(), OurMac(), Served());
  ASSERT_EQ(p.action, FrameAction::kDns) << dataplane::DropReasonName(p.drop);
  EXPECT_EQ(p.family, IpFamily::kV4);
  EXPECT_EQ(p.vlan_tags, 0);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.l4_len, 8 + kDns.size());
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, kDns.size());
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 53);
  EXPECT_EQ(p.src_ip, f.data() + 26);
  EXPECT_EQ(p.dst_ip, f.data() + 30);
}

// Options go to the kernel, which validates them (source routes dropped, malformed ones too) and
// echoes only what it may: a reply built here would carry them back.
TEST(ClassifyFrame, Ipv4WithOptionsGoesToTheKernel) {
  for (const Bytes& options : {Bytes{0x94, 0x04, 0x00, 0x00},           // router alert
                               Bytes{0x83, 0x07, 0x04, 198, 18, 0, 9, 0},  // loose source route
                               Bytes{0x07, 0x00, 0x04, 0x00},           // record route, length 0
                               Bytes{0x01, 0x01, 0x01, 0x00}}) {        // NOPs, EOL
    Ipv4Spec ip;
    ip.options = options;
    ExpectException(UdpFrameV4({}, ip, 40000, 53, kDns), ExceptionReason::kIpOptions);
    ExpectException(IcmpFrameV4({}, ip, 8, 0, Bytes(8, 1)), ExceptionReason::kIpOptions);
  }
}

TEST(ClassifyFrame, DnsOverIpv4WithoutUdpChecksum) {
  EXPECT_EQ(Classify(UdpFrameV4({}, {}, 40000, 53, kDns, /*with_checksum=*/false)).action,
            FrameAction::kDns);
}

TEST(ClassifyFrame, DnsToEveryServedAddress) {
  Ipv4Spec ip;
  ip.dst = ServedV4b();
  EXPECT_EQ(Classify(UdpFrameV4({}, ip, 40000, 53, kDns)).action, FrameAction::kDns);
}

TEST(ClassifyFrame, DnsOverIpv6) {
  Bytes f = UdpFrameV6({}, {}, 40000, 53, kDns);
  const ParsedFrame p = dataplane::ClassifyFrame(f.data(), f.size(), OurMac(), Served());
  ASSERT_EQ(p.action, FrameAction::kDns) << dataplane::DropReasonName(p.drop);
  EXPECT_EQ(p.family, IpFamily::kV6);
  EXPECT_EQ(p.l4_offset, 54);
  EXPECT_EQ(p.payload_offset, 62);
  EXPECT_EQ(p.payload_len, kDns.size());
  EXPECT_EQ(p.src_ip, f.data() + 22);
  EXPECT_EQ(p.dst_ip, f.data() + 38);
}

TEST(ClassifyFrame, DnsFromLinkLocalIpv6) {
  Ipv6Spec ip;
  ip.src = LinkLocalClientV6();
  EXPECT_EQ(Classify(UdpFrameV6({}, ip, 40000, 53, kDns)).action, FrameAction::kDns);
}

TEST(ClassifyFrame, VlanAndQinQ) {
  const ParsedFrame one = Classify(UdpFrameV4(Tagged({{0x8100, 42}}), {}, 40000, 53, kDns));
  ASSERT_EQ(one.action, FrameAction::kDns);
  EXPECT_EQ(one.vlan_tags, 1);
  EXPECT_EQ(one.l3_offset, 18);
  const ParsedFrame two =
      Classify(UdpFrameV6(Tagged({{0x88a8, 7}, {0x8100, 42}}), {}, 40000, 53, kDns));
  ASSERT_EQ(two.action, FrameAction::kDns);
  EXPECT_EQ(two.vlan_tags, 2);
  EXPECT_EQ(two.l3_offset, 22);
  ExpectDrop(UdpFrameV4(Tagged({{0x88a8, 1}, {0x8100, 2}, {0x8100, 3}}), {}, 40000, 53, kDns),
             DropReason::kUnsupported);
}

TEST(ClassifyFrame, EthernetPaddingIsIgnored) {
  Bytes f = UdpFrameV4({}, {}, 40000, 53, {0xab, 0xcd});  // 44 bytes
  f.resize(60, 0);
  const ParsedFrame p = Classify(f);
  ASSERT_EQ(p.action, FrameAction::kDns);
  EXPECT_EQ(p.payload_len, 2);
  Bytes g = UdpFrameV6({}, {}, 40000, 53, kDns);
  g.resize(g.size() + 7, 0xee);
  EXPECT_EQ(Classify(g).payload_len, kDns.size());
}

// ---- not for us ----

TEST(ClassifyFrame, NotForUs) {
  EthSpec other;
  other.dst = {0x02, 0, 0, 0, 0, 0x99};
  ExpectDrop(UdpFrameV4(other, {}, 40000, 53, kDns), DropReason::kNotForUs);
  EthSpec broadcast;
  broadcast.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  ExpectDrop(UdpFrameV4(broadcast, {}, 40000, 53, kDns), DropReason::kNotForUs);
  ExpectDrop(UdpFrameV6(broadcast, {}, 40000, 53, kDns), DropReason::kNotForUs);
  EthSpec ipv4_group;
  ipv4_group.dst = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
  ExpectDrop(UdpFrameV4(ipv4_group, {}, 5353, 5353, kDns), DropReason::kNotForUs);
  Ipv4Spec elsewhere;
  elsewhere.dst = V4("198.18.0.54");
  ExpectDrop(UdpFrameV4({}, elsewhere, 40000, 53, kDns), DropReason::kNotForUs);
  Ipv6Spec elsewhere6;
  elsewhere6.dst = V6("2001:2::54");
  ExpectDrop(UdpFrameV6({}, elsewhere6, 40000, 53, kDns), DropReason::kNotForUs);
  // An IPv6 group we do not belong to, in its own Ethernet group and in ours.
  Ipv6Spec mdns;
  mdns.dst = V6("ff02::fb");
  EthSpec mdns_eth;
  mdns_eth.dst = MulticastMac(mdns.dst);
  ExpectDrop(UdpFrameV6(mdns_eth, mdns, 5353, 5353, kDns), DropReason::kNotForUs);
  ExpectDrop(UdpFrameV6({}, mdns, 5353, 5353, kDns), DropReason::kNotForUs);
  // Unknown EtherType: to our MAC it is the kernel's business; to anyone else, dropped.
  ExpectException(Ethernet({}, 0x88cc, Bytes(46, 0)), ExceptionReason::kEtherType);
  ExpectDrop(Ethernet(broadcast, 0x88cc, Bytes(46, 0)), DropReason::kNotForUs);
}

// ---- sources we never answer ----

TEST(ClassifyFrame, BadSources) {
  EthSpec group_source;
  group_source.src = {0x01, 0x00, 0x5e, 0, 0, 1};
  ExpectDrop(UdpFrameV4(group_source, {}, 40000, 53, kDns), DropReason::kBadSource);
  EthSpec looped;
  looped.src = kOurMac;
  ExpectDrop(UdpFrameV4(looped, {}, 40000, 53, kDns), DropReason::kBadSource);
  for (const char* src :
       {"0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.251", "255.255.255.255", "240.0.0.1"}) {
    Ipv4Spec ip;
    ip.src = V4(src);
    ExpectDrop(UdpFrameV4({}, ip, 40000, 53, kDns), DropReason::kBadSource);
  }
  ExpectDrop(UdpFrameV4({}, {}, 0, 53, kDns), DropReason::kBadSource);
  // One of our own IPv4 addresses as the source, to it or to the other: a martian to Linux.
  for (const Ip4& src : {ServedV4(), ServedV4b()}) {
    Ipv4Spec ip;
    ip.src = src;
    ExpectDrop(UdpFrameV4({}, ip, 40000, 53, kDns), DropReason::kBadSource);
    ExpectDrop(IcmpFrameV4({}, ip, 8, 0, EchoBody(1, 1, 8)), DropReason::kBadSource);
  }
  for (const char* src : {"ff02::1", "::1", "::"}) {
    Ipv6Spec ip;
    ip.src = V6(src);
    ExpectDrop(UdpFrameV6({}, ip, 40000, 53, kDns), DropReason::kBadSource);
    ExpectDrop(Icmp6FrameV6({}, ip, 128, 0, EchoBody(1, 1, 8)), DropReason::kBadSource);
  }
}

// ---- malformed ----

TEST(ClassifyFrame, MalformedIpv4) {
  const Bytes good = UdpFrameV4({}, {}, 40000, 53, kDns);
  ExpectDrop(Bytes(good.begin(), good.begin() + 13), DropReason::kTruncated);
  Bytes f = good;
  f[24] ^= 0x01;  // header checksum
  ExpectDrop(f, DropReason::kBadChecksum);
  f = good;
  f[14] = 0x55;  // version 5
  ExpectDrop(f, DropReason::kBadHeader);
  f = good;
  f[14] = 0x44;  // IHL 4
  ExpectDrop(f, DropReason::kBadHeader);
  f = good;
  PutU16(f, 16, static_cast<uint16_t>(good.size() - 14 + 1));  // total length > frame
  RepairChecksums(f);
  ExpectDrop(f, DropReason::kBadLength);
  f = good;
  PutU16(f, 16, 19);  // total length < header
  PutU16(f, 24, 0);
  PutU16(f, 24, NaiveChecksum(&f[14], 20));
  ExpectDrop(f, DropReason::kBadLength);
  f = good;
  f[14] = 0x4f;  // IHL 15: 60 bytes of header, more than the frame holds after the header
  f.resize(14 + 40);
  ExpectDrop(f, DropReason::kTruncated);
}

TEST(ClassifyFrame, UdpLengthAndChecksum) {
  const Bytes good = UdpFrameV4({}, {}, 40000, 53, kDns);
  for (const uint16_t udp_len : {26, 7, 0}) {  // one past the IP payload; shorter than a header
    Bytes f = good;
    PutU16(f, 38, udp_len);
    RepairChecksums(f);
    ExpectDrop(f, DropReason::kBadLength);
  }
  // A UDP length short of the IP payload: the datagram ends there, as Linux reads it.
  for (Bytes f : {good, UdpFrameV6({}, {}, 40000, 53, kDns)}) {
    const size_t l4 = f.size() - 8 - kDns.size();
    AppendAfterUdp(f, 3);
    const ParsedFrame p = Classify(f);
    ASSERT_EQ(p.action, FrameAction::kDns) << dataplane::DropReasonName(p.drop);
    EXPECT_EQ(p.l4_offset, l4);
    EXPECT_EQ(p.l4_len, 8 + kDns.size());
    EXPECT_EQ(p.payload_len, kDns.size());
    f[f.size() - 4] ^= 0x40;  // the datagram's last byte: its checksum still counts
    ExpectDrop(f, DropReason::kBadChecksum);
  }
  Bytes f = good;
  f.back() ^= 0x40;  // payload changed under the checksum
  ExpectDrop(f, DropReason::kBadChecksum);

  Bytes v6 = UdpFrameV6({}, {}, 40000, 53, kDns);
  v6.back() ^= 0x40;
  ExpectDrop(v6, DropReason::kBadChecksum);

  // The same with room readable past the frame, as an mbuf has (the checksum is then summed
  // without branches on the length, checksum.h): a change in any of the last 16 bytes still
  // counts, and the room's bytes do not.
  for (const Bytes& base : {good, UdpFrameV6({}, {}, 40000, 53, kDns)}) {
    for (size_t back = 1; back <= 16; ++back) {
      Bytes room = base;
      room.resize(base.size() + dataplane::kOnesSumSlack, 0xa5);
      const auto classify = [&](const Bytes& b) {
        return dataplane::ClassifyFrame(b.data(), base.size(), OurMac(), Served(), {}, b.size());
      };
      EXPECT_EQ(classify(room).action, FrameAction::kDns) << back;
      room[base.size() - back] ^= 0x04;
      EXPECT_EQ(classify(room).drop, DropReason::kBadChecksum) << back;
    }
  }
  v6 = UdpFrameV6({}, {}, 40000, 53, kDns);
  PutU16(v6, 54 + 6, 0);  // zero UDP checksum is illegal over IPv6
  ExpectDrop(v6, DropReason::kBadChecksum);
}

// Checks the NIC reported as done are skipped; the others still run.
TEST(ClassifyFrame, RxChecksFromTheNicAreTrusted) {
  Bytes bad_udp = UdpFrameV4({}, {}, 40000, 53, kDns);
  bad_udp.back() ^= 0x40;
  Bytes bad_ip = UdpFrameV4({}, {}, 40000, 53, kDns, /*with_checksum=*/false);
  bad_ip[24] ^= 0x01;
  Bytes zero_v6 = UdpFrameV6({}, {}, 40000, 53, kDns);
  PutU16(zero_v6, 54 + 6, 0);
  const dataplane::RxChecks both{.ipv4_checksum_good = true, .udp_checksum_good = true};
  const auto classify = [&](Bytes& f, dataplane::RxChecks rx) {
    return dataplane::ClassifyFrame(f.data(), f.size(), OurMac(), Served(), rx);
  };
  EXPECT_EQ(classify(bad_udp, {}).drop, DropReason::kBadChecksum);
  EXPECT_EQ(classify(bad_udp, {.ipv4_checksum_good = true}).drop, DropReason::kBadChecksum);
  EXPECT_EQ(classify(bad_udp, {.udp_checksum_good = true}).action, FrameAction::kDns);
  EXPECT_EQ(classify(bad_ip, {}).drop, DropReason::kBadChecksum);
  EXPECT_EQ(classify(bad_ip, {.udp_checksum_good = true}).drop, DropReason::kBadChecksum);
  EXPECT_EQ(classify(bad_ip, {.ipv4_checksum_good = true}).action, FrameAction::kDns);
  EXPECT_EQ(classify(zero_v6, both).drop, DropReason::kBadChecksum);
  Bytes bad_echo = IcmpFrameV4({}, {}, 8, 0, EchoBody(7, 9, 56));
  bad_echo.back() ^= 1;
  EXPECT_EQ(classify(bad_echo, both).drop, DropReason::kBadChecksum);  // ICMP: always ours
}

TEST(ClassifyFrame, MalformedIpv6) {
  const Bytes good = UdpFrameV6({}, {}, 40000, 53, kDns);
  Bytes f = good;
  PutU16(f, 18, static_cast<uint16_t>(GetU16(f, 18) + 1));  // payload length > frame
  ExpectDrop(f, DropReason::kBadLength);
  f = good;
  PutU16(f, 18, static_cast<uint16_t>(GetU16(f, 18) - 1));  // now disagrees with UDP length
  RepairChecksums(f);
  ExpectDrop(f, DropReason::kBadLength);
  f = good;
  PutU16(f, 18, 0);  // jumbogram
  ExpectDrop(f, DropReason::kUnsupported);
  f = good;
  f[14] = 0x40;  // version 4 in an IPv6 EtherType
  ExpectDrop(f, DropReason::kBadHeader);
  ExpectDrop(Bytes(good.begin(), good.begin() + 14 + 39), DropReason::kTruncated);
}

// ---- exception path ----

TEST(ClassifyFrame, ExceptionPath) {
  ExpectException(Ethernet({}, 0x0800, Ipv4Packet({}, 6, Bytes(20, 0))),
                  ExceptionReason::kProtocol);
  ExpectException(Ethernet({}, 0x86dd, Ipv6Packet({}, 6, Bytes(20, 0))),
                  ExceptionReason::kProtocol);
  ExpectException(Ethernet({}, 0x86dd, Ipv6Packet({}, 0, Bytes(16, 0))),
                  ExceptionReason::kProtocol);
  ExpectException(Ethernet({}, 0x86dd, Ipv6Packet({}, 44, Bytes(16, 0))),
                  ExceptionReason::kProtocol);
  ExpectException(UdpFrameV4({}, {}, 40000, 5353, kDns), ExceptionReason::kUdpPort);
  ExpectException(UdpFrameV6({}, {}, 40000, 123, kDns), ExceptionReason::kUdpPort);
  ExpectException(IcmpFrameV4({}, {}, 3, 3, Bytes(32, 0)), ExceptionReason::kIcmp);
  ExpectException(IcmpFrameV4({}, {}, 8, 1, EchoBody(1, 1, 8)), ExceptionReason::kIcmp);
  ExpectException(Icmp6FrameV6({}, {}, 1, 4, Bytes(48, 0)), ExceptionReason::kIcmp);
  ExpectException(Icmp6FrameV6({}, {}, 136, 0, Bytes(28, 0)), ExceptionReason::kIcmp);  // an NA
  for (uint16_t fragment : {0x2000, 0x0001, 0x00b9, 0x3fff}) {
    Ipv4Spec ip;
    ip.fragment = fragment;
    ExpectException(UdpFrameV4({}, ip, 40000, 53, kDns), ExceptionReason::kFragment);
  }
  Ipv4Spec df;
  df.fragment = 0x4000;  // DF alone is not a fragment
  EXPECT_EQ(Classify(UdpFrameV4({}, df, 40000, 53, kDns)).action, FrameAction::kDns);
  // To all-nodes: router advertisements and multicast echo are the kernel's.
  Ipv6Spec all_nodes;
  all_nodes.dst = V6("ff02::1");
  all_nodes.src = LinkLocalClientV6();
  all_nodes.hop_limit = 255;
  EthSpec all_nodes_eth;
  all_nodes_eth.dst = MulticastMac(all_nodes.dst);
  ExpectException(Icmp6FrameV6(all_nodes_eth, all_nodes, 134, 0, Bytes(12, 0)),
                  ExceptionReason::kMulticast);
  ExpectException(Icmp6FrameV6(all_nodes_eth, all_nodes, 128, 0, EchoBody(1, 1, 8)),
                  ExceptionReason::kMulticast);
  ExpectException(UdpFrameV6(all_nodes_eth, all_nodes, 40000, 53, kDns),
                  ExceptionReason::kMulticast);
}

// ---- echo ----

TEST(ClassifyFrame, Echo) {
  const ParsedFrame v4 = Classify(IcmpFrameV4({}, {}, 8, 0, EchoBody(7, 9, 56)));
  ASSERT_EQ(v4.action, FrameAction::kEchoRequest) << dataplane::DropReasonName(v4.drop);
  EXPECT_EQ(v4.l4_len, 64);
  EXPECT_EQ(v4.payload_len, 56);
  const ParsedFrame v6 = Classify(Icmp6FrameV6({}, {}, 128, 0, EchoBody(7, 9, 56)));
  ASSERT_EQ(v6.action, FrameAction::kEchoRequest) << dataplane::DropReasonName(v6.drop);
  EXPECT_EQ(v6.l4_len, 64);
  Bytes bad = IcmpFrameV4({}, {}, 8, 0, EchoBody(7, 9, 56));
  bad.back() ^= 1;
  ExpectDrop(bad, DropReason::kBadChecksum);
  bad = Icmp6FrameV6({}, {}, 128, 0, EchoBody(7, 9, 56));
  bad.back() ^= 1;
  ExpectDrop(bad, DropReason::kBadChecksum);
  ExpectDrop(IcmpFrameV4({}, {}, 8, 0, {0, 1}), DropReason::kBadLength);  // 6-byte echo
}

// ---- ARP ----

TEST(ClassifyFrame, Arp) {
  EthSpec broadcast;
  broadcast.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const Mac zero = {};
  const ParsedFrame p = Classify(ArpFrame(broadcast, 1, kClientMac, ClientV4(), zero, ServedV4()));
  ASSERT_EQ(p.action, FrameAction::kArpRequest) << dataplane::DropReasonName(p.drop);
  EXPECT_EQ(p.family, IpFamily::kV4);
  EXPECT_EQ(p.l3_offset, 14);
  // Unicast (cache refresh), tagged.
  EthSpec unicast = Tagged({{0x8100, 5}});
  EXPECT_EQ(Classify(ArpFrame(unicast, 1, kClientMac, ClientV4(), kOurMac, ServedV4b())).action,
            FrameAction::kArpRequest);
  // RFC 5227 probe from 0.0.0.0: answered.
  EXPECT_EQ(Classify(ArpFrame(broadcast, 1, kClientMac, V4("0.0.0.0"), zero, ServedV4())).action,
            FrameAction::kArpRequest);
  // Someone else's address.
  ExpectDrop(ArpFrame(broadcast, 1, kClientMac, ClientV4(), zero, V4("198.18.0.1")),
             DropReason::kNotForUs);
  // Replies and announcements of our own address go to the kernel.
  ExpectException(ArpFrame({}, 2, kClientMac, ClientV4(), kOurMac, ServedV4()),
                  ExceptionReason::kArp);
  ExpectException(ArpFrame(broadcast, 1, kClientMac, ServedV4(), zero, ServedV4()),
                  ExceptionReason::kArp);
  // A request from another host that claims our other address: a conflict for the kernel too.
  ExpectException(ArpFrame(broadcast, 1, kClientMac, ServedV4b(), zero, ServedV4()),
                  ExceptionReason::kArp);
  // Broken ones.
  Bytes f = ArpFrame(broadcast, 1, kClientMac, ClientV4(), zero, ServedV4());
  f[14 + 5] = 16;  // protocol size
  ExpectDrop(f, DropReason::kBadHeader);
  f = ArpFrame(broadcast, 1, kClientMac, ClientV4(), zero, ServedV4());
  ExpectDrop(Bytes(f.begin(), f.end() - 1), DropReason::kTruncated);
  const Mac group = {0x01, 0, 0, 0, 0, 1};
  ExpectDrop(ArpFrame(broadcast, 1, group, ClientV4(), zero, ServedV4()), DropReason::kBadSource);
  ExpectDrop(ArpFrame(broadcast, 1, kClientMac, V4("224.0.0.1"), zero, ServedV4()),
             DropReason::kBadSource);
  EthSpec v6_group;
  v6_group.dst = {0x33, 0x33, 0, 0, 0, 1};
  ExpectDrop(ArpFrame(v6_group, 1, kClientMac, ClientV4(), zero, ServedV4()),
             DropReason::kNotForUs);
}

// ---- neighbour solicitation ----

struct NsCase {
  EthSpec eth;
  Ipv6Spec ip;
};

NsCase Solicited(const Ip6& target) {
  NsCase c;
  c.ip.src = LinkLocalClientV6();
  c.ip.dst = SolicitedNode(target);
  c.ip.hop_limit = 255;
  c.eth.dst = MulticastMac(c.ip.dst);
  return c;
}

TEST(ClassifyFrame, NeighborSolicitation) {
  NsCase c = Solicited(ServedV6());
  const ParsedFrame p =
      Classify(Icmp6FrameV6(c.eth, c.ip, 135, 0, NsBody(ServedV6(), &kClientMac)));
  ASSERT_EQ(p.action, FrameAction::kNeighborSolicit) << dataplane::DropReasonName(p.drop);
  EXPECT_EQ(p.family, IpFamily::kV6);
  // The source link-layer option's address: ICMPv6 at 54, options at +24, address at +2.
  EXPECT_EQ(p.payload_offset, 54 + 24 + 2);
  EXPECT_EQ(p.payload_len, 6);
  // Unicast NUD probe, no options.
  Ipv6Spec unicast;
  unicast.hop_limit = 255;
  const ParsedFrame probe =
      Classify(Icmp6FrameV6({}, unicast, 135, 0, NsBody(ServedV6(), nullptr)));
  EXPECT_EQ(probe.action, FrameAction::kNeighborSolicit);
  EXPECT_EQ(probe.payload_offset, 0);
  // DAD: from ::, to the group, no source link-layer address option.
  NsCase dad = Solicited(ServedV6());
  dad.ip.src = V6("::");
  EXPECT_EQ(Classify(Icmp6FrameV6(dad.eth, dad.ip, 135, 0, NsBody(ServedV6(), nullptr))).action,
            FrameAction::kNeighborSolicit);
}

TEST(ClassifyFrame, InvalidNeighborSolicitations) {
  const NsCase c = Solicited(ServedV6());
  NsCase routed = c;
  routed.ip.hop_limit = 254;
  ExpectDrop(Icmp6FrameV6(routed.eth, routed.ip, 135, 0, NsBody(ServedV6(), &kClientMac)),
             DropReason::kBadNeighborDiscovery);
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 1, NsBody(ServedV6(), &kClientMac)),
             DropReason::kBadNeighborDiscovery);
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, Bytes(12, 0)), DropReason::kBadNeighborDiscovery);
  Bytes body = NsBody(ServedV6(), &kClientMac);
  body[21] = 0;  // option length 0
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, body), DropReason::kBadNeighborDiscovery);
  body = NsBody(ServedV6(), &kClientMac);
  body[21] = 2;  // option runs past the message
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, body), DropReason::kBadNeighborDiscovery);
  body = NsBody(ServedV6(), &kClientMac);
  body.push_back(3);  // a lone option type byte
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, body), DropReason::kBadNeighborDiscovery);
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, NsBody(V6("ff02::1"), nullptr)),
             DropReason::kBadNeighborDiscovery);
  NsCase dad = c;
  dad.ip.src = V6("::");
  ExpectDrop(Icmp6FrameV6(dad.eth, dad.ip, 135, 0, NsBody(ServedV6(), &kClientMac)),
             DropReason::kBadNeighborDiscovery);  // DAD with a source link-layer address
  Ipv6Spec dad_unicast;
  dad_unicast.src = V6("::");
  dad_unicast.hop_limit = 255;
  ExpectDrop(Icmp6FrameV6({}, dad_unicast, 135, 0, NsBody(ServedV6(), nullptr)),
             DropReason::kBadNeighborDiscovery);  // DAD not to the solicited-node group
  NsCase dad_all_nodes = c;
  dad_all_nodes.ip.src = V6("::");
  dad_all_nodes.ip.dst = V6("ff02::1");
  dad_all_nodes.eth.dst = {0x33, 0x33, 0, 0, 0, 1};
  ExpectDrop(Icmp6FrameV6(dad_all_nodes.eth, dad_all_nodes.ip, 135, 0,
                          NsBody(ServedV6(), nullptr)),
             DropReason::kBadNeighborDiscovery);  // DAD to all-nodes (RFC 4861 7.1.1)
  body = NsBody(ServedV6(), &kClientMac);
  body[21] = 2;  // a source link-layer option of 16 bytes: not Ethernet's (RFC 2464 6)
  body.resize(body.size() + 8, 0);
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, body), DropReason::kBadNeighborDiscovery);
  Bytes f = Icmp6FrameV6(c.eth, c.ip, 135, 0, NsBody(ServedV6(), &kClientMac));
  f.back() ^= 1;
  ExpectDrop(f, DropReason::kBadChecksum);
}

TEST(ClassifyFrame, NeighborSolicitationsForOthers) {
  // Same low 24 bits as our address: our group, someone else's target.
  const Ip6 other = V6("2001:3::53");
  NsCase c = Solicited(other);
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, NsBody(other, &kClientMac)), DropReason::kNotForUs);
  // Another group altogether: filtered by MAC.
  c = Solicited(V6("2001:2::99"));
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, NsBody(V6("2001:2::99"), &kClientMac)),
             DropReason::kNotForUs);
  // Our group's IP in the wrong Ethernet group.
  c = Solicited(ServedV6());
  c.eth.dst = {0x33, 0x33, 0, 0, 0, 1};
  ExpectDrop(Icmp6FrameV6(c.eth, c.ip, 135, 0, NsBody(ServedV6(), &kClientMac)),
             DropReason::kNotForUs);
}

TEST(ClassifyFrame, ReasonNames) {
  for (int i = 0; i <= static_cast<int>(DropReason::kCount); ++i) {
    EXPECT_STRNE(dataplane::DropReasonName(static_cast<DropReason>(i)), "");
  }
  EXPECT_STREQ(dataplane::DropReasonName(DropReason::kNotForUs), "not_for_us");
  EXPECT_STREQ(dataplane::ExceptionReasonName(ExceptionReason::kFragment), "fragment");
}

}  // namespace
}  // namespace clusterdns::testing
