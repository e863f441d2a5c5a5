// In-place replies (reply.h). Each rewrite touches only the fields that change and fixes the
// checksums that cover them: IPv4 header checksums and echo checksums incrementally (one or two
// 16-bit words change), UDP checksums in full (the whole payload changed).
#include "dataplane/packet/reply.h"

#include <cstring>

#include "dataplane/packet/byte_order.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/headers.h"

namespace clusterdns::dataplane {
namespace {

void SwapMacs(uint8_t* frame) { SwapBytes<MacAddress::kLen>(frame + eth::kDst, frame + eth::kSrc); }

// Swaps the IPv4 addresses, clears ECN and sets total length and TTL, keeping the header checksum
// right. Swapping two words leaves the ones' complement sum as it was; the version/TOS word, the
// length word and the TTL/protocol word are the only changes. ECN: a reply is not sent by an
// ECN-capable transport, so it must not claim ECT, nor echo a router's CE (RFC 3168 5; Linux
// clears the bits where it reflects a TOS). DSCP is kept. Every read comes before the first
// write: a load that overlaps a fresh narrower store waits for the store to retire (a
// store-forwarding stall, ~10 ns measured here). Inlined: it has one caller, per query.
[[gnu::always_inline]] inline void RewriteIpv4(uint8_t* ip, uint16_t total_len) {
  const uint16_t old_version_tos = LoadBe16(ip + ipv4::kVersionIhl);
  const uint16_t version_tos = old_version_tos & static_cast<uint16_t>(~ipv4::kEcnMask);
  const uint16_t old_len = LoadBe16(ip + ipv4::kTotalLength);
  const uint16_t old_ttl_protocol = LoadBe16(ip + ipv4::kTtl);
  const uint16_t ttl_protocol = static_cast<uint16_t>(kReplyTtl << 8 | (old_ttl_protocol & 0xff));
  const uint16_t checksum =
      UpdateChecksum(LoadBe16(ip + ipv4::kChecksum), {{old_version_tos, version_tos},
                                                      {old_len, total_len},
                                                      {old_ttl_protocol, ttl_protocol}});
  SwapBytes<4>(ip + ipv4::kSrc, ip + ipv4::kDst);
  StoreBe16(ip + ipv4::kVersionIhl, version_tos);
  StoreBe16(ip + ipv4::kTotalLength, total_len);
  StoreBe16(ip + ipv4::kTtl, ttl_protocol);
  StoreBe16(ip + ipv4::kChecksum, checksum);
}

// Swaps the IPv6 addresses, clears ECN (see RewriteIpv4) and sets payload length and hop limit.
void RewriteIpv6(uint8_t* ip, uint16_t payload_len, uint8_t hop_limit) {
  SwapBytes<ipv6::kAddressLen>(ip + ipv6::kSrc, ip + ipv6::kDst);
  ip[ipv6::kVersionClassFlow + 1] &= static_cast<uint8_t>(~ipv6::kEcnMaskByte1);
  StoreBe16(ip + ipv6::kPayloadLength, payload_len);
  ip[ipv6::kHopLimit] = hop_limit;
}

}  // namespace

size_t FinishDnsReply(uint8_t* frame, const ParsedFrame& p, size_t dns_len,
                      L4Checksum checksum, size_t readable) noexcept {
  uint8_t* ip = frame + p.l3_offset;
  uint8_t* u = frame + p.l4_offset;
  const size_t ip_header_len = size_t{p.l4_offset} - p.l3_offset;  // IPv4 options included
  const size_t udp_len = udp::kHeaderLen + dns_len;
  // The pseudo-header sum is taken from the query's addresses before they are swapped (the sum
  // does not depend on their order), and the UDP header's from host values, so that nothing just
  // written is read back (see RewriteIpv4).
  uint16_t pseudo;
  if (p.family == IpFamily::kV4) {
    if (ip_header_len + udp_len > 0xffff) return 0;
    pseudo = PseudoHeaderSumV4(ip + ipv4::kSrc, ip + ipv4::kDst, kProtoUdp,
                               static_cast<uint16_t>(udp_len));
    RewriteIpv4(ip, static_cast<uint16_t>(ip_header_len + udp_len));
  } else {
    if (udp_len > 0xffff) return 0;
    pseudo = PseudoHeaderSumV6(ip + ipv6::kSrc, static_cast<uint32_t>(udp_len), kProtoUdp);
    RewriteIpv6(ip, static_cast<uint16_t>(udp_len), kReplyTtl);
  }
  SwapMacs(frame);
  StoreBe16(u + udp::kSrcPort, p.dst_port);
  StoreBe16(u + udp::kDstPort, p.src_port);
  StoreBe16(u + udp::kLength, static_cast<uint16_t>(udp_len));
  if (checksum == L4Checksum::kOffload) {
    StoreBe16(u + udp::kChecksum, pseudo);
  } else {
    const uint16_t header = FoldSum(uint64_t{p.src_port} + p.dst_port + udp_len);  // checksum 0
    const size_t end = size_t{p.payload_offset} + dns_len;  // readable 0: the reply's own
    const size_t dns_readable = (readable > end ? readable : end) - p.payload_offset;
    const uint16_t body = OnesSumOf(u + udp::kHeaderLen, dns_len, dns_readable);
    const uint16_t sum = OnesAdd(OnesAdd(pseudo, header), body);
    StoreBe16(u + udp::kChecksum, UdpChecksumFromSum(sum));
  }
  return size_t{p.payload_offset} + dns_len;
}

size_t AnswerArp(uint8_t* frame, const ParsedFrame& p, const MacAddress& ours) noexcept {
  uint8_t* a = frame + p.l3_offset;
  // As Linux does: the requester's ARP sender hardware address is both the Ethernet destination
  // and the reply's target hardware address.
  std::memcpy(frame + eth::kDst, a + arp::kSenderMac, MacAddress::kLen);
  ours.CopyTo(frame + eth::kSrc);
  StoreBe16(a + arp::kOpcode, arp::kOpReply);
  std::memcpy(a + arp::kTargetMac, a + arp::kSenderMac, MacAddress::kLen);
  ours.CopyTo(a + arp::kSenderMac);
  SwapBytes<4>(a + arp::kSenderIp, a + arp::kTargetIp);
  return size_t{p.l3_offset} + arp::kLen;
}

size_t AnswerNeighborSolicit(uint8_t* frame, size_t frame_capacity, const ParsedFrame& p,
                             const MacAddress& ours) noexcept {
  constexpr size_t kNaLen = icmp6::kNdOptions + icmp6::kOptUnit;  // with one link-address option
  const size_t reply_len = size_t{p.l4_offset} + kNaLen;
  if (reply_len > frame_capacity) return 0;
  uint8_t* ip = frame + p.l3_offset;
  uint8_t* m = frame + p.l4_offset;
  uint8_t* src = ip + ipv6::kSrc;
  uint8_t* dst = ip + ipv6::kDst;
  static constexpr uint8_t kUnspecified[ipv6::kAddressLen] = {};
  const bool dad = std::memcmp(src, kUnspecified, ipv6::kAddressLen) == 0;
  // The solicitor's link-layer address: its source link-layer option's (p.payload_offset) if it
  // has a unicast one, which is the neighbour entry RFC 4861 7.2.3 makes for it (Linux answers
  // there), else the frame's source. They differ behind ND proxies and rewriting bridges. Copied
  // before the NA's own option overwrites it.
  uint8_t solicitor[MacAddress::kLen];
  const bool from_option = p.payload_offset != 0 && !IsGroupMac(frame + p.payload_offset);
  std::memcpy(solicitor, frame + (from_option ? p.payload_offset : eth::kSrc), MacAddress::kLen);

  if (dad) {
    static constexpr uint8_t kAllNodesMac[MacAddress::kLen] = {0x33, 0x33, 0, 0, 0, 1};
    static constexpr uint8_t kAllNodes[ipv6::kAddressLen] = {0xff, 2, 0, 0, 0, 0, 0, 0,
                                                             0,    0, 0, 0, 0, 0, 0, 1};
    std::memcpy(frame + eth::kDst, kAllNodesMac, MacAddress::kLen);
    std::memcpy(dst, kAllNodes, ipv6::kAddressLen);
  } else {
    std::memcpy(frame + eth::kDst, solicitor, MacAddress::kLen);
    std::memcpy(dst, src, ipv6::kAddressLen);
  }
  ours.CopyTo(frame + eth::kSrc);
  // The advertisement comes from the address it advertises, not from the group it was sent to.
  std::memcpy(src, m + icmp6::kNdTarget, ipv6::kAddressLen);
  StoreBe32(ip + ipv6::kVersionClassFlow, 6u << 28);
  StoreBe16(ip + ipv6::kPayloadLength, static_cast<uint16_t>(kNaLen));
  ip[ipv6::kNextHeader] = kProtoIcmpv6;
  ip[ipv6::kHopLimit] = icmp6::kNdHopLimit;

  m[icmp::kType] = icmp6::kNeighborAdvert;
  m[icmp::kCode] = 0;
  StoreBe32(m + icmp6::kNdFlags, 0);
  m[icmp6::kNdFlags] = dad ? icmp6::kNaOverride : icmp6::kNaSolicited | icmp6::kNaOverride;
  uint8_t* option = m + icmp6::kNdOptions;
  option[0] = icmp6::kOptTargetLinkAddr;
  option[1] = 1;  // in units of 8 bytes
  ours.CopyTo(option + 2);
  StoreBe16(m + icmp::kChecksum, 0);
  const uint16_t sum = OnesAdd(PseudoHeaderSumV6(src, kNaLen, kProtoIcmpv6), OnesSum(m, kNaLen));
  StoreBe16(m + icmp::kChecksum, ChecksumFromSum(sum));
  return reply_len;
}

size_t AnswerEcho(uint8_t* frame, const ParsedFrame& p) noexcept {
  uint8_t* ip = frame + p.l3_offset;
  uint8_t* m = frame + p.l4_offset;
  const bool v4 = p.family == IpFamily::kV4;
  // The type/code word changes from request to reply (code stays 0).
  const uint16_t request_word = LoadBe16(m + icmp::kType);
  const uint8_t reply_type = v4 ? icmp::kEchoReply : icmp6::kEchoReply;
  const uint16_t reply_word = static_cast<uint16_t>(reply_type << 8 | (request_word & 0xff));
  const uint16_t checksum = UpdateChecksum(LoadBe16(m + icmp::kChecksum), request_word, reply_word);
  if (v4) {
    RewriteIpv4(ip, LoadBe16(ip + ipv4::kTotalLength));
  } else {
    RewriteIpv6(ip, p.l4_len, kReplyTtl);
  }
  SwapMacs(frame);
  StoreBe16(m + icmp::kType, reply_word);
  StoreBe16(m + icmp::kChecksum, checksum);
  return size_t{p.l4_offset} + p.l4_len;
}

}  // namespace clusterdns::dataplane
