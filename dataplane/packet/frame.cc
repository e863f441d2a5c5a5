// ClassifyFrame (frame.h). Checks run cheapest-rejection first: the destination MAC throws out
// foreign traffic before any L3 byte is read; the port decides the exception path before a
// checksum is summed, because the kernel verifies what it gets anyway.
#include "dataplane/packet/frame.h"

#include <cstring>

#include "dataplane/packet/byte_order.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/headers.h"

namespace clusterdns::dataplane {
namespace {

// How the destination MAC addressed us.
enum class L2Dest : uint8_t { kOurs, kBroadcast, kIpv6Group };

// Everything Parse* needs, so the helpers take one argument instead of six.
struct Input {
  const uint8_t* frame;
  size_t len;
  size_t readable;  // ≥ len
  const ServedAddresses& served;
  L2Dest l2;
  RxChecks rx;
};

void Drop(ParsedFrame& p, DropReason reason) {
  p.action = FrameAction::kDrop;
  p.drop = reason;
}
void Exception(ParsedFrame& p, ExceptionReason reason) {
  p.action = FrameAction::kException;
  p.exception = reason;
}

// Sources a reply must never go to. 0.0.0.0/8 includes the unspecified address; >= 224 covers
// multicast, 240/4 and the limited broadcast.
bool BadSourceV4(const uint8_t* b) { return b[0] == 0 || b[0] == 127 || b[0] >= 224; }

bool IsUnspecifiedV6(const uint8_t* b) { return RawLoad64(b) == 0 && RawLoad64(b + 8) == 0; }
bool IsLoopbackV6(const uint8_t* b) {
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(b, kLoopback, 16) == 0;
}
bool IsAllNodesMac(const uint8_t* mac) {
  static constexpr uint8_t kAllNodes[MacAddress::kLen] = {0x33, 0x33, 0, 0, 0, 1};
  return std::memcmp(mac, kAllNodes, MacAddress::kLen) == 0;
}
bool IsAllNodesV6(const uint8_t* b) {
  static constexpr uint8_t kAllNodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(b, kAllNodes, 16) == 0;
}

// UDP over either family, after the IP layer checked that the datagram lies inside the frame.
// Inlined into both callers: as a call it saved and restored four registers per query.
[[gnu::always_inline]] inline void ParseUdp(const Input& in, ParsedFrame& p, const uint8_t* ip) {
  if (p.l4_len < udp::kHeaderLen) return Drop(p, DropReason::kBadLength);
  const uint8_t* u = in.frame + p.l4_offset;
  // The UDP length rules: bytes after it in the IP payload are not the datagram's, and Linux
  // trims them (__udp4_lib_rcv, udpv6_rcv). Longer than the IP payload, or shorter than the
  // header, is broken.
  const uint16_t udp_len = LoadBe16(u + udp::kLength);
  if (udp_len < udp::kHeaderLen || udp_len > p.l4_len) return Drop(p, DropReason::kBadLength);
  p.l4_len = udp_len;
  p.src_port = LoadBe16(u + udp::kSrcPort);
  p.dst_port = LoadBe16(u + udp::kDstPort);
  if (p.dst_port != udp::kDnsPort) return Exception(p, ExceptionReason::kUdpPort);
  if (p.src_port == 0) return Drop(p, DropReason::kBadSource);
  if (LoadBe16(u + udp::kChecksum) == 0) {
    // Optional over IPv4 (RFC 768), mandatory over IPv6 (RFC 8200 8.1).
    if (p.family == IpFamily::kV6) return Drop(p, DropReason::kBadChecksum);
  } else if (!in.rx.udp_checksum_good) {
    const uint16_t pseudo =
        p.family == IpFamily::kV4
            ? PseudoHeaderSumV4(ip + ipv4::kSrc, ip + ipv4::kDst, kProtoUdp, p.l4_len)
            : PseudoHeaderSumV6(ip + ipv6::kSrc, p.l4_len, kProtoUdp);
    const uint16_t sum = OnesSumOf(u, p.l4_len, in.readable - p.l4_offset);
    if (OnesAdd(pseudo, sum) != 0xffff) return Drop(p, DropReason::kBadChecksum);
  }
  p.payload_offset = static_cast<uint16_t>(p.l4_offset + udp::kHeaderLen);
  p.payload_len = static_cast<uint16_t>(p.l4_len - udp::kHeaderLen);
  p.action = FrameAction::kDns;
}

void ParseArp(const Input& in, ParsedFrame& p) {
  if (in.len - p.l3_offset < arp::kLen) return Drop(p, DropReason::kTruncated);
  const uint8_t* a = in.frame + p.l3_offset;
  if (LoadBe16(a + arp::kHardwareType) != arp::kHardwareEthernet ||
      LoadBe16(a + arp::kProtocolType) != eth::kTypeIpv4 ||
      a[arp::kHardwareLen] != MacAddress::kLen || a[arp::kProtocolLen] != 4) {
    return Drop(p, DropReason::kBadHeader);
  }
  if (!in.served.HasV4(a + arp::kTargetIp)) return Drop(p, DropReason::kNotForUs);
  p.family = IpFamily::kV4;
  p.src_ip = a + arp::kSenderIp;
  p.dst_ip = a + arp::kTargetIp;
  if (LoadBe16(a + arp::kOpcode) != arp::kOpRequest) return Exception(p, ExceptionReason::kArp);
  // Someone else announcing or claiming one of our addresses (the target or another): an
  // address conflict the kernel should see.
  if (in.served.HasV4(p.src_ip)) return Exception(p, ExceptionReason::kArp);
  // A sender of 0.0.0.0 is an RFC 5227 probe, answered to defend the address.
  if (IsGroupMac(a + arp::kSenderMac) || (RawLoad32(p.src_ip) != 0 && BadSourceV4(p.src_ip))) {
    return Drop(p, DropReason::kBadSource);
  }
  p.action = FrameAction::kArpRequest;
}

void ParseIcmpV4(const Input& in, ParsedFrame& p) {
  if (p.l4_len < icmp::kEchoHeaderLen) return Drop(p, DropReason::kBadLength);
  const uint8_t* m = in.frame + p.l4_offset;
  if (m[icmp::kType] != icmp::kEchoRequest || m[icmp::kCode] != 0) {
    return Exception(p, ExceptionReason::kIcmp);
  }
  if (OnesSum(m, p.l4_len) != 0xffff) return Drop(p, DropReason::kBadChecksum);
  p.payload_offset = static_cast<uint16_t>(p.l4_offset + icmp::kEchoHeaderLen);
  p.payload_len = static_cast<uint16_t>(p.l4_len - icmp::kEchoHeaderLen);
  p.action = FrameAction::kEchoRequest;
}

void ParseIpv4(const Input& in, ParsedFrame& p) {
  const size_t avail = in.len - p.l3_offset;
  if (avail < ipv4::kMinHeaderLen) return Drop(p, DropReason::kTruncated);
  const uint8_t* ip = in.frame + p.l3_offset;
  if ((ip[ipv4::kVersionIhl] >> 4) != 4) return Drop(p, DropReason::kBadHeader);
  const size_t header_len = size_t{ip[ipv4::kVersionIhl] & 0x0fu} * 4;
  if (header_len < ipv4::kMinHeaderLen) return Drop(p, DropReason::kBadHeader);
  if (header_len > avail) return Drop(p, DropReason::kTruncated);
  const size_t total_len = LoadBe16(ip + ipv4::kTotalLength);
  if (total_len < header_len || total_len > avail) return Drop(p, DropReason::kBadLength);
  if (!in.rx.ipv4_checksum_good && OnesSum(ip, header_len) != 0xffff) {
    return Drop(p, DropReason::kBadChecksum);
  }
  static_assert(ipv4::kDst == ipv4::kSrc + 4);
  const uint32_t served = in.served.V4SourceAndDestination(ip + ipv4::kSrc);
  if (in.l2 != L2Dest::kOurs || (served & ServedAddresses::kDestinationServed) == 0) {
    return Drop(p, DropReason::kNotForUs);
  }
  p.family = IpFamily::kV4;
  p.src_ip = ip + ipv4::kSrc;
  p.dst_ip = ip + ipv4::kDst;
  // Our own address as the source is a martian to Linux too (fib_validate_source, without
  // accept_local): a looped or spoofed frame, never a client.
  if (BadSourceV4(p.src_ip) || (served & ServedAddresses::kSourceServed) != 0) {
    return Drop(p, DropReason::kBadSource);
  }
  const uint16_t fragment = LoadBe16(ip + ipv4::kFragment);
  if ((fragment & (ipv4::kMoreFragments | ipv4::kFragmentOffsetMask)) != 0) {
    return Exception(p, ExceptionReason::kFragment);
  }
  // Options go to the kernel, as fragments do: it drops source routes (accept_source_route is
  // off on hosts) and malformed options, and its replies echo only what RFC 1122 3.2.1.8 allows.
  // A reply built here would carry the query's options back, Router Alert and source routes too.
  if (header_len != ipv4::kMinHeaderLen) return Exception(p, ExceptionReason::kIpOptions);
  p.l4_offset = static_cast<uint16_t>(p.l3_offset + header_len);
  p.l4_len = static_cast<uint16_t>(total_len - header_len);
  switch (ip[ipv4::kProtocol]) {
    case kProtoUdp:
      return ParseUdp(in, p, ip);
    case kProtoIcmp:
      return ParseIcmpV4(in, p);
    default:
      return Exception(p, ExceptionReason::kProtocol);
  }
}

// Neighbour solicitation, RFC 4861 7.1.1 (the checksum is already verified).
void ParseNeighborSolicit(const Input& in, ParsedFrame& p, const uint8_t* ip, bool to_group) {
  const uint8_t* m = in.frame + p.l4_offset;
  if (ip[ipv6::kHopLimit] != icmp6::kNdHopLimit || m[icmp::kCode] != 0 ||
      p.l4_len < icmp6::kNdOptions || m[icmp6::kNdTarget] == 0xff) {
    return Drop(p, DropReason::kBadNeighborDiscovery);
  }
  for (size_t at = icmp6::kNdOptions; at < p.l4_len;) {
    if (p.l4_len - at < 2 || m[at + 1] == 0) return Drop(p, DropReason::kBadNeighborDiscovery);
    const size_t option_len = size_t{m[at + 1]} * icmp6::kOptUnit;
    if (option_len > p.l4_len - at) return Drop(p, DropReason::kBadNeighborDiscovery);
    if (m[at] == icmp6::kOptSourceLinkAddr) {
      // On Ethernet the option is one unit: type, length and 6 bytes (RFC 2464 6). Linux
      // drops an NS whose option has another length (ndisc_opt_addr_data).
      if (m[at + 1] != 1) return Drop(p, DropReason::kBadNeighborDiscovery);
      // The first one counts, as in Linux (ndisc_parse_options).
      if (p.payload_offset == 0) {
        p.payload_offset = static_cast<uint16_t>(p.l4_offset + at + 2);
        p.payload_len = MacAddress::kLen;
      }
    }
    at += option_len;
  }
  // Duplicate address detection: from ::, to the solicited-node group (not all-nodes), no source
  // link address.
  if (IsUnspecifiedV6(p.src_ip) &&
      (!to_group || p.payload_offset != 0 || !in.served.IsSolicitedNodeGroup(p.dst_ip))) {
    return Drop(p, DropReason::kBadNeighborDiscovery);
  }
  if (!in.served.HasV6(m + icmp6::kNdTarget)) return Drop(p, DropReason::kNotForUs);
  p.action = FrameAction::kNeighborSolicit;
}

void ParseIcmpV6(const Input& in, ParsedFrame& p, const uint8_t* ip, bool to_group) {
  if (p.l4_len < icmp::kHeaderLen) return Drop(p, DropReason::kBadLength);
  const uint8_t* m = in.frame + p.l4_offset;
  const uint8_t type = m[icmp::kType];
  // NS is checked apart: duplicate address detection comes from :: (RFC 4862 5.4.2), to a group.
  if (type != icmp6::kNeighborSolicit) {
    if (IsUnspecifiedV6(p.src_ip)) return Drop(p, DropReason::kBadSource);
    if (to_group) return Exception(p, ExceptionReason::kMulticast);
    if (type != icmp6::kEchoRequest || m[icmp::kCode] != 0) {
      return Exception(p, ExceptionReason::kIcmp);
    }
    if (p.l4_len < icmp::kEchoHeaderLen) return Drop(p, DropReason::kBadLength);
  }
  const uint16_t pseudo = PseudoHeaderSumV6(ip + ipv6::kSrc, p.l4_len, kProtoIcmpv6);
  if (OnesAdd(pseudo, OnesSum(m, p.l4_len)) != 0xffff) return Drop(p, DropReason::kBadChecksum);
  if (type == icmp6::kNeighborSolicit) return ParseNeighborSolicit(in, p, ip, to_group);
  p.payload_offset = static_cast<uint16_t>(p.l4_offset + icmp::kEchoHeaderLen);
  p.payload_len = static_cast<uint16_t>(p.l4_len - icmp::kEchoHeaderLen);
  p.action = FrameAction::kEchoRequest;
}

void ParseIpv6(const Input& in, ParsedFrame& p) {
  const size_t avail = in.len - p.l3_offset;
  if (avail < ipv6::kHeaderLen) return Drop(p, DropReason::kTruncated);
  const uint8_t* ip = in.frame + p.l3_offset;
  if ((ip[ipv6::kVersionClassFlow] >> 4) != 6) return Drop(p, DropReason::kBadHeader);
  const size_t payload_len = LoadBe16(ip + ipv6::kPayloadLength);
  if (payload_len == 0) return Drop(p, DropReason::kUnsupported);
  if (payload_len > avail - ipv6::kHeaderLen) return Drop(p, DropReason::kBadLength);

  const uint8_t* dst = ip + ipv6::kDst;
  bool to_group = false;
  if (dst[0] != 0xff) {
    if (in.l2 != L2Dest::kOurs || !in.served.HasV6(dst)) return Drop(p, DropReason::kNotForUs);
  } else {
    // A group: only ours, and only in the Ethernet group it maps to (33:33 + its low 32 bits).
    if (in.l2 != L2Dest::kIpv6Group || std::memcmp(in.frame + eth::kDst + 2, dst + 12, 4) != 0 ||
        !(in.served.IsSolicitedNodeGroup(dst) || IsAllNodesV6(dst))) {
      return Drop(p, DropReason::kNotForUs);
    }
    to_group = true;
  }
  p.family = IpFamily::kV6;
  p.src_ip = ip + ipv6::kSrc;
  p.dst_ip = dst;
  if (p.src_ip[0] == 0xff || IsLoopbackV6(p.src_ip)) return Drop(p, DropReason::kBadSource);
  p.l4_offset = static_cast<uint16_t>(p.l3_offset + ipv6::kHeaderLen);
  p.l4_len = static_cast<uint16_t>(payload_len);
  const uint8_t next_header = ip[ipv6::kNextHeader];
  if (next_header == kProtoIcmpv6) return ParseIcmpV6(in, p, ip, to_group);
  // Only neighbour discovery may come from :: (DAD).
  if (IsUnspecifiedV6(p.src_ip)) return Drop(p, DropReason::kBadSource);
  if (to_group) return Exception(p, ExceptionReason::kMulticast);
  if (next_header == kProtoUdp) return ParseUdp(in, p, ip);
  return Exception(p, ExceptionReason::kProtocol);
}

}  // namespace

ParsedFrame ClassifyFrame(const uint8_t* frame, size_t len, const MacAddress& ours,
                          const ServedAddresses& served, RxChecks rx,
                          size_t readable) noexcept {
  ParsedFrame p;
  if (len < eth::kHeaderLen) {
    Drop(p, DropReason::kTruncated);
    return p;
  }
  if (len > kMaxFrameLen) {
    Drop(p, DropReason::kUnsupported);
    return p;
  }
  const uint8_t* dst_mac = frame + eth::kDst;
  L2Dest l2;
  if (ours.Equals(dst_mac)) {
    l2 = L2Dest::kOurs;
  } else if (IsBroadcastMac(dst_mac)) {
    l2 = L2Dest::kBroadcast;
  } else if (served.IsSolicitedNodeMac(dst_mac) || IsAllNodesMac(dst_mac)) {
    l2 = L2Dest::kIpv6Group;
  } else {
    Drop(p, DropReason::kNotForUs);
    return p;
  }
  // A group source cannot be answered; our own source is a looped-back frame.
  if (IsGroupMac(frame + eth::kSrc) || ours.Equals(frame + eth::kSrc)) {
    Drop(p, DropReason::kBadSource);
    return p;
  }

  size_t type_at = eth::kType;
  uint16_t type = LoadBe16(frame + type_at);
  while (type == eth::kTypeVlan || type == eth::kTypeQinQ) {
    if (p.vlan_tags == eth::kMaxTags) {
      Drop(p, DropReason::kUnsupported);
      return p;
    }
    type_at += eth::kTagLen;
    if (len < type_at + 2) {
      Drop(p, DropReason::kTruncated);
      return p;
    }
    type = LoadBe16(frame + type_at);
    ++p.vlan_tags;
  }
  p.l3_offset = static_cast<uint16_t>(type_at + 2);

  const Input in{frame, len, readable > len ? readable : len, served, l2, rx};
  switch (type) {
    case eth::kTypeArp:
      if (l2 == L2Dest::kIpv6Group) {
        Drop(p, DropReason::kNotForUs);
      } else {
        ParseArp(in, p);
      }
      break;
    case eth::kTypeIpv4:
      ParseIpv4(in, p);
      break;
    case eth::kTypeIpv6:
      if (l2 == L2Dest::kBroadcast) {
        Drop(p, DropReason::kNotForUs);
      } else {
        ParseIpv6(in, p);
      }
      break;
    default:
      if (l2 == L2Dest::kOurs) {
        Exception(p, ExceptionReason::kEtherType);
      } else {
        Drop(p, DropReason::kNotForUs);
      }
      break;
  }
  return p;
}

const char* DropReasonName(DropReason reason) noexcept {
  switch (reason) {
    case DropReason::kNone:
      return "none";
    case DropReason::kTruncated:
      return "truncated";
    case DropReason::kNotForUs:
      return "not_for_us";
    case DropReason::kBadSource:
      return "bad_source";
    case DropReason::kBadHeader:
      return "bad_header";
    case DropReason::kBadLength:
      return "bad_length";
    case DropReason::kBadChecksum:
      return "bad_checksum";
    case DropReason::kBadNeighborDiscovery:
      return "bad_neighbor_discovery";
    case DropReason::kUnsupported:
      return "unsupported";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

const char* ExceptionReasonName(ExceptionReason reason) noexcept {
  switch (reason) {
    case ExceptionReason::kNone:
      return "none";
    case ExceptionReason::kEtherType:
      return "ethertype";
    case ExceptionReason::kArp:
      return "arp";
    case ExceptionReason::kFragment:
      return "fragment";
    case ExceptionReason::kProtocol:
      return "protocol";
    case ExceptionReason::kUdpPort:
      return "udp_port";
    case ExceptionReason::kIcmp:
      return "icmp";
    case ExceptionReason::kMulticast:
      return "multicast";
    case ExceptionReason::kIpOptions:
      return "ip_options";
    case ExceptionReason::kCount:
      break;
  }
  return "unknown";
}

}  // namespace clusterdns::dataplane
