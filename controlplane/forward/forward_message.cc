// Reading client queries and upstream answers; building relayed and synthesized replies.
#include "controlplane/forward/forward_message.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/wire_name.h"

namespace clusterdns::controlplane {
namespace {

using records::LoadBe16;
using records::StoreBe16;

constexpr size_t kQdcountOffset = 4;
constexpr size_t kAncountOffset = 6;
constexpr size_t kNscountOffset = 8;
constexpr size_t kArcountOffset = 10;
// Type, class, TTL, RDLENGTH after an owner name.
constexpr size_t kRecordFixedSize = 10;

// Reads the question at offset 12: folded name, type, class, and where it ends.
records::NameError ReadQuestion(std::span<const uint8_t> msg, std::string* folded,
                                uint16_t* qtype, uint16_t* qclass, size_t* end) {
  uint8_t name[records::kMaxNameWireLength];
  size_t name_len = 0;
  size_t next = 0;
  const records::NameError e = records::ReadName(msg.data(), msg.size(), records::kHeaderSize,
                                                 name, &name_len, &next);
  if (e != records::NameError::kOk) return e;
  if (next + 4 > msg.size()) return records::NameError::kTruncated;
  records::FoldName(name, name_len);
  folded->assign(reinterpret_cast<const char*>(name), name_len);
  *qtype = LoadBe16(&msg[next]);
  *qclass = LoadBe16(&msg[next + 2]);
  *end = next + 4;
  return records::NameError::kOk;
}

// Writes the OPT record we answer with at `p`: root owner, UDP size 1232, DO copied, no options.
void WriteOpt(uint8_t* p, bool edns_do) {
  const uint8_t opt[records::kOptRecordSize] = {
      0,                                              // root owner
      0, static_cast<uint8_t>(records::kTypeOpt),     // type 41
      static_cast<uint8_t>(records::kEdnsUdpPayloadSize >> 8),
      static_cast<uint8_t>(records::kEdnsUdpPayloadSize & 0xff),
      0, 0,                                           // extended rcode 0, version 0
      static_cast<uint8_t>(edns_do ? records::kEdnsFlagDo >> 8 : 0), 0,
      0, 0};                                          // RDLENGTH 0
  std::memcpy(p, opt, sizeof(opt));
}

// Header + the client's question + OPT when the query had one; counts set accordingly. Sized
// once and written with memcpy (g++ 12 misreports vector::insert into a fresh vector as
// out of bounds under -Warray-bounds).
std::vector<uint8_t> HeaderAndQuestion(const ClientQuery& query,
                                       std::span<const uint8_t> client_query, uint16_t flags) {
  const size_t question_len = query.question_end - records::kHeaderSize;
  std::vector<uint8_t> out(records::kHeaderSize + question_len +
                           (query.has_opt ? records::kOptRecordSize : 0));
  StoreBe16(&out[0], query.id);
  StoreBe16(&out[2], flags);
  StoreBe16(&out[kQdcountOffset], 1);
  StoreBe16(&out[kArcountOffset], query.has_opt ? 1 : 0);
  std::memcpy(&out[records::kHeaderSize], &client_query[records::kHeaderSize], question_len);
  if (query.has_opt) WriteOpt(&out[records::kHeaderSize + question_len], query.edns_do);
  return out;
}

}  // namespace

absl::StatusOr<ClientQuery> ParseClientQuery(std::span<const uint8_t> query) {
  if (query.size() < records::kHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("query of ", query.size(), " bytes is shorter than a DNS header"));
  }
  if (query.size() > records::kMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat("query of ", query.size(), " bytes"));
  }
  ClientQuery out;
  out.id = LoadBe16(&query[0]);
  out.flags = LoadBe16(&query[2]);
  if ((out.flags & records::kFlagQr) != 0) return absl::InvalidArgumentError("QR set: a response");
  if (LoadBe16(&query[kQdcountOffset]) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("QDCOUNT ", LoadBe16(&query[kQdcountOffset]), ", expected 1"));
  }
  const records::NameError e =
      ReadQuestion(query, &out.folded_qname, &out.qtype, &out.qclass, &out.question_end);
  if (e != records::NameError::kOk) {
    return absl::InvalidArgumentError(
        absl::StrCat("question: ", records::NameErrorText(e)));
  }
  // Walk the records to find the OPT (it must be in the additional section).
  const size_t counts[3] = {LoadBe16(&query[kAncountOffset]), LoadBe16(&query[kNscountOffset]),
                            LoadBe16(&query[kArcountOffset])};
  size_t offset = out.question_end;
  for (int section = 0; section < 3; ++section) {
    for (size_t i = 0; i < counts[section]; ++i) {
      size_t next = 0;
      const records::NameError ne = records::SkipName(query.data(), query.size(), offset, &next);
      if (ne != records::NameError::kOk || next + kRecordFixedSize > query.size()) {
        return absl::InvalidArgumentError(absl::StrCat("record at offset ", offset, " truncated"));
      }
      const uint16_t type = LoadBe16(&query[next]);
      const size_t rdlen = LoadBe16(&query[next + 8]);
      if (next + kRecordFixedSize + rdlen > query.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("record at offset ", offset, ": RDLENGTH runs past the end"));
      }
      if (type == records::kTypeOpt && section == 2 && !out.has_opt) {
        out.has_opt = true;
        out.edns_udp_size = LoadBe16(&query[next + 2]);
        out.edns_do = (LoadBe16(&query[next + 6]) & records::kEdnsFlagDo) != 0;
      }
      offset = next + kRecordFixedSize + rdlen;
    }
  }
  return out;
}

