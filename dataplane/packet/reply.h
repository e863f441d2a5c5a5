// Replies written in place over the frame ClassifyFrame accepted (STYLE.md example 9): the RX
// buffer becomes the TX buffer, addresses and ports swapped, lengths and checksums fixed.
//
// Every function takes the frame and the ParsedFrame that ClassifyFrame returned for it (with the
// matching action), rewrites the frame and returns the reply's frame length: Ethernet header and
// VLAN tags (kept as received) through the end of the IP packet. Ethernet padding of the query is
// not part of the reply. A reply can be shorter than Ethernet's 60-byte minimum (ARP: 42 bytes):
// NICs pad runts in hardware, and virtual ports (af_packet, TAP, veth) carry them as they are,
// which Linux accepts. Return 0 means "send nothing": the reply cannot be built (see each one).
//
// Replies carry TTL / hop limit 64 (NDP: 255) and ECN cleared (RFC 3168 5: not an ECN-capable
// transport), IPv4 header fields otherwise as received (ID, DSCP, DF; queries with options go to
// the exception path, so there are none), IPv6 DSCP and flow label as received.
//
// Hot path: noexcept, no allocation, no virtual calls. Thread-compatible: one thread per frame.
//
//   ParsedFrame p = ClassifyFrame(data, len, mac, served);
//   RespondResult r = Respond(table, data + p.payload_offset, p.payload_len,
//                             capacity - p.payload_offset, options);
//   size_t out_len = FinishDnsReply(data, p, r.size);
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/packet/frame.h"
#include "dataplane/packet/mac_address.h"

namespace clusterdns::dataplane {

// Who computes the UDP checksum of a DNS reply.
enum class L4Checksum : uint8_t {
  kSoftware,  // the full checksum is computed here
  // The NIC does (RTE_MBUF_F_TX_UDP_CKSUM): the checksum field gets the folded, uncomplemented
  // pseudo-header sum with the UDP length, as rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum write it.
  kOffload,
};

// kDns. The DNS message at frame + p.payload_offset has already been replaced by the response,
// `dns_len` bytes (longer or shorter than the query); the frame has room for it. Swaps MACs (the
// source becomes the query's destination, our MAC), IP addresses and UDP ports; sets IPv4 total
// length and TTL and updates the header checksum incrementally (RFC 1624), or IPv6 payload length
// and hop limit; sets the UDP length and checksum (see L4Checksum; IPv4 gets a real checksum too,
// never zero). Returns 0 if the UDP datagram would exceed 65535 bytes. `readable`: bytes that
// may be read from `frame` (0: the reply's); kOnesSumSlack past the reply let the checksum skip
// the branches on the length's low bits (checksum.h).
size_t FinishDnsReply(uint8_t* frame, const ParsedFrame& p, size_t dns_len,
                      L4Checksum checksum = L4Checksum::kSoftware, size_t readable = 0) noexcept;

// kArpRequest. Turns the request into the reply (RFC 826): opcode 2, our MAC and the requested
// address as sender, the requester as target; Ethernet to the requester's hardware address from
// our MAC. Never fails.
size_t AnswerArp(uint8_t* frame, const ParsedFrame& p, const MacAddress& ours) noexcept;

// kNeighborSolicit. Turns the solicitation into a neighbour advertisement (RFC 4861 4.4, 7.2.4)
// for its target: source = the target, hop limit 255, traffic class and flow label 0, flags R=0
// O=1, and a target link-layer address option with our MAC. To the soliciting node (S=1,
// Ethernet to its source link-layer option's address, else to the frame's source), or for
// duplicate address detection (source ::) to all-nodes ff02::1 / 33:33:00:00:00:01 with S=0.
// The NA can be 8 bytes longer than an NS without options: returns 0 if `frame_capacity` (bytes
// writable from frame[0]) cannot hold it.
size_t AnswerNeighborSolicit(uint8_t* frame, size_t frame_capacity, const ParsedFrame& p,
                             const MacAddress& ours) noexcept;

// kEchoRequest. ICMP echo request (8) → echo reply (0), ICMPv6 128 → 129, identifier, sequence
// and data kept, addresses swapped, TTL / hop limit 64. Checksums are updated incrementally
// (RFC 1624): ClassifyFrame verified them, and swapping the addresses leaves the IPv6
// pseudo-header sum unchanged. Never fails.
size_t AnswerEcho(uint8_t* frame, const ParsedFrame& p) noexcept;

}  // namespace clusterdns::dataplane
