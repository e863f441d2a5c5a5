// respond(): parse, look up, and write the response over the query. See respond.h.
//
// Parsing follows NSD's packet.c and Knot's pkt.h: every length checked before it is used, the
// question name folded into a separate zero-padded key while the wire bytes stay in place so the
// client's spelling is echoed. The question name must be uncompressed (a pointer in the first
// name of a message can only point into the header or loop).
#include "records/respond.h"

#include <arpa/inet.h>

#include <bit>
#include <cstdint>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "records/answer_cache.h"
#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

enum class ParseStatus : uint8_t {
  kOk,        // a well-formed QUERY with one question: look it up
  kDrop,      // nothing to send
  kError,     // answer `rcode` without looking anything up
};

struct ParsedQuery {
  // Folded question name, zero-padded for the hash; room for a 255-byte name copied in 32-byte
  // chunks and for the zeros after it.
  alignas(32) uint8_t key[kNameKeyBufferSize + kHashMinBytes];
  uint64_t hash;
  // Where labels start in key (bit i: at byte i), when key_len ≤ 64 and name_checked. The
  // root's bit may be missing (ConfirmGuessedName).
  uint64_t label_starts;
  uint16_t len;  // the query's length
  uint16_t key_len;
  uint16_t qtype;
  uint16_t qclass;
  uint16_t question_end;  // 0 when the question is not echoed
  uint16_t flags;         // query's header flags
  uint16_t udp_size;      // client's EDNS payload size (0 without EDNS)
  uint16_t rcode;
  bool edns;
  bool edns_do;
  // Whether the name's labels were walked. A name read by its first zero byte (GuessName) is
  // not: a lookup that finds it proves it, and a miss walks it (ConfirmName).
  bool name_checked;
  ParseStatus status;
  DropReason drop;
};

// Copies ceil(n / 32) * 32 bytes: fixed-size moves the compiler turns into vector loads and
// stores, instead of the `rep movs` a variable-length memcpy of a few dozen bytes becomes.
// Both sides must have room for the rounded length.
inline void CopyChunks(uint8_t* dst, const uint8_t* src, size_t n) {
  for (size_t i = 0; i < n; i += 32) std::memcpy(dst + i, src + i, 32);
}
inline size_t RoundUp32(size_t n) { return (n + 31) & ~size_t{31}; }

// Copies exactly n bytes with overlapping fixed-size moves (four of 16 bytes from 16 to 64
// bytes, 32-byte moves beyond, two below): nothing past src + n is read. Entry bodies are copied
// so: the arena is packed so that the bytes an answer reads stay in their cache lines
// (arena_packer.h), and a copy rounded up to 32 bytes would reach into the next line, a DRAM miss
// at 100k Services.
inline void CopyExact(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n - 16 <= 48) {
    // 16 to 64 bytes, the bodies of nearly every answer (an A answer is 16, an SRV with its
    // target's address about 50), with no branch on which: 16-byte moves at 0, at 16 and 32
    // (each moved back so as to end by n) and at n - 16. It was a branch on n ≥ 32, missed
    // wherever A and SRV answers alternate.
    const size_t last = n - 16;
    const size_t second = last < 16 ? last : 16;
    const size_t third = last < 32 ? last : 32;
    uint8_t a[16], b[16], c[16], d[16];
    std::memcpy(a, src, 16);
    std::memcpy(b, src + second, 16);
    std::memcpy(c, src + third, 16);
    std::memcpy(d, src + last, 16);
    std::memcpy(dst, a, 16);
    std::memcpy(dst + second, b, 16);
    std::memcpy(dst + third, c, 16);
    std::memcpy(dst + last, d, 16);
  } else if (n >= 32) {
    for (size_t i = 0; i + 32 < n; i += 32) std::memcpy(dst + i, src + i, 32);
    std::memcpy(dst + n - 32, src + n - 32, 32);
  } else if (n >= 16) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n > 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

#if defined(__AVX2__)
// ASCII upper case to lower case in 32 bytes: 'A'..'Z' moved to -128..-103 is what is below -102.
inline __m256i FoldVector(__m256i c) {
  const __m256i shifted = _mm256_add_epi8(c, _mm256_set1_epi8(static_cast<char>(128 - 'A')));
  const __m256i upper = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 26), shifted);
  return _mm256_or_si256(c, _mm256_and_si256(upper, _mm256_set1_epi8(0x20)));
}

// The question name read as ending at its first zero byte, when that is within 64 bytes and the
// message: the key gets the folded bytes up to it and zeros to 64. Returns the name's length, or
// 0 to leave the name to the label walk. No loop, no branch that depends on the name.
//
// The guess is the name for every name whose labels hold no zero byte; the labels are not
// checked here. What makes that safe: the table holds well-formed names only, so a lookup that
// finds the key proves it (the same bytes walk the same labels to the same root), and every
// other outcome walks the labels before it answers (ConfirmName, or Parse's exact retry).
inline size_t GuessName(const uint8_t* name, size_t room, ParsedQuery* pq) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(name));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(name + 32));
  const __m256i zero = _mm256_setzero_si256();
  const uint64_t zeros =
      uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, zero)))} |
      uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, zero)))} << 32;
  const size_t n = _tzcnt_u64(zeros) + 1;  // 65 when there is none
  if (n > room || n > 64) return 0;
  const __m256i length = _mm256_set1_epi8(static_cast<char>(n));
  const __m256i index_lo = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                            16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                            30, 31);
  const __m256i index_hi = _mm256_add_epi8(index_lo, _mm256_set1_epi8(32));
  _mm256_store_si256(reinterpret_cast<__m256i*>(pq->key),
                     _mm256_and_si256(FoldVector(lo), _mm256_cmpgt_epi8(length, index_lo)));
  _mm256_store_si256(reinterpret_cast<__m256i*>(pq->key + 32),
                     _mm256_and_si256(FoldVector(hi), _mm256_cmpgt_epi8(length, index_hi)));
  return n;
}
#endif

