// The per-core harness's traffic (scripts/bench-dataplane.sh): prebuilt Ethernet II + IPv4 + UDP
// + DNS query frames for the records benchmark's 100k-Service query mix (bench/records/
// synthetic_cluster.h), what the worker must answer to each, and the checks the generator runs on
// what comes back, so that a broken worker cannot report a good figure.
//
// Frame i carries DNS ID i (so a reply names its query: at most 65536 queries), EDNS(0) as in
// records_bench, client 02:00:5e:00:00:10 / 198.18.0.10 port 10000 + i % 50000, server = the
// worker port's MAC / 198.18.0.53 port 53, valid IPv4 and UDP checksums. Built with the tests'
// independent frame builder (tests/dataplane/packet/frame_builder.h), checked with its naive
// checksum and the independent DNS decoder (tests/support/dns_message.h).
//
// Threads: QueryFrames is built once on the main thread, then read-only; the Check* functions are
// const and called by the generator lcore only. Byte order: frames are wire bytes.
//
//   QueryFrames frames = BuildQueryFrames(cluster, table, 65536, port_mac);
//   frames.frame(i), frames.len(i);                  // template of query i
//   CheapCheck(frames, data, len)                    // every reply: QR, ID, rcode as expected
//   DeepCheck(frames, table, data, len, port_mac)    // a sample: every byte of the reply
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/records/synthetic_cluster.h"
#include "records/answer_table.h"

namespace clusterdns::bench {

// At most one query per DNS ID.
inline constexpr size_t kMaxQueryFrames = 65536;

// Ethernet (14) + IPv4 without options (20) + UDP (8): where the DNS message starts in a query
// frame and in the worker's reply to it (the reply keeps the query's header sizes).
inline constexpr size_t kDnsOffset = 42;

using Mac6 = std::array<uint8_t, 6>;

struct QueryFrames {
  std::vector<uint8_t> bytes;     // every frame, back to back
  std::vector<uint32_t> offsets;  // frame i starts at bytes[offsets[i]]
  std::vector<uint16_t> lens;
  std::vector<uint8_t> expected_rcode;  // low 4 bits of respond()'s rcode for query i
  Mac6 server_mac{};                    // destination MAC of the queries (the worker's port)
  size_t noerror = 0;                   // queries whose expected rcode is NOERROR
  size_t nxdomain = 0;                  // ... NXDOMAIN

  size_t size() const { return lens.size(); }
  const uint8_t* frame(size_t i) const { return bytes.data() + offsets[i]; }
  uint16_t len(size_t i) const { return lens[i]; }
};

// `count` queries of MakeQueryMix(cluster, count) as frames to `server_mac`, with the rcode
// respond() gives each on `table`. count must be 1..kMaxQueryFrames (aborts otherwise: a bench
// bug).
QueryFrames BuildQueryFrames(const SyntheticCluster& cluster, const records::AnswerTable& table,
                             size_t count, const Mac6& server_mac);

// Every reply, a few loads: long enough, UDP from port 53, QR set, ID names a query, rcode is the
// one expected. Returns the query index, or -1 if any of it is wrong.
long CheapCheck(const QueryFrames& frames, const uint8_t* data, size_t len);

// A sampled reply, fully: Ethernet addresses swapped, IPv4 header checksum and addresses, UDP
// ports, length and checksum (naive implementation), the DNS message decodes strictly, and its
// bytes equal what respond() writes for the query on `table`. "" when good, else what is wrong.
std::string DeepCheck(const QueryFrames& frames, const records::AnswerTable& table,
                      const uint8_t* data, size_t len);

// A frame that came back through plain forwarding: the query it was, byte for byte from the
// Ethernet type on (the MACs may have been swapped by macswap). "" when good.
std::string ForwardCheck(const QueryFrames& frames, const uint8_t* data, size_t len);

}  // namespace clusterdns::bench
