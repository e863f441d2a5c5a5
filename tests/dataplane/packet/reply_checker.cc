// The independent reply checker (reply_checker.h).
#include "tests/dataplane/packet/reply_checker.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace clusterdns::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

bool Same(const Bytes& a, size_t a_at, const Bytes& b, size_t b_at, size_t n) {
  if (a_at + n > a.size() || b_at + n > b.size()) return false;
  return std::equal(a.begin() + a_at, a.begin() + a_at + n, b.begin() + b_at);
}

#define CDNS_CHECK(cond)                                                    \
  do {                                                                      \
    if (!(cond)) return AssertionFailure() << "reply check failed: " #cond; \
  } while (0)

// Ethernet: destination = `to`, source = ours, tags and EtherType as in the request.
AssertionResult CheckL2(const Bytes& request, const Bytes& reply, const Mac& ours,
                        const uint8_t* to, size_t l3) {
  CDNS_CHECK(reply.size() >= l3);
  CDNS_CHECK(std::memcmp(reply.data(), to, 6) == 0);
  CDNS_CHECK(std::memcmp(reply.data() + 6, ours.data(), 6) == 0);
  CDNS_CHECK(Same(reply, 12, request, 12, l3 - 12));
  return AssertionSuccess();
}

// IP layer of a reply to `request`: addresses swapped, TTL 64, lengths matching `reply.size()`,
// ECN cleared (RFC 3168 5), other header fields kept. Sets the L4 offset and length.
AssertionResult CheckIpSwapped(const Bytes& request, const Bytes& reply, size_t l3, uint16_t type,
                               uint8_t protocol, size_t* l4, size_t* l4_len) {
  if (type == 0x0800) {
    CDNS_CHECK(reply.size() >= l3 + 20);
    const size_t ihl = size_t{reply[l3] & 0x0fu} * 4;
    CDNS_CHECK(reply[l3] == request[l3]);  // version, IHL
    CDNS_CHECK(reply.size() >= l3 + ihl);
    CDNS_CHECK(reply[l3 + 1] == (request[l3 + 1] & 0xfc));   // DSCP kept, ECN cleared
    CDNS_CHECK(GetU16(reply, l3 + 2) == reply.size() - l3);  // total length
    CDNS_CHECK(Same(reply, l3 + 4, request, l3 + 4, 4));     // ID, flags, fragment
    CDNS_CHECK(reply[l3 + 8] == 64);
    CDNS_CHECK(reply[l3 + 9] == protocol);
    CDNS_CHECK(NaiveFold(NaiveSum(&reply[l3], ihl)) == 0xffff);  // header checksum
    CDNS_CHECK(Same(reply, l3 + 12, request, l3 + 16, 4));
    CDNS_CHECK(Same(reply, l3 + 16, request, l3 + 12, 4));
    CDNS_CHECK(Same(reply, l3 + 20, request, l3 + 20, ihl - 20));  // options kept
    *l4 = l3 + ihl;
    *l4_len = reply.size() - *l4;
  } else if (type == 0x86dd) {
    CDNS_CHECK(reply.size() >= l3 + 40);
    CDNS_CHECK(reply[l3] == request[l3]);                   // version, DSCP's high bits
    CDNS_CHECK(reply[l3 + 1] == (request[l3 + 1] & 0xcf));  // DSCP's low bits, ECN cleared, flow
    CDNS_CHECK(Same(reply, l3 + 2, request, l3 + 2, 2));    // flow
    CDNS_CHECK(GetU16(reply, l3 + 4) == reply.size() - l3 - 40);
    CDNS_CHECK(reply[l3 + 6] == protocol);
    CDNS_CHECK(reply[l3 + 7] == 64);
    CDNS_CHECK(Same(reply, l3 + 8, request, l3 + 24, 16));
    CDNS_CHECK(Same(reply, l3 + 24, request, l3 + 8, 16));
    *l4 = l3 + 40;
    *l4_len = reply.size() - *l4;
  } else {
    return AssertionFailure() << "not IP: EtherType " << type;
  }
  return AssertionSuccess();
}