// Walks the labels of the name at `name` within `room` bytes: returns its length (the root's
// byte included), or 0 if its labels run past `room` or one is over 63 (a pointer or a reserved
// label type). Bit i of *starts: a label starts at byte i, for i < 64.
//
// The lengths are checked once, after the walk: a length over 63 has bit 6 or 7 set. Until then
// such a byte only moves `at`, and every read is still below `room`.
inline size_t WalkLabels(const uint8_t* name, size_t room, uint64_t* starts) {
  size_t at = 0;
  unsigned lengths = 0;
  uint64_t seen = 0;
  while (true) {
    const size_t l = name[at];
    lengths |= static_cast<unsigned>(l);
    seen |= at < 64 ? uint64_t{1} << at : 0;
    at += l + 1;
    if (l == 0) break;         // at ≤ room: the root's own byte was below room
    if (at >= room) return 0;  // no room for the next length byte
  }
  if (lengths > kMaxLabelLength) return 0;
  *starts = seen;
  return at;
}

// Reads the question name at offset 12 into pq->key (folded, zero-padded for the hash) and
// returns the offset after it, or 0 if it is malformed or compressed. `cap` is how much of buf
// may be read. Unless `exact`, a name may be read by GuessName, its labels unchecked.
inline size_t ReadQuestionName(const uint8_t* buf, size_t len, size_t cap, bool exact,
                               ParsedQuery* pq) {
  const uint8_t* name = buf + kHeaderSize;
  // The name ends within the message and within 255 bytes: one bound for both.
  const size_t room = len - kHeaderSize < kMaxNameWireLength ? len - kHeaderSize : kMaxNameWireLength;
  if (room == 0) return 0;
#if !defined(__AVX2__)
  (void)exact;  // every name is walked
#else
  if (!exact && kHeaderSize + 64 <= cap) {
    const size_t n = GuessName(name, room, pq);
    if (n != 0) {
      pq->name_checked = false;
      pq->key_len = static_cast<uint16_t>(n);
      return kHeaderSize + n;
    }
  }
#endif
  uint64_t starts;
  const size_t n = WalkLabels(name, room, &starts);
  if (n == 0) return 0;
  // Fold whole chunks (length bytes are ≤ 63, never in 'A'..'Z'), then zero what the hash reads
  // past the name.
  if (n <= 64 && kHeaderSize + 64 <= cap) {
    CopyChunks(pq->key, name, 64);
    FoldName(pq->key, 64);
  } else {
    if (kHeaderSize + RoundUp32(n) <= cap) {
      CopyChunks(pq->key, name, n);
    } else {
      std::memcpy(pq->key, name, n);
    }
    for (size_t i = 0; i < n; i += 32) FoldName(pq->key + i, 32);
  }
  std::memset(pq->key + n, 0, kHashMinBytes);
  pq->key_len = static_cast<uint16_t>(n);
  pq->label_starts = starts;
  pq->name_checked = true;
  return kHeaderSize + n;
}

// Walks the labels of a name that GuessName read: whether they end at its root, its first zero
// byte (length bytes are not folded, so the key walks as the question does).
inline bool ConfirmName(ParsedQuery& pq) {
  if (WalkLabels(pq.key, pq.key_len, &pq.label_starts) != pq.key_len) return false;
  pq.name_checked = true;
  return true;
}

// ConfirmName without a branch for names of up to kFixedWalkSteps labels: a fixed number of
// steps, each moving `at` past one label and staying on the root once there (a zero adds 0).
// The exit of a loop over the labels of a missed name was a mispredicted branch in every other
// query, found out only at the end of the chain of loads it waits on. Names with more labels,
// and malformed ones, take ConfirmName, which decides.
//
// Why a success proves the name (key_len ≤ 64 after GuessName): the bytes before key_len - 1
// are not zero (GuessName stopped at the first zero), so `at` stands still only on the root's
// byte or on the zeros past it. `at` never goes back, and a length over 63 takes it past 64 for
// good (reads past 63 wrap, inside the key, and no longer matter). So `at` == key_len - 1 after
// the steps means the labels, each of at most 63 bytes, ended at the root. Bit i of seen: a step
// stood on byte i, a label start or the root; the root's bit is missing when every step went to
// a label, which InZone never asks for (no served zone is the root).
inline constexpr int kFixedWalkSteps = 8;
inline bool ConfirmGuessedName(ParsedQuery& pq) {
  const uint8_t* key = pq.key;
  size_t at = 0;
  uint64_t seen = 0;
#pragma GCC unroll 8
  for (int step = 0; step < kFixedWalkSteps; ++step) {
    const size_t l = key[at & 63];
    seen |= uint64_t{1} << (at & 63);
    at += l + (l != 0);
  }
  if (at + 1 != pq.key_len) return ConfirmName(pq);
  pq.label_starts = seen;
  pq.name_checked = true;
  return true;
}

