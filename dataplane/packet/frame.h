// ClassifyFrame: one received Ethernet frame → what the fast path does with it (answer DNS, ARP,
// NS or echo in place; hand it to the exception path; drop it and count why), and where its
// headers are. DESIGN.md "Dataplane worker".
//
// Accepted: Ethernet II, untagged, one 802.1Q tag or a QinQ pair; then
//   ARP request for a served IPv4 address                         → kArpRequest
//   IPv4 (options allowed) / IPv6 to a served address:
//     UDP to port 53                                               → kDns
//     ICMP echo request / ICMPv6 echo request                      → kEchoRequest
//   ICMPv6 neighbour solicitation for a served IPv6 target         → kNeighborSolicit
// Addressed to us but not for the fast path (TCP, fragments, IPv6 extension headers, UDP to
// another port, other ICMP, ARP replies, IPv6 to all-nodes, other EtherTypes to our MAC)
// → kException, with an ExceptionReason. Everything else → kDrop with a DropReason.
//
// "Addressed to us": destination MAC ours, broadcast (ARP only), the solicited-node group
// 33:33:ff:XX:XX:XX of a served IPv6 address or all-nodes 33:33:00:00:00:01 (IPv6 only, and the
// IPv6 destination must be that group); destination IP served (unicast frames) or that group.
//
// Checked before anything is answered, so that a reply is always well formed and never goes to a
// group: the IPv4 header checksum, UDP checksum (IPv4 when nonzero; IPv6 always, zero = drop),
// ICMP/ICMPv6 checksums of what we answer, every length field against the frame (Ethernet padding
// after the IP packet is allowed and ignored), sources that must not be answered (group or our own
// MAC, multicast/broadcast/loopback IP, UDP source port 0), and RFC 4861 7.1.1 for NS (hop limit
// 255).
// ARP: a request whose sender claims the served address itself (gratuitous, a conflict) and ARP
// replies go to the exception path, so the kernel sees them; ARP for other addresses is dropped.
//
// Never reads at or past frame[len]; never writes. Hot path: noexcept, no allocation. Any thread;
// `served` is read-only.
//
//   ParsedFrame p = ClassifyFrame(data, len, port_mac, served);
//   if (p.action == FrameAction::kDns) Respond(table, data + p.payload_offset, p.payload_len, ...);
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/packet/mac_address.h"
#include "dataplane/packet/served_addresses.h"

namespace clusterdns::dataplane {

enum class FrameAction : uint8_t {
  kDns,
  kArpRequest,
  kNeighborSolicit,
  kEchoRequest,
  kException,
  kDrop
};

// Why a frame was dropped; one counter each (STYLE.md example 5).
enum class DropReason : uint8_t {
  kNone = 0,
  kTruncated,             // a header runs past the end of the frame
  kNotForUs,              // destination MAC or IP not ours; ARP / NS for an address we do not serve
  kBadSource,             // source MAC a group or ours (looped back); multicast/broadcast/loopback/
                          // unspecified source IP, or an IPv4 source we serve (a martian, as
                          // Linux calls it); UDP source port 0
  kBadHeader,             // IP version, IPv4 IHL < 5, ARP hardware/protocol type or sizes
  kBadLength,             // a length field disagrees with the frame or with another length
  kBadChecksum,           // IPv4 header, UDP (IPv6: also a zero checksum), ICMP, ICMPv6
  kBadNeighborDiscovery,  // an NS that RFC 4861 7.1.1 says to discard (hop limit, options, DAD)
  kUnsupported,  // more than two VLAN tags, IPv6 jumbograms (payload length 0), frames > 64 KiB
  kCount,
};

// Why a frame addressed to us goes to the exception path (kernel TAP / slow path).
enum class ExceptionReason : uint8_t {
  kNone = 0,
  kEtherType,  // to our MAC, neither IPv4, IPv6 nor ARP (LLDP, ...)
  kArp,        // ARP reply or announcement about a served address
  kFragment,   // IPv4 fragment (MF set or offset nonzero)
  kProtocol,   // TCP, other IP protocols, IPv6 extension headers (incl. fragments)
  kUdpPort,    // UDP to a served address, port other than 53
  kIcmp,       // ICMP other than echo request, ICMPv6 other than echo request / NS
  kMulticast,  // IPv6 to all-nodes or to our solicited-node group, other than NS
  kIpOptions,  // IPv4 with options (IHL > 5): the kernel validates them (RFC 1122 3.2.1.8)
  kCount,
};

enum class IpFamily : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

struct ParsedFrame {
  FrameAction action = FrameAction::kDrop;
  DropReason drop = DropReason::kNone;                 // set when action == kDrop
  ExceptionReason exception = ExceptionReason::kNone;  // set when action == kException
  IpFamily family = IpFamily::kNone;  // kV4 for ARP too; kNone when dropped before L3
  uint8_t vlan_tags = 0;              // 0, 1 or 2: kept in every reply
  // Byte offsets in the frame; 0 where not reached.
  uint16_t l3_offset = 0;       // IPv4 / IPv6 / ARP header (after the tags)
  uint16_t l4_offset = 0;       // UDP / ICMP / ICMPv6 header (after IPv4 options)
  uint16_t l4_len = 0;          // UDP length / ICMP message length, as checked against IP
  // kDns: the DNS message; kEchoRequest: the echo data; kNeighborSolicit: the link-layer address
  // in the first source link-layer option (6 bytes), 0 without one.
  uint16_t payload_offset = 0;
  uint16_t payload_len = 0;
  uint16_t src_port = 0;  // UDP, host order
  uint16_t dst_port = 0;
  // The frame's source and destination IP (ARP: sender and target protocol address), 4 or 16
  // bytes. Point into the frame: they see the reply's addresses once it is rewritten.
  const uint8_t* src_ip = nullptr;
  const uint8_t* dst_ip = nullptr;
};

// Frames longer than this are dropped (kUnsupported): offsets are 16-bit, and a DPDK segment is
// at most 64 KiB anyway.
inline constexpr size_t kMaxFrameLen = 65535;

// Checks the NIC already made on this frame, from the mbuf's RX flags: set a field only for
// RTE_MBUF_F_RX_IP_CKSUM_GOOD / RTE_MBUF_F_RX_L4_CKSUM_GOOD (never for UNKNOWN or NONE), and the
// matching check is skipped. The L4 flag covers UDP only (NICs do not verify ICMP); a zero UDP
// checksum over IPv6 is still dropped.
struct RxChecks {
  bool ipv4_checksum_good = false;
  bool udp_checksum_good = false;
};

// `readable`: bytes that may be read from `frame` (an mbuf's data room), at least `len`; when
// there are kOnesSumSlack past the frame, the UDP checksum is verified without a branch on the
// length's low bits (checksum.h). 0: `len`.
ParsedFrame ClassifyFrame(const uint8_t* frame, size_t len, const MacAddress& ours,
                          const ServedAddresses& served, RxChecks rx = {},
                          size_t readable = 0) noexcept;

const char* DropReasonName(DropReason reason) noexcept;            // "truncated", ... (metrics)
const char* ExceptionReasonName(ExceptionReason reason) noexcept;  // "ethertype", ...

}  // namespace clusterdns::dataplane
