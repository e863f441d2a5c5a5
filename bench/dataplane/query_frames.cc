// Query frames for the per-core harness, and the checks on what comes back (query_frames.h).
// Off the measured path except CheapCheck (a few loads per reply, on the generator's lcore).
#include "bench/dataplane/query_frames.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "records/respond.h"
#include "tests/dataplane/packet/frame_builder.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::bench {
namespace {

namespace t = clusterdns::testing;

constexpr uint16_t kDnsPort = 53;
constexpr uint8_t kProtoUdp = 17;
constexpr size_t kEthLen = 14;
constexpr size_t kIpLen = 20;

// Client ports spread over a range, as many clients' would be (the worker does not care; RSS
// would).
uint16_t ClientPort(size_t i) { return static_cast<uint16_t>(10000 + i % 50000); }

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// What respond() writes for query i (the same options as the worker: UDP, REFUSED outside the
// zones). Returns the response bytes; rcode in *rcode.
std::vector<uint8_t> ExpectedResponse(const QueryFrames& frames, const records::AnswerTable& table,
                                      size_t i, uint8_t* rcode) {
  const uint8_t* query = frames.frame(i) + kDnsOffset;
  const size_t query_len = frames.len(i) - kDnsOffset;
  std::vector<uint8_t> buf(records::kUdpResponseRoom);
  std::memcpy(buf.data(), query, query_len);
  const records::RespondResult r =
      records::Respond(table, buf.data(), query_len, buf.size(), records::RespondOptions{});
  if (r.verdict != records::Verdict::kReply) {
    *rcode = 0xff;  // never matches: the mix should be answered whole
    return {};
  }
  *rcode = static_cast<uint8_t>(r.rcode & 0x0f);
  buf.resize(r.size);
  return buf;
}

}  // namespace

QueryFrames BuildQueryFrames(const SyntheticCluster& cluster, const records::AnswerTable& table,
                             size_t count, const Mac6& server_mac) {
  if (count == 0 || count > kMaxQueryFrames) std::abort();
  QueryFrames frames;
  frames.server_mac = server_mac;
  t::EthSpec eth;
  eth.dst = server_mac;
  const t::Ipv4Spec ip;  // 198.18.0.10 → 198.18.0.53
  const std::vector<SyntheticQuery> mix = MakeQueryMix(cluster, count);
  for (size_t i = 0; i < mix.size(); ++i) {
    t::QueryOptions options;
    options.id = static_cast<uint16_t>(i);
    options.edns = true;  // as records_bench: every query carries OPT
    const t::Bytes dns = t::BuildQuery(mix[i].name, mix[i].qtype, options);
    const t::Bytes frame = t::UdpFrameV4(eth, ip, ClientPort(i), kDnsPort, dns);
    frames.offsets.push_back(static_cast<uint32_t>(frames.bytes.size()));
    frames.lens.push_back(static_cast<uint16_t>(frame.size()));
    frames.bytes.insert(frames.bytes.end(), frame.begin(), frame.end());
  }
  frames.expected_rcode.resize(count);
  for (size_t i = 0; i < count; ++i) {
    ExpectedResponse(frames, table, i, &frames.expected_rcode[i]);
    if (frames.expected_rcode[i] == 0) ++frames.noerror;
    if (frames.expected_rcode[i] == 3) ++frames.nxdomain;
  }
  return frames;
}

long CheapCheck(const QueryFrames& frames, const uint8_t* data, size_t len) {
  if (len < kDnsOffset + 12) return -1;
  if (data[12] != 0x08 || data[13] != 0x00 || data[kEthLen + 9] != kProtoUdp) return -1;
  if (Get16(data + kEthLen + kIpLen) != kDnsPort) return -1;  // UDP source port
  const uint8_t* dns = data + kDnsOffset;
  const size_t id = Get16(dns);
  if (id >= frames.size()) return -1;
  if ((dns[2] & 0x80) == 0) return -1;  // QR
  if ((dns[3] & 0x0f) != frames.expected_rcode[id]) return -1;
  return static_cast<long>(id);
}