// The additional section: at most one OPT, owner root, options that exactly fill its rdata.
// Other records (TSIG, which we do not verify) are skipped. Returns false on a malformed section.
inline bool ReadAdditional(const uint8_t* buf, size_t len, size_t pos, uint16_t arcount,
                           ParsedQuery* pq, size_t* end) {
  for (uint16_t i = 0; i < arcount; ++i) {
    const size_t owner = pos;
    size_t next;
    if (pos < len && buf[pos] == 0) {
      next = pos + 1;  // the root, as every OPT has it: no call to the general name reader
    } else if (SkipName(buf, len, pos, &next) != NameError::kOk) {
      return false;
    }
    pos = next;
    if (pos + 10 > len) return false;
    const uint16_t type = LoadBe16(buf + pos);
    const uint16_t rdlen = LoadBe16(buf + pos + 8);
    if (pos + 10 + rdlen > len) return false;
    if (type == kTypeOpt) {
      if (pq->edns) return false;               // two OPTs (RFC 6891 6.1.1)
      if (buf[owner] != 0 || next != owner + 1) return false;  // owner must be the root
      pq->edns = true;
      const uint16_t size = LoadBe16(buf + pos + 2);
      pq->udp_size = size < kMaxUdpPayloadWithoutEdns ? kMaxUdpPayloadWithoutEdns : size;
      const uint8_t version = buf[pos + 5];
      pq->edns_do = (LoadBe16(buf + pos + 6) & kEdnsFlagDo) != 0;
      size_t opt = pos + 10;
      const size_t opt_end = opt + rdlen;
      while (opt < opt_end) {
        if (opt + 4 > opt_end) return false;
        const uint16_t olen = LoadBe16(buf + opt + 2);
        if (opt + 4 + olen > opt_end) return false;
        opt += 4 + olen;
      }
      if (version != 0) pq->rcode = kRcodeBadVers;
    }
    pos += 10 + rdlen;
  }
  *end = pos;
  return true;
}

// Steps over `count` resource records from `pos` in the message's first `len` bytes: true with
// `*end` after them, or false when they do not lie within it. Cold paths only.
bool SkipRecords(const uint8_t* buf, size_t len, size_t pos, uint32_t count, size_t* end) {
  for (uint32_t i = 0; i < count; ++i) {
    size_t next;
    if (SkipName(buf, len, pos, &next) != NameError::kOk || next + 10 > len) return false;
    pos = next + 10 + LoadBe16(buf + next + 8);
    if (pos > len) return false;
  }
  *end = pos;
  return true;
}

// For an error reply to a query that is readable past its question(s): finds the query's OPT, so
// that the reply carries one when the query had a well-formed one (RFC 6891 7). Steps over
// `questions` questions from `pos`, then the answer and authority records (UPDATE fills them; an
// IXFR carries the client's SOA). Sets pq->edns and the rest as ReadAdditional does; the caller
// sets the rcode after it. A call: errors are the rare path.
[[gnu::noinline]] void FindOptOfError(const uint8_t* buf, size_t len, size_t pos,
                                      uint32_t questions, ParsedQuery* pq) {
  bool readable = true;
  for (uint32_t i = 0; i < questions && readable; ++i) {
    size_t next;
    readable = SkipName(buf, len, pos, &next) == NameError::kOk && next + 4 <= len;
    if (readable) pos = next + 4;
  }
  const uint32_t records = uint32_t{LoadBe16(buf + 6)} + LoadBe16(buf + 8);
  readable = readable && SkipRecords(buf, len, pos, records, &pos);
  if (!readable || !ReadAdditional(buf, len, pos, LoadBe16(buf + 10), pq, &pos)) pq->edns = false;
}

// Inlined into its callers, as Answer is: the compiler would otherwise call it per query.
[[gnu::always_inline]] inline void ParseWith(const uint8_t* buf, size_t len, size_t cap,
                                             bool exact, ParsedQuery* pq) {
  pq->len = static_cast<uint16_t>(len);
  pq->name_checked = true;
  pq->edns = false;
  pq->edns_do = false;
  pq->udp_size = 0;
  pq->question_end = 0;
  pq->qtype = 0;
  pq->rcode = kRcodeNoError;
  pq->drop = DropReason::kNone;
  if (len < kHeaderSize) {
    pq->status = ParseStatus::kDrop;
    pq->drop = DropReason::kShortHeader;
    return;
  }
  pq->flags = LoadBe16(buf + 2);
  if (pq->flags & kFlagQr) {
    pq->status = ParseStatus::kDrop;
    pq->drop = DropReason::kResponse;
    return;
  }
  pq->status = ParseStatus::kError;
  const uint16_t qdcount = LoadBe16(buf + 4);
  const uint8_t opcode = static_cast<uint8_t>((pq->flags & kOpcodeMask) >> kOpcodeShift);
  if (qdcount != 1) {
    FindOptOfError(buf, len, kHeaderSize, qdcount, pq);
    pq->rcode = opcode != kOpcodeQuery ? kRcodeNotImp : kRcodeFormErr;
    return;
  }
  const size_t name_end = ReadQuestionName(buf, len, cap, exact, pq);
  if (name_end == 0 || name_end + 4 > len) {
    pq->rcode = opcode != kOpcodeQuery ? kRcodeNotImp : kRcodeFormErr;
    return;
  }
  pq->qtype = LoadBe16(buf + name_end);
  pq->qclass = LoadBe16(buf + name_end + 2);
  pq->question_end = static_cast<uint16_t>(name_end + 4);
  if (opcode != kOpcodeQuery) {
    FindOptOfError(buf, len, pq->question_end, 0, pq);
    pq->rcode = kRcodeNotImp;
    return;
  }
  if (LoadBe16(buf + 6) != 0 || LoadBe16(buf + 8) != 0) {
    FindOptOfError(buf, len, pq->question_end, 0, pq);
    // An IXFR carries the client's SOA in the authority section (RFC 1995 3): a well-formed
    // transfer request, refused as AXFR is. Anything else with those sections is malformed.
    pq->rcode = pq->qtype == kTypeIxfr && LoadBe16(buf + 6) == 0 ? kRcodeRefused : kRcodeFormErr;
    return;
  }
  size_t end = pq->question_end;
  const uint16_t arcount = LoadBe16(buf + 10);
  const uint8_t* opt = buf + end;  // owner, type, size, extended rcode, version, flags, rdlength
  if (arcount == 1 && len - end == kOptRecordSize && opt[0] == 0 && LoadBe16(opt + 1) == kTypeOpt &&
      LoadBe16(opt + 9) == 0) {
    // What nearly every query ends with: an OPT without options. The same checks as
    // ReadAdditional, in a few instructions.
    pq->edns = true;
    const uint16_t size = LoadBe16(opt + 3);
    pq->udp_size = size < kMaxUdpPayloadWithoutEdns ? kMaxUdpPayloadWithoutEdns : size;
    pq->edns_do = (LoadBe16(opt + 7) & kEdnsFlagDo) != 0;
    if (opt[6] != 0) pq->rcode = kRcodeBadVers;
    end = len;
  } else if (arcount != 0 && !ReadAdditional(buf, len, end, arcount, pq, &end)) {
    pq->edns = false;
    pq->rcode = kRcodeFormErr;
    return;
  }
  if (end != len) {  // trailing garbage
    pq->rcode = kRcodeFormErr;
    return;
  }
  if (pq->rcode == kRcodeBadVers) return;
  if (pq->qclass != kClassIn) {
    pq->rcode = kRcodeRefused;
    return;
  }
  // Meta and transfer types are 41 and 249-254: one compare for every other type.
  if (pq->qtype == kTypeOpt || pq->qtype >= kTypeTkey) {
    switch (pq->qtype) {
      case kTypeOpt:
      case kTypeTsig:
      case kTypeTkey:
        pq->rcode = kRcodeFormErr;  // meta types are not questions
        return;
      case kTypeAxfr:
      case kTypeIxfr:
        pq->rcode = kRcodeRefused;  // no zone transfers
        return;
      case kTypeMaila:
      case kTypeMailb:
        pq->rcode = kRcodeNotImp;
        return;
      default:
        break;
    }
  }
  pq->hash = HashFoldedName(pq->key, pq->key_len);
  pq->status = ParseStatus::kOk;
}

