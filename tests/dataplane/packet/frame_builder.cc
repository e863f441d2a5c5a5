// Test frame builder (frame_builder.h). Deliberately plain: byte-at-a-time fields and a
// word-at-a-time checksum, nothing shared with the code under test.
#include "tests/dataplane/packet/frame_builder.h"

#include <cstdlib>
#include <cstring>

#include "records/ip_address.h"

namespace clusterdns::testing {

Ip4 V4(std::string_view text) {
  auto ip = records::IpAddress::Parse(text);
  if (!ip || !ip->is_v4()) std::abort();
  Ip4 out;
  std::memcpy(out.data(), ip->bytes(), 4);
  return out;
}

Ip6 V6(std::string_view text) {
  auto ip = records::IpAddress::Parse(text);
  if (!ip || !ip->is_v6()) std::abort();
  Ip6 out;
  std::memcpy(out.data(), ip->bytes(), 16);
  return out;
}

Ip4 ServedV4() { return V4("198.18.0.53"); }
Ip4 ServedV4b() { return V4("198.18.1.53"); }
Ip6 ServedV6() { return V6("2001:2::53"); }
Ip4 ClientV4() { return V4("198.18.0.10"); }
Ip6 ClientV6() { return V6("2001:2::10"); }
Ip6 LinkLocalClientV6() { return V6("fe80::10"); }

uint32_t NaiveSum(const uint8_t* data, size_t len, uint32_t sum) {
  for (size_t i = 0; i < len; i += 2) {
    const uint32_t hi = data[i];
    const uint32_t lo = i + 1 < len ? data[i + 1] : 0;
    sum += hi << 8 | lo;
  }
  return sum;
}

uint16_t NaiveFold(uint32_t sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint16_t NaiveChecksum(const uint8_t* data, size_t len, uint32_t pseudo) {
  return static_cast<uint16_t>(~NaiveFold(NaiveSum(data, len, pseudo)));
}

uint32_t NaivePseudoV4(const Ip4& src, const Ip4& dst, uint8_t protocol, uint16_t len) {
  uint32_t sum = NaiveSum(src.data(), 4);
  sum = NaiveSum(dst.data(), 4, sum);
  return sum + protocol + len;
}

uint32_t NaivePseudoV6(const Ip6& src, const Ip6& dst, uint8_t next_header, uint32_t len) {
  uint32_t sum = NaiveSum(src.data(), 16);
  sum = NaiveSum(dst.data(), 16, sum);
  return sum + (len >> 16) + (len & 0xffff) + next_header;
}

void PutU16(Bytes& b, size_t at, uint16_t v) {
  b.at(at) = static_cast<uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<uint8_t>(v & 0xff);
}
uint16_t GetU16(const Bytes& b, size_t at) {
  return static_cast<uint16_t>(b.at(at) << 8 | b.at(at + 1));
}
// A loop rather than vector::insert: g++ 12 reports a false -Warray-bounds on the inlined insert
// (GCC bug 107852).
void Append(Bytes& b, const uint8_t* data, size_t len) {
  for (size_t i = 0; i < len; ++i) b.push_back(data[i]);
}

namespace {
void PushU16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v & 0xff));
}
}  // namespace

Bytes Ethernet(const EthSpec& eth, uint16_t ether_type, const Bytes& payload) {
  Bytes f;
  Append(f, eth.dst.data(), 6);
  Append(f, eth.src.data(), 6);
  for (const auto& [tpid, tci] : eth.tags) {
    PushU16(f, tpid);
    PushU16(f, tci);
  }
  PushU16(f, ether_type);
  Append(f, payload.data(), payload.size());
  return f;
}

Bytes Ipv4Packet(const Ipv4Spec& ip, uint8_t protocol, const Bytes& payload) {
  const size_t header_len = 20 + ip.options.size();
  Bytes p;
  p.push_back(static_cast<uint8_t>(0x40 | (header_len / 4)));
  p.push_back(ip.tos);
  PushU16(p, static_cast<uint16_t>(header_len + payload.size()));
  PushU16(p, ip.id);
  PushU16(p, ip.fragment);
  p.push_back(ip.ttl);
  p.push_back(protocol);
  PushU16(p, 0);
  Append(p, ip.src.data(), 4);
  Append(p, ip.dst.data(), 4);
  Append(p, ip.options.data(), ip.options.size());
  PutU16(p, 10, NaiveChecksum(p.data(), header_len));
  Append(p, payload.data(), payload.size());
  return p;
}

