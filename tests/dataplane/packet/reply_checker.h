// An independent checker of reply frames: each function takes the frame as received and the reply
// the code under test made of it, re-parses both with plain byte offsets (nothing from
// dataplane/packet), and checks every field a peer relies on: MACs / IPs / ports swapped, VLAN tags
// kept, lengths consistent with the frame size, TTL / hop limit, and every checksum (by summing to
// 0xffff with frame_builder.h's naive sum). The first mismatch is the failure message.
//
//   Bytes dns;
//   EXPECT_TRUE(CheckUdpReply(query_frame, reply_frame, kOurMac, &dns));
#pragma once

#include <gtest/gtest.h>

#include "tests/dataplane/packet/frame_builder.h"

namespace clusterdns::testing {

// UDP reply to a UDP query (IPv4 or IPv6, any tags, IPv4 options). `payload` (optional) receives
// the reply's UDP payload.
::testing::AssertionResult CheckUdpReply(const Bytes& query, const Bytes& reply, const Mac& ours,
                                         Bytes* payload = nullptr);
// ICMP / ICMPv6 echo reply to an echo request.
::testing::AssertionResult CheckEchoReply(const Bytes& request, const Bytes& reply,
                                          const Mac& ours);
// ARP reply to an ARP request.
::testing::AssertionResult CheckArpReply(const Bytes& request, const Bytes& reply, const Mac& ours);
// Neighbour advertisement answering a neighbour solicitation (DAD when its source is ::).
::testing::AssertionResult CheckNeighborAdvert(const Bytes& solicit, const Bytes& reply,
                                               const Mac& ours);

// Where the L3 header starts (after tags) and the EtherType, by plain reading.
struct L2Layout {
  size_t l3 = 0;
  uint16_t type = 0;
};
L2Layout ReadL2(const Bytes& frame);

}  // namespace clusterdns::testing