// The parse with every label walked (a call: it is the rare path).
[[gnu::noinline]] void ParseExact(const uint8_t* buf, size_t len, size_t cap, ParsedQuery* pq) {
  ParseWith(buf, len, cap, /*exact=*/true, pq);
}

// An error found after a guessed name may come from the guess (a zero byte inside a label moves
// everything after the name): such a query is parsed again with the labels walked.
[[gnu::always_inline]] inline void Parse(const uint8_t* buf, size_t len, size_t cap,
                                         ParsedQuery* pq) {
  ParseWith(buf, len, cap, /*exact=*/false, pq);
  if (pq->status == ParseStatus::kError && !pq->name_checked) ParseExact(buf, len, cap, pq);
}

// The most bytes a reply may have: 64 KiB over TCP; over UDP 512, or with EDNS the client's size
// up to 1232; never more than the buffer.
inline size_t ReplyLimit(const ParsedQuery& pq, size_t buf_cap, const RespondOptions& options) {
  size_t limit;
  if (options.transport == Transport::kTcp) {
    limit = kMaxMessageSize;
  } else if (pq.edns) {
    limit = pq.udp_size > kEdnsUdpPayloadSize ? kEdnsUdpPayloadSize : pq.udp_size;
  } else {
    limit = kMaxUdpPayloadWithoutEdns;
  }
  return limit > buf_cap ? buf_cap : limit;
}

// What Finish sends when a reply is over the limit: its size (0: not even TC fits) and counts.
struct FittedReply {
  size_t size;
  uint16_t ancount;
  uint16_t nscount;
  uint16_t arcount;
  bool truncated;
};

// Finish's rare path, a reply over `limit` bytes. The additional records are extra information:
// left out when only they do not fit, with no TC (RFC 2181 9), as Knot and NSD do, so a client
// without TCP still gets the answer. Otherwise TC, with the question (and OPT) alone. The body
// is at buf + qend if it fits buf_cap. A call taking and returning values: in Finish, which is
// inlined at every answer, these lines (or pointers to its locals) cost every query instructions
// (callgrind, records_bench).
[[gnu::noinline]] FittedReply FitOverLimit(const uint8_t* buf, size_t qend, size_t body_len,
                                           size_t buf_cap, size_t limit, size_t opt_size,
                                           uint16_t ancount, uint16_t nscount, uint16_t arcount) {
  size_t answer_end;
  if (arcount != 0 && qend + body_len <= buf_cap &&
      SkipRecords(buf, qend + body_len, qend, uint32_t{ancount} + nscount, &answer_end) &&
      answer_end + opt_size <= limit) {
    return {answer_end + opt_size, ancount, nscount, 0, false};
  }
  const size_t size = qend + opt_size;
  return {size <= limit ? size : 0, 0, 0, 0, true};
}

