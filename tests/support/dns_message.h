// An independent, strict DNS message decoder for tests. It shares nothing with records/ except the
// protocol numbers in records/dns_constants.h: it is a second implementation, so a bug in the
// server's wire code cannot hide behind the same bug in the checker.
//
// Strict means every rule below is an error, reported as absl::InvalidArgumentError with a message
// that names the rule and the byte offset:
//   - the message is at least a header (12 bytes) and at most 65535 bytes;
//   - QDCOUNT/ANCOUNT/NSCOUNT/ARCOUNT match the records present, and no byte follows the last one;
//   - labels are at most 63 bytes (length bytes 0x40..0xbf are reserved label types), names at
//     most 255 bytes in uncompressed wire form;
//   - a compression pointer points strictly backwards, inside the message, at the start of a
//     label of a name decoded earlier in the message (not at another pointer, not into a label,
//     not into the header or fixed fields), never revisits a byte of the name being decoded
//     (a loop), and is followed at most kMaxCompressionHops times per name;
//   - RDLENGTH fits the message and matches the rdata's own structure for known types:
//     A = 4, AAAA = 16, SRV = 6 + name, NS/CNAME/PTR = one name, SOA = name name + 20,
//     TXT = one or more character-strings exactly filling it, HINFO = exactly two, OPT = options
//     (code, length, data) exactly filling it; a name inside rdata does not run past the rdata,
//     and the name must end exactly where the structure says;
//   - at most one OPT record, only in the additional section, with the root owner name.
// It does not judge semantics (QR, class, TTL values, AA): tests assert those themselves.
//
// Usage:
//   absl::StatusOr<DecodedMessage> m = DecodeMessage(reply_bytes);
//   ASSERT_TRUE(m.ok()) << m.status();
//   EXPECT_EQ(m->rcode, kRcodeNoError) << ToText(*m);
//   EXPECT_EQ(RecordToText(m->answer[0]), "a.b.svc.cluster.local. 30 IN A 10.96.0.1");
//
// Thread-compatible: pure functions of their input; the result owns copies of everything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace clusterdns::testing {

// Pointer hops allowed while decoding one name. A legal name has at most 127 labels, and a sane
// compressor needs one hop per name; this only bounds the work on hostile input.
inline constexpr int kMaxCompressionHops = 128;

struct DecodedQuestion {
  std::string name;  // dotted, case as on the wire, trailing dot; "." for the root
  uint16_t type = 0;
  uint16_t klass = 0;
  std::vector<uint8_t> raw;  // the question's wire bytes (name as written, type, class)
  size_t offset = 0;         // where the question starts in the message
};

struct DecodedRecord {
  std::string name;  // dotted, case as on the wire, trailing dot; "." for the root
  uint16_t type = 0;
  uint16_t klass = 0;  // for OPT: the requester's UDP payload size
  uint32_t ttl = 0;    // for OPT: extended rcode, version, DO and Z
  std::vector<uint8_t> rdata_raw;
  // Presentation form: A "1.2.3.4"; AAAA per RFC 5952 ("2001:db8::1", "::ffff:1.2.3.4");
  // SRV "0 100 53 kube-dns.kube-system.svc.cluster.local."; NS/CNAME/PTR "target.";
  // SOA "mname. rname. serial refresh retry expire minimum"; TXT and HINFO quoted strings
  // separated by spaces ("\"1.1.0\""); OPT "udp=1232 do=1 version=0 extrcode=0 options=N";
  // any other type RFC 3597 "\# len hex" (lower-case hex, "\# 0" when empty).
  std::string rdata_text;
  size_t offset = 0;        // where the record (its owner name) starts in the message
  size_t rdata_offset = 0;  // where its rdata starts
  // Target of the compression pointer that ends the owner name as written, if it has one
  // (an answer owner compressed to the question name has owner_pointer == 12).
  std::optional<uint16_t> owner_pointer;
};

struct DecodedMessage {
  uint16_t id = 0;
  uint16_t flags = 0;  // the whole flags word, host order
  bool qr = false, aa = false, tc = false, rd = false, ra = false, cd = false, ad = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;  // the header's 4 bits; see ExtendedRcode() for EDNS
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::vector<DecodedQuestion> question;
  std::vector<DecodedRecord> answer, authority, additional;
  std::optional<DecodedRecord> opt;  // the OPT record if present (also left in additional)
  // Compression pointers written in the message (one per compressed name, at most); hops taken
  // while following them are not counted again.
  int compression_pointers = 0;
  size_t size = 0;  // bytes decoded: the whole message
};

absl::StatusOr<DecodedMessage> DecodeMessage(const uint8_t* data, size_t size);
absl::StatusOr<DecodedMessage> DecodeMessage(const std::vector<uint8_t>& bytes);

// The full 12-bit rcode: the OPT record's extended rcode (its TTL's top byte) above the header's
// 4 bits, so BADVERS reads as 16. Without OPT, the header rcode.
uint16_t ExtendedRcode(const DecodedMessage& m);

// "A", "AAAA", "SRV", ... or "TYPE<n>" (RFC 3597) for types without a mnemonic here.
std::string TypeName(uint16_t type);
// "NOERROR", "FORMERR", ..., "BADVERS", or "RCODE<n>".
std::string RcodeName(uint16_t rcode);

// One record as one line, "name ttl CLASS TYPE rdata" ("a.svc.cluster.local. 30 IN A 10.0.0.1";
// class "IN" or "CLASS<n>"). The OPT record, whose class and TTL fields mean other things, is
// ". OPT udp=1232 do=0 version=0 extrcode=0 options=0".
std::string RecordToText(const DecodedRecord& r);

// The whole message, for readable test failures:
//   ;; id=4660 opcode=0 rcode=NOERROR flags: qr aa rd; qd=1 an=1 ns=0 ar=1
//   ;; QUESTION
//   ; kube-dns.kube-system.svc.cluster.local. IN A
//   ;; ANSWER
//   kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10
//   ;; ADDITIONAL
//   . OPT udp=1232 do=0 version=0 extrcode=0 options=0
// Section headers appear only for non-empty sections; each line ends with '\n'.
std::string ToText(const DecodedMessage& m);

}  // namespace clusterdns::testing
