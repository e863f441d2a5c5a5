// Test frames built field by field, and a naive second implementation of the Internet checksum,
// sharing nothing with dataplane/packet (no byte_order.h, no checksum.h): a bug in the code under
// test cannot hide behind the same bug here.
//
//   Bytes f = UdpFrameV4({}, {}, 40000, 53, BuildQuery("a.b.svc.cluster.local", kTypeA));
//   EthSpec tagged;
//   tagged.tags = {{0x8100, 42}};
//   Bytes g = UdpFrameV6(tagged, {}, 40000, 53, payload);
//
// Addresses are from the benchmarking ranges (198.18.0.0/15, 2001:2::/48); nothing is sent.
// Thread-compatible pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterdns::testing {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

Ip4 V4(std::string_view text);  // aborts on a bad literal (a test bug)
Ip6 V6(std::string_view text);

inline constexpr Mac kOurMac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x53};
inline constexpr Mac kClientMac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x10};
// The served addresses every test configures, and a client.
Ip4 ServedV4();           // 198.18.0.53
Ip4 ServedV4b();          // 198.18.1.53 (a second served address)
Ip6 ServedV6();           // 2001:2::53
Ip4 ClientV4();           // 198.18.0.10
Ip6 ClientV6();           // 2001:2::10
Ip6 LinkLocalClientV6();  // fe80::10

// Naive Internet checksum pieces: 16-bit big-endian words one at a time, end-around carry.
uint32_t NaiveSum(const uint8_t* data, size_t len, uint32_t sum = 0);
uint16_t NaiveFold(uint32_t sum);
// The checksum field value for data (checksum field zero) plus an optional pseudo sum.
uint16_t NaiveChecksum(const uint8_t* data, size_t len, uint32_t pseudo = 0);
uint32_t NaivePseudoV4(const Ip4& src, const Ip4& dst, uint8_t protocol, uint16_t len);
uint32_t NaivePseudoV6(const Ip6& src, const Ip6& dst, uint8_t next_header, uint32_t len);

void PutU16(Bytes& b, size_t at, uint16_t v);
uint16_t GetU16(const Bytes& b, size_t at);
void Append(Bytes& b, const uint8_t* data, size_t len);

struct EthSpec {
  Mac dst = kOurMac;
  Mac src = kClientMac;
  std::vector<std::pair<uint16_t, uint16_t>> tags;  // (TPID, TCI), outermost first
};

struct Ipv4Spec {
  Ip4 src = ClientV4();
  Ip4 dst = ServedV4();
  uint8_t ttl = 57;
  uint8_t tos = 0x10;
  uint16_t id = 0x4321;
  uint16_t fragment = 0x4000;  // DF
  Bytes options;               // a multiple of 4 bytes
};

struct Ipv6Spec {
  Ip6 src = ClientV6();
  Ip6 dst = ServedV6();
  uint8_t hop_limit = 57;
  uint32_t class_flow = 0x0ab12345;  // traffic class and flow label (low 28 bits)
};

// Ethernet header (with tags) + payload.
Bytes Ethernet(const EthSpec& eth, uint16_t ether_type, const Bytes& payload);
// An IPv4 packet with a valid header checksum; total length = header + payload.
Bytes Ipv4Packet(const Ipv4Spec& ip, uint8_t protocol, const Bytes& payload);
Bytes Ipv6Packet(const Ipv6Spec& ip, uint8_t next_header, const Bytes& payload);

// UDP header + payload with a valid checksum (or 0 when !with_checksum, IPv4 only).
Bytes UdpV4(const Ipv4Spec& ip, uint16_t src_port, uint16_t dst_port, const Bytes& payload,
            bool with_checksum = true);
Bytes UdpV6(const Ipv6Spec& ip, uint16_t src_port, uint16_t dst_port, const Bytes& payload);

// Whole frames.
Bytes UdpFrameV4(const EthSpec& eth, const Ipv4Spec& ip, uint16_t src_port, uint16_t dst_port,
                 const Bytes& payload, bool with_checksum = true);
Bytes UdpFrameV6(const EthSpec& eth, const Ipv6Spec& ip, uint16_t src_port, uint16_t dst_port,
                 const Bytes& payload);
Bytes IcmpFrameV4(const EthSpec& eth, const Ipv4Spec& ip, uint8_t type, uint8_t code,
                  const Bytes& body);  // body after the 4-byte type/code/checksum
Bytes Icmp6FrameV6(const EthSpec& eth, const Ipv6Spec& ip, uint8_t type, uint8_t code,
                   const Bytes& body);
Bytes EchoBody(uint16_t identifier, uint16_t sequence, size_t data_len);  // data = 0, 1, 2, ...
Bytes ArpFrame(const EthSpec& eth, uint16_t opcode, const Mac& sender_mac, const Ip4& sender_ip,
               const Mac& target_mac, const Ip4& target_ip);
// A neighbour solicitation body (after type/code/checksum) for `target`, with a source
// link-layer address option when `source_link_addr` is set.
Bytes NsBody(const Ip6& target, const Mac* source_link_addr);
// The solicited-node group of an address and its Ethernet group.
Ip6 SolicitedNode(const Ip6& address);
Mac MulticastMac(const Ip6& group);

// Rewrites the checksums a mutated frame would need to be accepted, where its headers can be
// read: IPv4 header checksum, then the UDP / ICMP / ICMPv6 checksum over the length the IP
// header claims (if it fits the frame). Used to push random mutations past checksum checks.
void RepairChecksums(Bytes& frame);

// Appends `n` bytes to the IP payload of an untagged IPv4 or IPv6 frame after its UDP datagram,
// which keeps its length and checksum: the IP length grows (and the IPv4 header checksum with
// it), the UDP length does not.
void AppendAfterUdp(Bytes& frame, size_t n);

}  // namespace clusterdns::testing