// Writes the header, the OPT record and decides truncation. `body_len` bytes of body are already
// at buf + question_end if they fit buf_cap: the answer and authority records, then the
// `arcount` additional ones.
inline RespondResult Finish(const ParsedQuery& pq, uint8_t* buf, size_t buf_cap,
                            const RespondOptions& options, uint16_t rcode, bool authoritative,
                            uint16_t ancount, uint16_t nscount, uint16_t arcount,
                            size_t body_len) {
  RespondResult result;
  result.verdict = Verdict::kReply;
  result.rcode = static_cast<uint8_t>(rcode);
  result.qtype = pq.qtype;
  const size_t limit = ReplyLimit(pq, buf_cap, options);
  const size_t opt_size = pq.edns ? kOptRecordSize : 0;
  const size_t qend = pq.question_end ? pq.question_end : kHeaderSize;
  size_t size = qend + body_len + opt_size;
  uint16_t flags = static_cast<uint16_t>(kFlagQr | (pq.flags & (kOpcodeMask | kFlagRd | kFlagCd)) |
                                         (rcode & kRcodeMask));
  if (authoritative) flags |= kFlagAa;
  if (options.recursion_available) flags |= kFlagRa;
  if (size > limit) [[unlikely]] {
    const FittedReply fitted =
        FitOverLimit(buf, qend, body_len, buf_cap, limit, opt_size, ancount, nscount, arcount);
    if (fitted.size == 0) {
      result.verdict = Verdict::kDrop;
      result.drop = DropReason::kNoRoom;
      return result;
    }
    size = fitted.size;
    ancount = fitted.ancount;
    nscount = fitted.nscount;
    arcount = fitted.arcount;
    if (fitted.truncated) {
      flags |= kFlagTc;
      result.truncated = true;
    }
  }
  // Flags and the counts in two stores.
  StoreBe64(buf + 2, uint64_t{flags} << 48 | uint64_t{pq.question_end ? 1u : 0u} << 32 |
                         uint64_t{ancount} << 16 | nscount);
  StoreBe16(buf + 10, static_cast<uint16_t>(arcount + (pq.edns ? 1 : 0)));
  if (pq.edns) {
    // Root owner, type OPT, our payload size, extended rcode (BADVERS is 16 → 1), version 0,
    // DO, no options: bytes 0-7 in one store, 7-10 in another.
    uint8_t* opt = buf + size - kOptRecordSize;
    const uint64_t do_bit = pq.edns_do ? uint64_t{kEdnsFlagDo >> 8} : 0;
    StoreBe64(opt, uint64_t{kTypeOpt} << 40 | uint64_t{kEdnsUdpPayloadSize} << 24 |
                       uint64_t{static_cast<uint8_t>(rcode >> 4)} << 16 | do_bit);
    StoreBe32(opt + 7, static_cast<uint32_t>(do_bit << 24));
  }
  result.size = static_cast<uint16_t>(size);
  return result;
}

// NXDOMAIN or NODATA with the zone's SOA: half of a typical mix. Inlined, as the compiler chose
// to until a few lines elsewhere tipped its budget: as a call it cost ~30 instructions a query
// (callgrind, records_bench's in-cache mix).
[[gnu::always_inline]] inline RespondResult Negative(const AnswerTable& table,
                                                     const ParsedQuery& pq, uint8_t* buf,
                                                     size_t buf_cap, const RespondOptions& options,
                                                     size_t zone_index, uint16_t rcode) {
  const ZoneAnswerInfo& zone = table.zone(zone_index);
  uint8_t* body = buf + pq.question_end;
  size_t room = buf_cap > pq.question_end ? buf_cap - pq.question_end : 0;
  if (zone.soa_body_len > room) {
    return Finish(pq, buf, buf_cap, options, rcode, true, 0, 0, 0, zone.soa_body_len);
  }
  if (RoundUp32(zone.soa_body_len) <= room) {
    CopyChunks(body, zone.soa_body, zone.soa_body_len);  // soa_body has room to spare
  } else {
    std::memcpy(body, zone.soa_body, zone.soa_body_len);
  }
  const uint16_t apex_offset =
      static_cast<uint16_t>(0xC000 | (kHeaderSize + pq.key_len - zone.apex_len));
  StoreBe16(body + zone.soa_pointer_pos[0], apex_offset);  // unused slots repeat this one
  StoreBe16(body + zone.soa_pointer_pos[1], apex_offset);
  StoreBe16(body + zone.soa_pointer_pos[2], apex_offset);
  return Finish(pq, buf, buf_cap, options, rcode, true, 0, 1, 0, zone.soa_body_len);
}

// Whether a label of the question name starts at `start` (≤ key_len), for names over 64 bytes
// (label_starts has the shorter ones).
inline bool LabelStartsAt(const ParsedQuery& pq, size_t start) {
  size_t at = 0;
  while (at < start) at += 1 + size_t{pq.key[at]};
  return at == start;
}

// Whether the question name (its labels checked) ends with zone `z` on a label boundary.
inline bool InZone(const ZoneAnswerInfo& zone, const ParsedQuery& pq) {
  if (zone.apex_len > pq.key_len) return false;
  const size_t start = pq.key_len - zone.apex_len;
  // zone.apex has room past apex_len; pq.key is zero-padded.
  if (!NameEquals(zone.apex, pq.key + start, zone.apex_len)) return false;
  return pq.key_len <= 64 ? (pq.label_starts >> start & 1) != 0 : LabelStartsAt(pq, start);
}

// The most specific zone containing the question name; -1 if none. See AnswerTable::zone_groups.
inline int FindZone(const AnswerTable& table, const ParsedQuery& pq) {
  if (pq.key_len >= 8) {
    uint64_t key_tail;
    std::memcpy(&key_tail, pq.key + pq.key_len - 8, 8);
    for (const AnswerTable::ZoneGroup& group : table.zone_groups()) {
      if (group.tail != key_tail) continue;
      for (uint8_t z : group.zones) {
        if (InZone(table.zone(z), pq)) return z;
      }
    }
  }
  for (uint8_t z : table.short_zones()) {
    if (InZone(table.zone(z), pq)) return z;
  }
  return -1;
}

