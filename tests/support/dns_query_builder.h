// Builds DNS queries for tests, well-formed or deliberately not. Independent of records/ (only the
// protocol numbers in records/dns_constants.h), like tests/support/dns_message.h.
//
// Usage:
//   std::vector<uint8_t> q = BuildQuery("Kube-DNS.kube-system.svc.cluster.local", kTypeA);
//   QueryOptions o;
//   o.edns = true;
//   o.edns_do = true;
//   std::vector<uint8_t> q2 = BuildQuery("_dns._udp.kube-dns.kube-system.svc.cluster.local.",
//                                        kTypeSrv, o);
//   SetAncount(q2, 1);                             // now a FORMERR case
//   AppendBytes(q2, EncodeOptRecord(o));           // a second OPT (with SetArcount(q2, 2))
//
// Nothing here validates: a name with a 64-byte label is encoded with length byte 64, so tests
// can build exactly the malformed bytes they mean. Thread-compatible pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterdns::testing {

struct QueryOptions {
  uint16_t id = 0x1234;
  bool rd = true;
  uint8_t opcode = 0;  // low 4 bits used
  uint16_t klass = 1;  // the question's class
  bool edns = false;   // append an OPT record to the additional section
  uint16_t edns_udp_size = 1232;
  uint8_t edns_version = 0;
  bool edns_do = false;
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> edns_options;  // (code, data)
};

// Header (ID, RD, opcode, QDCOUNT 1, ARCOUNT 1 with EDNS), the question, and the OPT record if
// options.edns. `name` is dotted, case kept, trailing dot optional (see EncodeName).
std::vector<uint8_t> BuildQuery(std::string_view name, uint16_t qtype,
                                const QueryOptions& options = {});

// A dotted name to uncompressed wire form, case kept. "" and "." are the root. The trailing dot
// is optional. Escapes: "\." is a dot inside a label, "\\" a backslash, "\DDD" the byte DDD
// (decimal). Not validated: a label longer than 63 bytes keeps its length in the length byte
// (labels over 255 bytes are cut to 255), and an empty label ("a..b") writes a zero byte, which
// ends the name on the wire; both are for malformed-input tests.
std::vector<uint8_t> EncodeName(std::string_view dotted);

// The question section entry: EncodeName(name), type, class.
std::vector<uint8_t> EncodeQuestion(std::string_view name, uint16_t qtype, uint16_t klass = 1);

// The OPT record BuildQuery appends for options.edns: root owner, type 41, class = UDP size,
// TTL = extended rcode 0 | version | DO, then the options.
std::vector<uint8_t> EncodeOptRecord(const QueryOptions& options);

// Mutators for malformed-input tests. Each requires message.size() >= 12 (the header), and
// WriteU16 requires offset + 2 <= message.size(); they abort otherwise, as a test bug.
void WriteU16(std::vector<uint8_t>& message, size_t offset, uint16_t value);
void SetId(std::vector<uint8_t>& message, uint16_t id);
void SetFlags(std::vector<uint8_t>& message, uint16_t flags);  // the whole flags word
void SetQdcount(std::vector<uint8_t>& message, uint16_t count);
void SetAncount(std::vector<uint8_t>& message, uint16_t count);
void SetNscount(std::vector<uint8_t>& message, uint16_t count);
void SetArcount(std::vector<uint8_t>& message, uint16_t count);
void AppendBytes(std::vector<uint8_t>& message, const std::vector<uint8_t>& bytes);

}  // namespace clusterdns::testing