// Sum of the pseudo header of `frame`'s IP header for `l4_len` bytes of `protocol`.
uint32_t PseudoOf(const Bytes& frame, size_t l3, uint16_t type, uint8_t protocol, size_t l4_len) {
  if (type == 0x0800) {
    Ip4 src, dst;
    std::memcpy(src.data(), &frame[l3 + 12], 4);
    std::memcpy(dst.data(), &frame[l3 + 16], 4);
    return NaivePseudoV4(src, dst, protocol, static_cast<uint16_t>(l4_len));
  }
  Ip6 src, dst;
  std::memcpy(src.data(), &frame[l3 + 8], 16);
  std::memcpy(dst.data(), &frame[l3 + 24], 16);
  return NaivePseudoV6(src, dst, protocol, static_cast<uint32_t>(l4_len));
}

}  // namespace

L2Layout ReadL2(const Bytes& frame) {
  L2Layout out;
  size_t at = 12;
  while (at + 2 <= frame.size() && (GetU16(frame, at) == 0x8100 || GetU16(frame, at) == 0x88a8)) {
    at += 4;
  }
  if (at + 2 <= frame.size()) out.type = GetU16(frame, at);
  out.l3 = at + 2;
  return out;
}

AssertionResult CheckUdpReply(const Bytes& query, const Bytes& reply, const Mac& ours,
                              Bytes* payload) {
  const L2Layout l2 = ReadL2(query);
  if (auto r = CheckL2(query, reply, ours, query.data() + 6, l2.l3); !r) return r;
  size_t l4 = 0, l4_len = 0;
  if (auto r = CheckIpSwapped(query, reply, l2.l3, l2.type, 17, &l4, &l4_len); !r) return r;
  const size_t q_l4 = l2.type == 0x0800 ? l2.l3 + size_t{query[l2.l3] & 0x0fu} * 4 : l2.l3 + 40;
  CDNS_CHECK(l4_len >= 8);
  CDNS_CHECK(Same(reply, l4, query, q_l4 + 2, 2));  // source port = query's destination port
  CDNS_CHECK(Same(reply, l4 + 2, query, q_l4, 2));
  CDNS_CHECK(GetU16(reply, l4 + 4) == l4_len);
  CDNS_CHECK(GetU16(reply, l4 + 6) != 0);  // we always send a checksum
  CDNS_CHECK(NaiveFold(NaiveSum(&reply[l4], l4_len, PseudoOf(reply, l2.l3, l2.type, 17, l4_len))) ==
             0xffff);
  if (payload != nullptr) payload->assign(reply.begin() + l4 + 8, reply.end());
  return AssertionSuccess();
}

AssertionResult CheckEchoReply(const Bytes& request, const Bytes& reply, const Mac& ours) {
  const L2Layout l2 = ReadL2(request);
  if (auto r = CheckL2(request, reply, ours, request.data() + 6, l2.l3); !r) return r;
  const bool v4 = l2.type == 0x0800;
  const uint8_t protocol = v4 ? 1 : 58;
  size_t l4 = 0, l4_len = 0;
  if (auto r = CheckIpSwapped(request, reply, l2.l3, l2.type, protocol, &l4, &l4_len); !r) return r;
  // Same IP packet length as the request (its Ethernet padding, if any, dropped).
  const size_t request_ip_len =
      v4 ? GetU16(request, l2.l3 + 2) : 40 + size_t{GetU16(request, l2.l3 + 4)};
  CDNS_CHECK(reply.size() == l2.l3 + request_ip_len);
  CDNS_CHECK(reply[l4] == (v4 ? 0 : 129));
  CDNS_CHECK(reply[l4 + 1] == 0);
  CDNS_CHECK(Same(reply, l4 + 4, request, l4 + 4, l4_len - 4));  // identifier, sequence, data
  const uint32_t pseudo = v4 ? 0 : PseudoOf(reply, l2.l3, l2.type, 58, l4_len);
  CDNS_CHECK(NaiveFold(NaiveSum(&reply[l4], l4_len, pseudo)) == 0xffff);
  return AssertionSuccess();
}