// Parses a decimal octet without leading zeros.
inline bool ParseOctet(const uint8_t* p, size_t n, uint8_t* out) {
  if (n == 0 || n > 3 || (n > 1 && p[0] == '0')) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (p[i] - '0');
  }
  if (v > 255) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

// a-b-c-d.<ns>.pod.<zone> (and IPv6 with '-' for ':'), as CoreDNS's "pods insecure".
// Returns 1 and writes the answer if the name is a pod name, 0 for NODATA at an existing name,
// -1 if no such name exists.
inline int SynthesizePod(const ParsedQuery& pq, const ZoneAnswerInfo& zone, uint8_t* body,
                         size_t room, size_t* body_len) {
  const size_t above = pq.key_len - zone.apex_len;
  if (above < 4 || std::memcmp(pq.key + above - 4, "\x03pod", 4) != 0) return -1;
  const size_t before_pod = above - 4;
  if (before_pod == 0) return 0;  // pod.<zone> itself: in the table, but be safe
  const uint8_t l1 = pq.key[0];
  if (1 + static_cast<size_t>(l1) == before_pod) return 0;  // <ns>.pod.<zone>
  if (1 + static_cast<size_t>(l1) >= before_pod) return -1;
  const uint8_t l2 = pq.key[1 + l1];
  if (2 + static_cast<size_t>(l1) + l2 != before_pod) return -1;  // exactly two labels
  const uint8_t* label = pq.key + 1;
  uint8_t addr[16];
  size_t addr_len = 0;
  // IPv4: four octets separated by '-'.
  {
    size_t start = 0;
    int parts = 0;
    bool ok = true;
    for (size_t i = 0; i <= l1 && ok; ++i) {
      if (i == l1 || label[i] == '-') {
        if (parts == 4 || !ParseOctet(label + start, i - start, &addr[parts])) ok = false;
        ++parts;
        start = i + 1;
      }
    }
    if (ok && parts == 4) addr_len = 4;
  }
  if (addr_len == 0) {
    char text[64];
    if (l1 >= sizeof(text)) return -1;
    for (size_t i = 0; i < l1; ++i) text[i] = label[i] == '-' ? ':' : static_cast<char>(label[i]);
    text[l1] = '\0';
    if (inet_pton(AF_INET6, text, addr) != 1) return -1;
    addr_len = 16;
  }
  const uint16_t want = addr_len == 4 ? kTypeA : kTypeAaaa;
  if (pq.qtype != want && pq.qtype != kTypeAny) return 0;
  const size_t need = 12 + addr_len;
  if (need > room) return 0;
  StoreBe16(body, 0xC000 | kHeaderSize);
  StoreBe16(body + 2, want);
  StoreBe16(body + 4, kClassIn);
  StoreBe32(body + 6, zone.ttl);
  StoreBe16(body + 10, static_cast<uint16_t>(addr_len));
  std::memcpy(body + 12, addr, addr_len);
  *body_len = need;
  return 1;
}

// An upstream answer from the cache: its body behind the client's question, every TTL set to
// what is left of the entry's life.
inline RespondResult AnswerCached(const ParsedQuery& pq, const CachedAnswer& c, uint8_t* buf,
                                  size_t buf_cap, const RespondOptions& options) {
  const size_t room = buf_cap > pq.question_end ? buf_cap - pq.question_end : 0;
  if (c.body_len <= room) {
    uint8_t* body = buf + pq.question_end;
    if (RoundUp32(c.body_len) <= room) {
      CopyChunks(body, c.body(), c.body_len);  // the entry is padded by 32
    } else {
      std::memcpy(body, c.body(), c.body_len);
    }
    const uint32_t left = c.expires_at - options.now;  // > 0: Find checked now < expires_at
    const uint8_t* offsets = c.ttl_offsets();
    for (uint16_t i = 0; i < c.ttl_count; ++i) {
      uint16_t off;
      std::memcpy(&off, offsets + 2 * i, 2);
      StoreBe32(body + off, left);
    }
  }
  RespondResult result = Finish(pq, buf, buf_cap, options, c.rcode, false, c.ancount, c.nscount,
                                c.arcount, c.body_len);
  result.cached = result.verdict == Verdict::kReply;
  return result;
}

// Legacy alias: s.n.<zone> → s.n.svc.<zone>.
inline const uint8_t* FindAliasTarget(const AnswerTable& table, const ParsedQuery& pq,
                                      const ZoneAnswerInfo& zone) {
  alignas(8) uint8_t key[kNameKeyBufferSize + kHashMinBytes];
  const size_t above = pq.key_len - zone.apex_len;
  const size_t len = pq.key_len + 4;
  if (len > kMaxNameWireLength) return nullptr;
  std::memcpy(key, pq.key, above);
  std::memcpy(key + above, "\x03svc", 4);
  std::memcpy(key + above + 4, zone.apex, zone.apex_len);
  std::memset(key + len, 0, kHashMinBytes);
  return table.Find(HashFoldedName(key, len), key, len);
}