size_t ReplyLimit(const ClientQuery& query, records::Transport transport) {
  if (transport == records::Transport::kTcp) return records::kMaxMessageSize;
  if (!query.has_opt) return records::kMaxUdpPayloadWithoutEdns;
  return std::max<size_t>(query.edns_udp_size, records::kMaxUdpPayloadWithoutEdns);
}

AnswerCheck CheckAnswer(const ClientQuery& query, std::span<const uint8_t> answer) {
  if (answer.size() < records::kHeaderSize) return AnswerCheck::kMalformed;
  if ((LoadBe16(&answer[2]) & records::kFlagQr) == 0) return AnswerCheck::kMalformed;
  if (LoadBe16(&answer[kQdcountOffset]) != 1) return AnswerCheck::kMalformed;
  std::string folded;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t end = 0;
  if (ReadQuestion(answer, &folded, &qtype, &qclass, &end) != records::NameError::kOk) {
    return AnswerCheck::kMalformed;
  }
  if (folded != query.folded_qname || qtype != query.qtype || qclass != query.qclass) {
    return AnswerCheck::kQuestionMismatch;
  }
  return AnswerCheck::kOk;
}

std::vector<uint8_t> BuildRelay(const ClientQuery& query, std::span<const uint8_t> client_query,
                                std::span<const uint8_t> answer) {
  std::vector<uint8_t> out(answer.begin(), answer.end());
  StoreBe16(&out[0], query.id);
  // Same folded name, type and class: the same length, at the same offset (a question name
  // cannot be compressed: there is nothing before it to point at).
  std::copy(client_query.begin() + records::kHeaderSize,
            client_query.begin() + static_cast<ptrdiff_t>(query.question_end),
            out.begin() + records::kHeaderSize);
  return out;
}

std::vector<uint8_t> BuildErrorReply(const ClientQuery& query,
                                     std::span<const uint8_t> client_query, uint8_t rcode) {
  const uint16_t flags = static_cast<uint16_t>(
      records::kFlagQr | (query.flags & (records::kOpcodeMask | records::kFlagRd)) |
      records::kFlagRa | (rcode & records::kRcodeMask));
  return HeaderAndQuestion(query, client_query, flags);
}

std::vector<uint8_t> BuildTruncatedReply(const ClientQuery& query,
                                         std::span<const uint8_t> client_query,
                                         std::span<const uint8_t> answer) {
  const uint16_t flags = static_cast<uint16_t>(LoadBe16(&answer[2]) | records::kFlagTc);
  return HeaderAndQuestion(query, client_query, flags);
}

std::vector<uint8_t> BuildFormErr(std::span<const uint8_t> client_query) {
  std::vector<uint8_t> out(records::kHeaderSize, 0);
  uint16_t flags = records::kFlagQr | records::kFlagRa | records::kRcodeFormErr;
  if (client_query.size() >= 2) {
    out[0] = client_query[0];
    out[1] = client_query[1];
  }
  if (client_query.size() >= 4) {
    flags |= LoadBe16(&client_query[2]) & (records::kOpcodeMask | records::kFlagRd);
  }
  StoreBe16(&out[2], flags);
  return out;
}

std::vector<uint8_t> WithId(std::span<const uint8_t> message, uint16_t id) {
  std::vector<uint8_t> out(message.begin(), message.end());
  if (out.size() >= 2) StoreBe16(&out[0], id);
  return out;
}

}  // namespace clusterdns::controlplane
