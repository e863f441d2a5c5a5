// Header layouts of the protocols the packet layer reads and writes: byte offsets of fields inside
// their own header, fixed lengths, and protocol numbers, host order. Offsets rather than packed
// structs: frames are byte buffers at any alignment, fields are read with byte_order.h.
// No logic here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace clusterdns::dataplane {

// Ethernet II (IEEE 802.3 clause 3) and 802.1Q / 802.1ad tags.
namespace eth {
inline constexpr size_t kDst = 0;
inline constexpr size_t kSrc = 6;
inline constexpr size_t kType = 12;
inline constexpr size_t kHeaderLen = 14;
inline constexpr size_t kTagLen = 4;  // TPID (where kType was) + TCI; the real type follows
// One 802.1Q tag, or a QinQ pair (0x88a8 or 0x8100 outside, 0x8100 inside). Deeper stacks are
// not used on DNS appliance ports.
inline constexpr int kMaxTags = 2;
inline constexpr uint16_t kTypeIpv4 = 0x0800;
inline constexpr uint16_t kTypeArp = 0x0806;
inline constexpr uint16_t kTypeVlan = 0x8100;
inline constexpr uint16_t kTypeQinQ = 0x88a8;
inline constexpr uint16_t kTypeIpv6 = 0x86dd;
}  // namespace eth

// ARP for IPv4 over Ethernet (RFC 826).
namespace arp {
inline constexpr size_t kHardwareType = 0;
inline constexpr size_t kProtocolType = 2;
inline constexpr size_t kHardwareLen = 4;
inline constexpr size_t kProtocolLen = 5;
inline constexpr size_t kOpcode = 6;
inline constexpr size_t kSenderMac = 8;
inline constexpr size_t kSenderIp = 14;
inline constexpr size_t kTargetMac = 18;
inline constexpr size_t kTargetIp = 24;
inline constexpr size_t kLen = 28;
inline constexpr uint16_t kHardwareEthernet = 1;
inline constexpr uint16_t kOpRequest = 1;
inline constexpr uint16_t kOpReply = 2;
}  // namespace arp

// IPv4 (RFC 791).
namespace ipv4 {
inline constexpr size_t kVersionIhl = 0;  // shares a 16-bit checksum word with the TOS byte
inline constexpr uint16_t kEcnMask = 0x0003;  // the TOS byte's low bits in that word (RFC 3168)
inline constexpr size_t kTotalLength = 2;
inline constexpr size_t kFragment = 6;  // flags (3 bits) and fragment offset (13 bits)
inline constexpr size_t kTtl = 8;       // shares a 16-bit checksum word with kProtocol
inline constexpr size_t kProtocol = 9;
inline constexpr size_t kChecksum = 10;
inline constexpr size_t kSrc = 12;
inline constexpr size_t kDst = 16;
inline constexpr size_t kMinHeaderLen = 20;
inline constexpr uint16_t kMoreFragments = 0x2000;
inline constexpr uint16_t kFragmentOffsetMask = 0x1fff;
}  // namespace ipv4

// IPv6 (RFC 8200).
namespace ipv6 {
inline constexpr size_t kVersionClassFlow = 0;
inline constexpr uint8_t kEcnMaskByte1 = 0x30;  // the traffic class's ECN bits, in byte 1
inline constexpr size_t kPayloadLength = 4;
inline constexpr size_t kNextHeader = 6;
inline constexpr size_t kHopLimit = 7;
inline constexpr size_t kSrc = 8;
inline constexpr size_t kDst = 24;
inline constexpr size_t kHeaderLen = 40;
inline constexpr size_t kAddressLen = 16;
}  // namespace ipv6

// IP protocol / IPv6 next-header numbers.
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpv6 = 58;

// UDP (RFC 768).
namespace udp {
inline constexpr size_t kSrcPort = 0;
inline constexpr size_t kDstPort = 2;
inline constexpr size_t kLength = 4;
inline constexpr size_t kChecksum = 6;
inline constexpr size_t kHeaderLen = 8;
inline constexpr uint16_t kDnsPort = 53;
}  // namespace udp

// ICMP (RFC 792) and ICMPv6 (RFC 4443) share the first four bytes: type, code, checksum.
namespace icmp {
inline constexpr size_t kType = 0;
inline constexpr size_t kCode = 1;
inline constexpr size_t kChecksum = 2;
inline constexpr size_t kHeaderLen = 4;
inline constexpr size_t kEchoHeaderLen = 8;  // type, code, checksum, identifier, sequence
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kEchoRequest = 8;
}  // namespace icmp

namespace icmp6 {
inline constexpr uint8_t kEchoRequest = 128;
inline constexpr uint8_t kEchoReply = 129;
inline constexpr uint8_t kNeighborSolicit = 135;
inline constexpr uint8_t kNeighborAdvert = 136;
// Neighbor solicitation / advertisement (RFC 4861 4.3, 4.4): type, code, checksum, 4 bytes of
// reserved (NS) or flags (NA), the target address, then options.
inline constexpr size_t kNdFlags = 4;
inline constexpr size_t kNdTarget = 8;
inline constexpr size_t kNdOptions = 24;
inline constexpr uint8_t kNaRouter = 0x80;
inline constexpr uint8_t kNaSolicited = 0x40;
inline constexpr uint8_t kNaOverride = 0x20;
// Options (RFC 4861 4.6): type, length in units of 8 bytes, data.
inline constexpr uint8_t kOptSourceLinkAddr = 1;
inline constexpr uint8_t kOptTargetLinkAddr = 2;
inline constexpr size_t kOptUnit = 8;
// NDP packets must arrive with hop limit 255 (RFC 4861 7.1.1): proof they were not routed.
inline constexpr uint8_t kNdHopLimit = 255;
}  // namespace icmp6

// TTL / hop limit of the replies we originate: the Linux default (net.ipv4.ip_default_ttl).
inline constexpr uint8_t kReplyTtl = 64;

}  // namespace clusterdns::dataplane