// Inlined into its callers: a call per query cost about 45 instructions (callgrind), and the
// burst's loop has room in the instruction caches.
[[gnu::always_inline]] inline RespondResult Answer(const AnswerTable& table, ParsedQuery& pq,
                                                   const uint8_t* entry, uint8_t* buf,
                                                   size_t buf_cap, const RespondOptions& options) {
  if (entry) {
    const EntryHeader* header = reinterpret_cast<const EntryHeader*>(entry);
    const uint8_t zone = header->zone;
    if (header->flags & kEntryFlagAlias) {
      const uint8_t* target = FindAliasTarget(table, pq, table.zone(zone));
      if (target) {
        entry = target;
        header = reinterpret_cast<const EntryHeader*>(entry);
      }
    }
    const uint8_t* types = entry + TypesOffset(header->key_len);
    const bool cname = (header->flags & kEntryFlagCname) != 0;
    // ANY takes the first RRset (RFC 8482 4.2): the loop's last chance below.
    const bool any = pq.qtype == kTypeAny;
    const uint8_t* body = types + header->ntypes * sizeof(TypeEntry);  // bodies back to back
    for (uint8_t i = 0; i < header->ntypes; ++i) {
      TypeEntry t;
      std::memcpy(&t, types + i * sizeof(TypeEntry), sizeof(t));
      if (t.qtype != pq.qtype && !cname && !(any && i == 0)) {
        body += t.body_len;
        continue;
      }
      const size_t room = buf_cap > pq.question_end ? buf_cap - pq.question_end : 0;
      if (t.body_len <= room) CopyExact(buf + pq.question_end, body, t.body_len);
      return Finish(pq, buf, buf_cap, options, kRcodeNoError, true, t.ancount, 0, t.arcount,
                    t.body_len);
    }
    return Negative(table, pq, buf, buf_cap, options, zone, kRcodeNoError);
  }
  if (!pq.name_checked && !ConfirmGuessedName(pq)) {
    return RespondWalkingLabels(table, buf, pq.len, buf_cap, options);
  }
  const int zone_index = FindZone(table, pq);
  if (zone_index < 0) {
    if (!options.refuse_outside_zones) {
      // A client that asks for DNSSEC (DO) or checking disabled (CD) gets the upstream's own.
      if (options.cache != nullptr && !pq.edns_do && !(pq.flags & kFlagCd)) {
        const CachedAnswer* cached =
            options.cache->Find(pq.hash, pq.key, pq.key_len, pq.qtype, options.now);
        if (cached != nullptr) return AnswerCached(pq, *cached, buf, buf_cap, options);
      }
      RespondResult result;
      result.verdict = Verdict::kForward;
      result.qtype = pq.qtype;
      return result;
    }
    return Finish(pq, buf, buf_cap, options, kRcodeRefused, false, 0, 0, 0, 0);
  }
  const ZoneAnswerInfo& zone = table.zone(zone_index);
  if (zone.pod_records) {
    size_t body_len = 0;
    const size_t room = buf_cap > pq.question_end ? buf_cap - pq.question_end : 0;
    int pod = SynthesizePod(pq, zone, buf + pq.question_end, room, &body_len);
    if (pod > 0) return Finish(pq, buf, buf_cap, options, kRcodeNoError, true, 1, 0, 0, body_len);
    if (pod == 0) return Negative(table, pq, buf, buf_cap, options, zone_index, kRcodeNoError);
  }
  return Negative(table, pq, buf, buf_cap, options, zone_index, kRcodeNxDomain);
}

// A query that is not looked up: dropped, or answered with its rcode alone.
inline RespondResult NotLookedUp(const ParsedQuery& pq, uint8_t* buf, size_t buf_cap,
                                 const RespondOptions& options) {
  if (pq.status == ParseStatus::kDrop) {
    RespondResult result;
    result.verdict = Verdict::kDrop;
    result.drop = pq.drop;
    return result;
  }
  // Parse left edns set only when the query's OPT was well formed.
  return Finish(pq, buf, buf_cap, options, pq.rcode, false, 0, 0, 0, 0);
}

inline RespondResult Complete(const AnswerTable& table, ParsedQuery& pq, uint8_t* buf,
                              size_t buf_cap, const RespondOptions& options) {
  if (pq.status != ParseStatus::kOk) return NotLookedUp(pq, buf, buf_cap, options);
  return Answer(table, pq, table.Find(pq.hash, pq.key, pq.key_len), buf, buf_cap, options);
}

}  // namespace

// Also where a query goes whose guessed name is not in the table and does not walk to its root.
[[gnu::noinline]] RespondResult RespondWalkingLabels(const AnswerTable& table, uint8_t* buf,
                                                     size_t query_len, size_t buf_cap,
                                                     const RespondOptions& options) noexcept {
  ParsedQuery pq;
  ParseExact(buf, query_len, buf_cap, &pq);
  return Complete(table, pq, buf, buf_cap, options);
}

RespondResult Respond(const AnswerTable& table, uint8_t* buf, size_t query_len, size_t buf_cap,
                      const RespondOptions& options) noexcept {
  ParsedQuery pq;
  Parse(buf, query_len, buf_cap, &pq);
  return Complete(table, pq, buf, buf_cap, options);
}

// Prefetches the lines an answer reads of the entry at `entry`: its first and the `more` after it
// (AnswerTable::SlotMoreLines, at most 3). Without branches: a line asked for twice costs
// nothing more, and at 100k Services a line more is a DRAM transfer, needed or not.
inline void PrefetchEntryLines(const uint8_t* entry, unsigned more) {
  __builtin_prefetch(entry);
  __builtin_prefetch(entry + 64 * ((more + 3) >> 2));  // more > 0, written so as not to branch
  __builtin_prefetch(entry + 64 * (more & 2));         // (more > 1) * 2
  __builtin_prefetch(entry + 64 * more);
}

// RespondBurst's pass C found neither the entry nor an empty slot in the first cache line.
const uint8_t* const kProbeUnfinished = reinterpret_cast<const uint8_t*>(uintptr_t{1});