std::string DeepCheck(const QueryFrames& frames, const records::AnswerTable& table,
                      const uint8_t* data, size_t len) {
  if (len < kDnsOffset + 12) return absl::StrCat("reply of ", len, " bytes");
  const uint8_t* dns = data + kDnsOffset;
  const size_t i = Get16(dns);
  if (i >= frames.size()) return absl::StrCat("reply ID ", i, " names no query");
  const uint8_t* query = frames.frame(i);
  // Ethernet: back to the client, from the server.
  if (std::memcmp(data, query + 6, 6) != 0) return "destination MAC is not the client's";
  if (std::memcmp(data + 6, query, 6) != 0) return "source MAC is not the server's";
  if (Get16(data + 12) != 0x0800) return "EtherType is not IPv4";
  // IPv4.
  const uint8_t* ip = data + kEthLen;
  if (ip[0] != 0x45) return "IPv4 version/IHL is not 0x45";
  if (t::NaiveFold(t::NaiveSum(ip, kIpLen)) != 0xffff) return "bad IPv4 header checksum";
  const size_t ip_total = Get16(ip + 2);
  if (ip_total != len - kEthLen) {
    return absl::StrCat("IPv4 total length ", ip_total, " for a ", len, "-byte frame");
  }
  if (ip[9] != kProtoUdp) return "IP protocol is not UDP";
  if (std::memcmp(ip + 12, query + kEthLen + 16, 4) != 0) {
    return "IPv4 source is not the served address";
  }
  if (std::memcmp(ip + 16, query + kEthLen + 12, 4) != 0) {
    return "IPv4 destination is not the client";
  }
  // UDP.
  const uint8_t* udp = ip + kIpLen;
  if (Get16(udp) != kDnsPort || Get16(udp + 2) != ClientPort(i)) return "UDP ports not swapped";
  const size_t udp_len = Get16(udp + 4);
  if (udp_len != ip_total - kIpLen) return absl::StrCat("UDP length ", udp_len);
  if (Get16(udp + 6) != 0) {
    t::Ip4 src, dst;
    std::memcpy(src.data(), ip + 12, 4);
    std::memcpy(dst.data(), ip + 16, 4);
    const uint32_t pseudo = t::NaivePseudoV4(src, dst, kProtoUdp, static_cast<uint16_t>(udp_len));
    if (t::NaiveFold(t::NaiveSum(udp, udp_len, pseudo)) != 0xffff) return "bad UDP checksum";
  }
  // DNS: decodes strictly, and is exactly respond()'s answer to the query.
  const size_t dns_len = udp_len - 8;
  auto decoded = t::DecodeMessage(dns, dns_len);
  if (!decoded.ok()) {
    return absl::StrCat("DNS reply does not decode: ", decoded.status().ToString());
  }
  if (!decoded->qr) return "QR not set";
  uint8_t rcode = 0;
  const std::vector<uint8_t> expected = ExpectedResponse(frames, table, i, &rcode);
  if (expected.size() != dns_len || std::memcmp(expected.data(), dns, dns_len) != 0) {
    return absl::StrCat("DNS reply to query ", i, " (", dns_len,
                        " bytes) differs from respond()'s (", expected.size(), " bytes)");
  }
  return "";
}

std::string ForwardCheck(const QueryFrames& frames, const uint8_t* data, size_t len) {
  if (len < kDnsOffset + 12) return absl::StrCat("frame of ", len, " bytes");
  const size_t i = Get16(data + kDnsOffset);
  if (i >= frames.size()) return absl::StrCat("ID ", i, " names no query");
  if (len != frames.len(i) || std::memcmp(data + 12, frames.frame(i) + 12, len - 12) != 0) {
    return absl::StrCat("forwarded frame differs from query ", i);
  }
  return "";
}

}  // namespace clusterdns::bench
