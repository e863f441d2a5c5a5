// respond(): one DNS query in, one response out, written in place over the query. The single
// place where DNS semantics live (DESIGN.md "respond(): one query"): the DPDK workers, the kernel
// socket listeners, the tests and the benches all call it.
//
// Hot path: noexcept, no allocation, no locks, no syscalls. Thread-safe for concurrent calls on
// the same table (the table is immutable).
//
//   RespondResult r = Respond(table, buf, query_len, sizeof(buf), RespondOptions{});
//   if (r.verdict == Verdict::kReply) send(buf, r.size);
//   else if (r.verdict == Verdict::kForward) forward(buf, query_len);  // untouched
//
// A name outside every served zone is looked up in options.cache (if any) before it is handed
// back as kForward: a hit is answered like a table entry, not authoritative, with its TTLs
// counted down to the entry's remaining life.
#pragma once

#include <cstddef>
#include <cstdint>

#include "records/answer_table.h"
#include "records/dns_constants.h"

namespace clusterdns::records {

enum class Transport : uint8_t { kUdp, kTcp };

enum class Verdict : uint8_t {
  kReply,    // buf[0, size) is the response
  kDrop,     // send nothing (see DropReason); buf untouched
  kForward,  // the name is in no served zone: hand the query upstream; buf untouched
};

enum class DropReason : uint8_t {
  kNone = 0,
  kShortHeader,  // fewer than 12 bytes
  kResponse,     // QR=1: never answer a response (reflection loops)
  kNoRoom,       // the caller's buffer cannot hold even a truncated response
  kCount,
};

class AnswerCache;

struct RespondOptions {
  Transport transport = Transport::kUdp;
  // --upstream=none: answer REFUSED for names outside every served zone instead of kForward.
  bool refuse_outside_zones = true;
  // RA in responses: set when an upstream resolves names outside the zones for the client.
  bool recursion_available = false;
  // Upstream answers for names outside every served zone (answer_cache.h), consulted before
  // kForward; null: none. `now` is CacheNow() at the caller's burst.
  const AnswerCache* cache = nullptr;
  uint32_t now = 0;
};

// Eight bytes, so it travels in a register: the burst loop stores one word per query instead of
// reassembling a struct through the stack.
struct RespondResult {
  Verdict verdict = Verdict::kDrop;
  DropReason drop = DropReason::kNone;
  bool truncated : 1 = false;
  bool cached : 1 = false;  // answered from options.cache
  uint8_t rcode = 0;   // full rcode: 16 for BADVERS
  uint16_t qtype = 0;  // 0 when the question could not be read
  uint16_t size = 0;   // response bytes when kReply
};
static_assert(sizeof(RespondResult) == 8);

// Room a caller should give respond(): a UDP response never exceeds the EDNS cap we accept, and a
// TCP response fits a 16-bit length.
inline constexpr size_t kUdpResponseRoom = kEdnsUdpPayloadSize;
inline constexpr size_t kTcpResponseRoom = 65535;

// `buf` holds `query_len` bytes of query and has room for `buf_cap` bytes.
RespondResult Respond(const AnswerTable& table, uint8_t* buf, size_t query_len, size_t buf_cap,
                      const RespondOptions& options) noexcept;

// Respond() with the question name read label by label from its first byte. Respond() and
// RespondBurst() read a name by its first zero byte instead, and walk its labels only when the
// table does not hold it (respond.cc, GuessName): they must give the same bytes as this, which
// the tests check.
RespondResult RespondWalkingLabels(const AnswerTable& table, uint8_t* buf, size_t query_len,
                                   size_t buf_cap, const RespondOptions& options) noexcept;

// A burst: parses and hashes every query, prefetches their slots and entries, then answers them
// (STYLE.md example 2). Same results as calling Respond() on each. At most kMaxBurst jobs: the
// caller splits larger batches (jobs past kMaxBurst get no result).
inline constexpr size_t kMaxBurst = 32;
struct RespondJob {
  uint8_t* buf;
  uint16_t len;
  uint16_t cap;
  RespondResult result;
};
void RespondBurst(const AnswerTable& table, RespondJob* jobs, size_t n,
                  const RespondOptions& options) noexcept;

}  // namespace clusterdns::records