Bytes Ipv6Packet(const Ipv6Spec& ip, uint8_t next_header, const Bytes& payload) {
  Bytes p;
  const uint32_t first = 0x60000000u | (ip.class_flow & 0x0fffffffu);
  PushU16(p, static_cast<uint16_t>(first >> 16));
  PushU16(p, static_cast<uint16_t>(first & 0xffff));
  PushU16(p, static_cast<uint16_t>(payload.size()));
  p.push_back(next_header);
  p.push_back(ip.hop_limit);
  Append(p, ip.src.data(), 16);
  Append(p, ip.dst.data(), 16);
  Append(p, payload.data(), payload.size());
  return p;
}

namespace {
Bytes UdpHeaderAndPayload(uint16_t src_port, uint16_t dst_port, const Bytes& payload) {
  Bytes u;
  PushU16(u, src_port);
  PushU16(u, dst_port);
  PushU16(u, static_cast<uint16_t>(8 + payload.size()));
  PushU16(u, 0);
  Append(u, payload.data(), payload.size());
  return u;
}
}  // namespace

Bytes UdpV4(const Ipv4Spec& ip, uint16_t src_port, uint16_t dst_port, const Bytes& payload,
            bool with_checksum) {
  Bytes u = UdpHeaderAndPayload(src_port, dst_port, payload);
  if (with_checksum) {
    uint16_t c = NaiveChecksum(u.data(), u.size(),
                               NaivePseudoV4(ip.src, ip.dst, 17, static_cast<uint16_t>(u.size())));
    PutU16(u, 6, c == 0 ? 0xffff : c);
  }
  return u;
}

Bytes UdpV6(const Ipv6Spec& ip, uint16_t src_port, uint16_t dst_port, const Bytes& payload) {
  Bytes u = UdpHeaderAndPayload(src_port, dst_port, payload);
  uint16_t c = NaiveChecksum(u.data(), u.size(),
                             NaivePseudoV6(ip.src, ip.dst, 17, static_cast<uint32_t>(u.size())));
  PutU16(u, 6, c == 0 ? 0xffff : c);
  return u;
}

Bytes UdpFrameV4(const EthSpec& eth, const Ipv4Spec& ip, uint16_t src_port, uint16_t dst_port,
                 const Bytes& payload, bool with_checksum) {
  return Ethernet(eth, 0x0800,
                  Ipv4Packet(ip, 17, UdpV4(ip, src_port, dst_port, payload, with_checksum)));
}

Bytes UdpFrameV6(const EthSpec& eth, const Ipv6Spec& ip, uint16_t src_port, uint16_t dst_port,
                 const Bytes& payload) {
  return Ethernet(eth, 0x86dd, Ipv6Packet(ip, 17, UdpV6(ip, src_port, dst_port, payload)));
}

Bytes IcmpFrameV4(const EthSpec& eth, const Ipv4Spec& ip, uint8_t type, uint8_t code,
                  const Bytes& body) {
  Bytes m = {type, code, 0, 0};
  Append(m, body.data(), body.size());
  PutU16(m, 2, NaiveChecksum(m.data(), m.size()));
  return Ethernet(eth, 0x0800, Ipv4Packet(ip, 1, m));
}

Bytes Icmp6FrameV6(const EthSpec& eth, const Ipv6Spec& ip, uint8_t type, uint8_t code,
                   const Bytes& body) {
  Bytes m = {type, code, 0, 0};
  Append(m, body.data(), body.size());
  PutU16(m, 2,
         NaiveChecksum(m.data(), m.size(),
                       NaivePseudoV6(ip.src, ip.dst, 58, static_cast<uint32_t>(m.size()))));
  return Ethernet(eth, 0x86dd, Ipv6Packet(ip, 58, m));
}