void RespondBurst(const AnswerTable& table, RespondJob* jobs, size_t n,
                  const RespondOptions& options) noexcept {
  if (n > kMaxBurst) n = kMaxBurst;
  ParsedQuery pq[kMaxBurst];
  ShardRef shards[kMaxBurst];
  // Four passes, each issuing the next level of loads for the whole burst before any of them is
  // needed: the misses of one level overlap each other instead of the work of the next query.
  // A: parse and hash; prefetch the shard handle.
  for (size_t i = 0; i < n; ++i) {
    Parse(jobs[i].buf, jobs[i].len, jobs[i].cap, &pq[i]);
    if (pq[i].status == ParseStatus::kOk) {
      __builtin_prefetch(&table.shard_ref(table.ShardIndex(pq[i].hash)));
    }
  }
  // B: read the handle; prefetch the first slot.
  for (size_t i = 0; i < n; ++i) {
    if (pq[i].status != ParseStatus::kOk) continue;
    shards[i] = table.shard_ref(table.ShardIndex(pq[i].hash));
    __builtin_prefetch(AnswerTable::SlotFor(shards[i], pq[i].hash));
  }
  // C: find the tag among the slots of that cache line (AnswerTable::HomeSlot); prefetch the
  // lines of the entry that an answer reads (key, type table and the first body). What the probe
  // found is kept for D: the candidate entry, or that the name is not in the table (an empty slot
  // before any match), or neither (the probe left the cache line).
  const uint8_t* candidates[kMaxBurst];
  uint32_t found_bits = 0;  // bit i: the probe of query i found a candidate entry
  for (size_t i = 0; i < n; ++i) {
    candidates[i] = kProbeUnfinished;
    if (pq[i].status != ParseStatus::kOk) continue;
    const ShardRef shard = shards[i];
    const uint64_t* slots = shard.slots();
    const uint64_t mask = shard.mask();
    const uint32_t tag = AnswerTable::TagOf(pq[i].hash);
    const size_t home = AnswerTable::HomeSlot(pq[i].hash, mask);  // a line's first slot
#if defined(__AVX2__)
    // The whole line at once, without a branch on what it holds (whether a name is in the table
    // is a coin toss in a mix of names): its first slot that is the tag's or empty.
    const uint64_t* line = slots + home;
    const uint32_t hits = AnswerTable::SlotLineMatches(line, tag, /*empty=*/false);
    const uint32_t empties = AnswerTable::SlotLineMatches(line, tag, /*empty=*/true);
    const uint32_t first = _tzcnt_u32(hits | empties);  // 32 when none
    const size_t at = first & 7;
    const uint64_t slot = line[at];
    // Selects by masks: GCC turns ?: on these into branches.
    const uintptr_t found = first < 8;
    const uintptr_t hit = found & (hits >> at);  // 1 or 0
    const uintptr_t entry =
        reinterpret_cast<uintptr_t>(shard.arena()) + AnswerTable::SlotOffset(slot);
    // The lines the entry's hot bytes span; a miss asks for the slot line again.
    const uintptr_t line_address = reinterpret_cast<uintptr_t>(line);
    PrefetchEntryLines(
        reinterpret_cast<const uint8_t*>(line_address ^ ((line_address ^ entry) & -hit)),
        AnswerTable::SlotMoreLines(slot) & static_cast<unsigned>(-hit));
    // Null when found (an empty slot), kProbeUnfinished when not.
    const uintptr_t otherwise = reinterpret_cast<uintptr_t>(kProbeUnfinished) & (found - 1);
    candidates[i] = reinterpret_cast<const uint8_t*>(otherwise ^ ((otherwise ^ entry) & -hit));
    found_bits |= static_cast<uint32_t>(hit) << i;
#else
    size_t slot_index = home;
    for (int probe = 0; probe < 8; ++probe) {
      const uint64_t slot = slots[slot_index];
      if (slot == 0) {
        candidates[i] = nullptr;
        break;
      }
      if (AnswerTable::SlotTag(slot) == tag) {
        const uint8_t* entry = shard.arena() + AnswerTable::SlotOffset(slot);
        PrefetchEntryLines(entry, AnswerTable::SlotMoreLines(slot));
        candidates[i] = entry;
        found_bits |= uint32_t{1} << i;
        break;
      }
      slot_index = (slot_index + 1) & mask;
      if ((slot_index & 7) == 0) break;  // the next cache line: leave it to the lookup
    }
#endif
  }
  // The order of D: first the queries whose probe found no entry (names not in the table, and
  // the few that were not looked up or whose probe left its line), then those that found one,
  // each kind in the burst's order. The answers that need no entry give the entry loads that C
  // started time to arrive, and the branch between the two kinds of answer, a coin toss in a mix
  // of names, is taken once. Written without branches.
  uint8_t order[kMaxBurst];
  {
    size_t missed = 0;
    size_t found = n - static_cast<size_t>(std::popcount(found_bits));
    for (size_t i = 0; i < n; ++i) {
      const size_t is_found = found_bits >> i & 1;
      order[missed ^ ((missed ^ found) & (0 - is_found))] = static_cast<uint8_t>(i);
      missed += 1 - is_found;
      found += is_found;
    }
  }
  // D: answer, the lookup finished from cache now. A candidate with another name (the same tag)
  // or a probe that left its cache line takes the whole lookup.
  for (size_t k = 0; k < n; ++k) {
    const size_t i = order[k];
    if (pq[i].status != ParseStatus::kOk) {
      jobs[i].result = NotLookedUp(pq[i], jobs[i].buf, jobs[i].cap, options);
      continue;
    }
    const uint8_t* entry = candidates[i];
    if (entry == kProbeUnfinished ||
        (entry != nullptr && !table.EntryIs(entry, pq[i].key, pq[i].key_len))) {
      entry = table.Find(pq[i].hash, pq[i].key, pq[i].key_len);
    }
    jobs[i].result = Answer(table, pq[i], entry, jobs[i].buf, jobs[i].cap, options);
  }
}

}  // namespace clusterdns::records