AssertionResult CheckArpReply(const Bytes& request, const Bytes& reply, const Mac& ours) {
  const L2Layout l2 = ReadL2(request);
  const size_t a = l2.l3;
  CDNS_CHECK(request.size() >= a + 28);
  if (auto r = CheckL2(request, reply, ours, request.data() + a + 8, a); !r) return r;
  CDNS_CHECK(reply.size() == a + 28);
  CDNS_CHECK(Same(reply, a, request, a, 6));  // hardware/protocol types and sizes
  CDNS_CHECK(GetU16(reply, a + 6) == 2);
  CDNS_CHECK(std::memcmp(&reply[a + 8], ours.data(), 6) == 0);
  CDNS_CHECK(Same(reply, a + 14, request, a + 24, 4));  // sender IP = the address asked for
  CDNS_CHECK(Same(reply, a + 18, request, a + 8, 6));   // target = the requester
  CDNS_CHECK(Same(reply, a + 24, request, a + 14, 4));
  return AssertionSuccess();
}

AssertionResult CheckNeighborAdvert(const Bytes& solicit, const Bytes& reply, const Mac& ours) {
  const L2Layout l2 = ReadL2(solicit);
  const size_t ip = l2.l3;
  const size_t m = ip + 40;
  CDNS_CHECK(solicit.size() >= m + 24);
  static const Bytes kUnspecified(16, 0);
  const bool dad = Same(solicit, ip + 8, kUnspecified, 0, 16);
  const Mac all_nodes_mac = {0x33, 0x33, 0, 0, 0, 1};
  const Ip6 all_nodes = V6("ff02::1");
  // The solicitor: its source link-layer option's address if it has a unicast one (RFC 4861
  // 7.2.3), else the frame's source.
  const uint8_t* to = dad ? all_nodes_mac.data() : solicit.data() + 6;
  for (size_t at = m + 24; !dad && at + 8 <= solicit.size() && solicit[at + 1] != 0;
       at += size_t{solicit[at + 1]} * 8) {
    if (solicit[at] != 1) continue;
    if ((solicit[at + 2] & 1) == 0) to = solicit.data() + at + 2;
    break;
  }
  if (auto r = CheckL2(solicit, reply, ours, to, ip); !r) return r;
  CDNS_CHECK(reply.size() == m + 32);
  CDNS_CHECK(reply[ip] >> 4 == 6);
  CDNS_CHECK(GetU16(reply, ip + 4) == 32);
  CDNS_CHECK(reply[ip + 6] == 58);
  CDNS_CHECK(reply[ip + 7] == 255);
  CDNS_CHECK(Same(reply, ip + 8, solicit, m + 8, 16));  // from the target address
  if (dad) {
    CDNS_CHECK(std::memcmp(&reply[ip + 24], all_nodes.data(), 16) == 0);
  } else {
    CDNS_CHECK(Same(reply, ip + 24, solicit, ip + 8, 16));
  }
  CDNS_CHECK(reply[m] == 136);
  CDNS_CHECK(reply[m + 1] == 0);
  CDNS_CHECK(reply[m + 4] == (dad ? 0x20 : 0x60));  // R=0, S unless DAD, O=1
  CDNS_CHECK(reply[m + 5] == 0 && reply[m + 6] == 0 && reply[m + 7] == 0);
  CDNS_CHECK(Same(reply, m + 8, solicit, m + 8, 16));
  CDNS_CHECK(reply[m + 24] == 2 && reply[m + 25] == 1);
  CDNS_CHECK(std::memcmp(&reply[m + 26], ours.data(), 6) == 0);
  CDNS_CHECK(NaiveFold(NaiveSum(&reply[m], 32, PseudoOf(reply, ip, 0x86dd, 58, 32))) == 0xffff);
  return AssertionSuccess();
}

#undef CDNS_CHECK

}  // namespace clusterdns::testing