Bytes EchoBody(uint16_t identifier, uint16_t sequence, size_t data_len) {
  Bytes b;
  PushU16(b, identifier);
  PushU16(b, sequence);
  for (size_t i = 0; i < data_len; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

Bytes ArpFrame(const EthSpec& eth, uint16_t opcode, const Mac& sender_mac, const Ip4& sender_ip,
               const Mac& target_mac, const Ip4& target_ip) {
  Bytes a;
  PushU16(a, 1);
  PushU16(a, 0x0800);
  a.push_back(6);
  a.push_back(4);
  PushU16(a, opcode);
  Append(a, sender_mac.data(), 6);
  Append(a, sender_ip.data(), 4);
  Append(a, target_mac.data(), 6);
  Append(a, target_ip.data(), 4);
  return Ethernet(eth, 0x0806, a);
}

Bytes NsBody(const Ip6& target, const Mac* source_link_addr) {
  Bytes b = {0, 0, 0, 0};  // reserved
  Append(b, target.data(), 16);
  if (source_link_addr != nullptr) {
    b.push_back(1);  // source link-layer address
    b.push_back(1);  // 8 bytes
    Append(b, source_link_addr->data(), 6);
  }
  return b;
}

Ip6 SolicitedNode(const Ip6& address) {
  Ip6 g = V6("ff02::1:ff00:0");
  g[13] = address[13];
  g[14] = address[14];
  g[15] = address[15];
  return g;
}

Mac MulticastMac(const Ip6& group) {
  return {0x33, 0x33, group[12], group[13], group[14], group[15]};
}

void AppendAfterUdp(Bytes& f, size_t n) {
  f.insert(f.end(), n, 0xee);
  if (GetU16(f, 12) == 0x0800) {
    PutU16(f, 14 + 2, static_cast<uint16_t>(GetU16(f, 14 + 2) + n));
    PutU16(f, 14 + 10, 0);
    PutU16(f, 14 + 10, NaiveChecksum(&f[14], size_t{f[14] & 0x0fu} * 4));
  } else {
    PutU16(f, 14 + 4, static_cast<uint16_t>(GetU16(f, 14 + 4) + n));
  }
}

void RepairChecksums(Bytes& f) {
  size_t at = 12;
  while (at + 2 <= f.size() && (GetU16(f, at) == 0x8100 || GetU16(f, at) == 0x88a8)) at += 4;
  if (at + 2 > f.size()) return;
  const uint16_t type = GetU16(f, at);
  const size_t l3 = at + 2;
  if (type == 0x0800) {
    if (f.size() < l3 + 20) return;
    const size_t ihl = size_t{f[l3] & 0x0fu} * 4;
    if (ihl < 20 || f.size() < l3 + ihl) return;
    PutU16(f, l3 + 10, 0);
    PutU16(f, l3 + 10, NaiveChecksum(&f[l3], ihl));
    const size_t total = GetU16(f, l3 + 2);
    if (total < ihl || f.size() < l3 + total) return;
    const size_t l4 = l3 + ihl;
    const size_t l4_len = total - ihl;
    Ip4 src, dst;
    std::memcpy(src.data(), &f[l3 + 12], 4);
    std::memcpy(dst.data(), &f[l3 + 16], 4);
    if (f[l3 + 9] == 17 && l4_len >= 8) {
      PutU16(f, l4 + 6, 0);
      uint16_t c =
          NaiveChecksum(&f[l4], l4_len, NaivePseudoV4(src, dst, 17, static_cast<uint16_t>(l4_len)));
      PutU16(f, l4 + 6, c == 0 ? 0xffff : c);
    } else if (f[l3 + 9] == 1 && l4_len >= 4) {
      PutU16(f, l4 + 2, 0);
      PutU16(f, l4 + 2, NaiveChecksum(&f[l4], l4_len));
    }
  } else if (type == 0x86dd) {
    if (f.size() < l3 + 40) return;
    const size_t l4_len = GetU16(f, l3 + 4);
    const size_t l4 = l3 + 40;
    if (f.size() < l4 + l4_len) return;
    Ip6 src, dst;
    std::memcpy(src.data(), &f[l3 + 8], 16);
    std::memcpy(dst.data(), &f[l3 + 24], 16);
    const uint8_t next = f[l3 + 6];
    const size_t field = next == 17 ? 6 : 2;
    if ((next != 17 && next != 58) || l4_len < field + 2) return;
    PutU16(f, l4 + field, 0);
    uint16_t c =
        NaiveChecksum(&f[l4], l4_len, NaivePseudoV6(src, dst, next, static_cast<uint32_t>(l4_len)));
    PutU16(f, l4 + field, next == 17 && c == 0 ? 0xffff : c);
  }
}

}  // namespace clusterdns::testing
