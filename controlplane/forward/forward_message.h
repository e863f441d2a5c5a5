// The DNS message work of the forwarder: reading the client's query once, checking that an
// upstream's answer is for that question, and building what goes back to the client (the relayed
// answer, or a SERVFAIL/FORMERR/truncated reply the forwarder writes itself).
//
// Contract of the replies:
//   relay     — the upstream's answer byte for byte, except the ID (the client's) and the question
//               (the client's bytes, so the client's case survives: 0x20 randomization works, and
//               answer names compressed to offset 12 read in the client's case too).
//   error     — header: the client's ID, opcode copied, QR, RD copied, RA, the rcode; the question
//               as the client sent it; an OPT when the query had one (UDP size 1232, DO copied, no
//               options: what respond() answers with).
//   truncated — an answer larger than the client can take (ReplyLimit): the answer's header flags
//               and rcode with TC set, the client's ID and question, no records but the OPT as
//               above, so the client asks again over TCP.
// Pure functions of their input; thread-compatible. Slow path: allocation is fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "records/respond.h"

namespace clusterdns::controlplane {

// The client's query, read once when it is submitted.
struct ClientQuery {
  uint16_t id = 0;
  uint16_t flags = 0;           // host order
  size_t question_end = 0;      // the question is query[12, question_end)
  std::string folded_qname;     // wire form, ASCII lowered: compared with the answer's
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool has_opt = false;         // an OPT record in the additional section
  bool edns_do = false;
  uint16_t edns_udp_size = 0;   // the OPT's class field, when has_opt
};

// A query the forwarder can relay: a header with QR clear, QDCOUNT 1, a readable question (no
// compression pointer in it), and records after it that can be walked to the end. Errors name
// what is wrong.
absl::StatusOr<ClientQuery> ParseClientQuery(std::span<const uint8_t> query);

// Largest reply the client can take: over UDP 512, or the OPT's size when larger (RFC 6891 6.2.5:
// values below 512 count as 512); over TCP 65535.
size_t ReplyLimit(const ClientQuery& query, records::Transport transport);

enum class AnswerCheck : uint8_t {
  kOk,
  kMalformed,         // shorter than a header, QR clear, QDCOUNT != 1, unreadable question
  kQuestionMismatch,  // qname (case-insensitive), qtype or qclass differ from the query's
};
// The ID is the caller's business (it decides which query an answer is for).
AnswerCheck CheckAnswer(const ClientQuery& query, std::span<const uint8_t> answer);

inline bool IsTruncated(std::span<const uint8_t> answer) {
  return answer.size() >= 3 && (answer[2] & 0x02) != 0;  // TC: bit 9 of the flags word
}

// The answer as the client gets it (see the header comment). `answer` passed CheckAnswer, so its
// question has the same length as the client's.
std::vector<uint8_t> BuildRelay(const ClientQuery& query, std::span<const uint8_t> client_query,
                                std::span<const uint8_t> answer);

// An error reply with `rcode` (SERVFAIL when upstreams fail, see the header comment).
std::vector<uint8_t> BuildErrorReply(const ClientQuery& query,
                                     std::span<const uint8_t> client_query, uint8_t rcode);

// The truncated form of `answer` for a client that cannot take it whole.
std::vector<uint8_t> BuildTruncatedReply(const ClientQuery& query,
                                         std::span<const uint8_t> client_query,
                                         std::span<const uint8_t> answer);

// FORMERR for a query ParseClientQuery rejected: a bare header with the client's ID (if it has
// one), RD copied, QR and RA, all counts 0.
std::vector<uint8_t> BuildFormErr(std::span<const uint8_t> client_query);

// The client's query with another ID: what goes upstream (EDNS and everything else as sent).
std::vector<uint8_t> WithId(std::span<const uint8_t> message, uint16_t id);

}  // namespace clusterdns::controlplane
