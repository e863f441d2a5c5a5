// Tests of the test-support decoder itself, on hand-written bytes: if the checker is wrong,
// every test that leans on it is wrong.
#include "tests/support/dns_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "records/dns_constants.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using ::testing::HasSubstr;
namespace rc = ::clusterdns::records;

// An SRV response, compressed as a server would: the answer owner points at the question name
// (offset 12), the SRV target at the question's "kube-dns" label (offset 22), the additional A
// record's owner there too. Then an OPT with DO set.
const std::vector<uint8_t> kSrvResponse = {
    // 0: header. ID 0xbeef; QR AA RD; QD 1, AN 1, NS 0, AR 2.
    0xbe, 0xef, 0x85, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    // 12: _dns._udp.kube-dns.kube-system.svc.cluster.local. SRV IN
    4, '_', 'd', 'n', 's',                                         // 12
    4, '_', 'u', 'd', 'p',                                         // 17
    8, 'k', 'u', 'b', 'e', '-', 'd', 'n', 's',                     // 22
    11, 'k', 'u', 'b', 'e', '-', 's', 'y', 's', 't', 'e', 'm',     // 31
    3, 's', 'v', 'c',                                              // 43
    7, 'c', 'l', 'u', 's', 't', 'e', 'r',                          // 47
    5, 'l', 'o', 'c', 'a', 'l',                                    // 55
    0,                                                             // 61
    0x00, 0x21, 0x00, 0x01,                                        // 62
    // 66: answer. Owner -> 12, SRV IN, TTL 30, rdlength 8: 0 100 53 -> 22.
    0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x08,  // 66
    0x00, 0x00, 0x00, 0x64, 0x00, 0x35, 0xc0, 0x16,                          // 78
    // 86: additional A. Owner -> 22, A IN, TTL 30, rdlength 4: 10.96.0.10.
    0xc0, 0x16, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x04,  // 86
    0x0a, 0x60, 0x00, 0x0a,                                                  // 98
    // 102: OPT. Root owner, udp 1232, TTL: extrcode 0, version 0, DO; rdlength 0.
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,        // 102
};
constexpr size_t kAnswerOffset = 66;
constexpr size_t kSrvRdlengthOffset = 76;
constexpr size_t kAdditionalOffset = 86;
constexpr size_t kARdlengthOffset = 96;
constexpr size_t kOptOffset = 102;

std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<DecodedMessage> m = DecodeMessage(bytes);
  if (m.ok()) return "decoded OK:\n" + ToText(*m);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(m.status().message());
}

// A header with the given counts followed by `body`.
std::vector<uint8_t> Message(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar,
                             const std::vector<uint8_t>& body) {
  const uint8_t header[12] = {0x00, 0x01, 0x84, 0x00,
                              static_cast<uint8_t>(qd >> 8), static_cast<uint8_t>(qd),
                              static_cast<uint8_t>(an >> 8), static_cast<uint8_t>(an),
                              static_cast<uint8_t>(ns >> 8), static_cast<uint8_t>(ns),
                              static_cast<uint8_t>(ar >> 8), static_cast<uint8_t>(ar)};
  // Sized once and filled: gcc 12's -Warray-bounds misfires on insert() after an initializer
  // list here.
  std::vector<uint8_t> m(sizeof(header) + body.size());
  std::copy(std::begin(header), std::end(header), m.begin());
  std::copy(body.begin(), body.end(), m.begin() + sizeof(header));
  return m;
}

// A response with no question and one answer record owned by the root: type, class IN, TTL 30,
// and `rdata` with an rdlength of its own size.
std::vector<uint8_t> OneAnswer(uint16_t type, const std::vector<uint8_t>& rdata) {
  std::vector<uint8_t> body = {0x00,
                               static_cast<uint8_t>(type >> 8),
                               static_cast<uint8_t>(type),
                               0x00,
                               0x01,
                               0x00,
                               0x00,
                               0x00,
                               0x1e,
                               static_cast<uint8_t>(rdata.size() >> 8),
                               static_cast<uint8_t>(rdata.size())};
  body.insert(body.end(), rdata.begin(), rdata.end());
  return Message(0, 1, 0, 0, body);
}

// A one-question query whose name is the given labels, each `len` bytes of 'a'.
std::vector<uint8_t> QueryWithLabels(const std::vector<int>& lengths) {
  std::vector<uint8_t> body;
  for (int len : lengths) {
    body.push_back(static_cast<uint8_t>(len));
    body.insert(body.end(), static_cast<size_t>(len), 'a');
  }
  body.insert(body.end(), {0x00, 0x00, 0x01, 0x00, 0x01});
  return Message(1, 0, 0, 0, body);
}

TEST(DecodeMessage, DecodesCompressedSrvResponse) {
  absl::StatusOr<DecodedMessage> m = DecodeMessage(kSrvResponse);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, 0xbeef);
  EXPECT_EQ(m->flags, 0x8500);
  EXPECT_TRUE(m->qr);
  EXPECT_TRUE(m->aa);
  EXPECT_TRUE(m->rd);
  EXPECT_FALSE(m->tc);
  EXPECT_FALSE(m->ra);
  EXPECT_FALSE(m->ad);
  EXPECT_FALSE(m->cd);
  EXPECT_EQ(m->opcode, 0);
  EXPECT_EQ(m->rcode, rc::kRcodeNoError);
  EXPECT_EQ(m->qdcount, 1);
  EXPECT_EQ(m->ancount, 1);
  EXPECT_EQ(m->nscount, 0);
  EXPECT_EQ(m->arcount, 2);
  EXPECT_EQ(m->size, kSrvResponse.size());
  EXPECT_EQ(m->compression_pointers, 3);

  ASSERT_EQ(m->question.size(), 1u);
  EXPECT_EQ(m->question[0].name, "_dns._udp.kube-dns.kube-system.svc.cluster.local.");
  EXPECT_EQ(m->question[0].type, rc::kTypeSrv);
  EXPECT_EQ(m->question[0].klass, rc::kClassIn);
  EXPECT_EQ(m->question[0].offset, 12u);
  EXPECT_EQ(m->question[0].raw,
            std::vector<uint8_t>(kSrvResponse.begin() + 12, kSrvResponse.begin() + 66));

  ASSERT_EQ(m->answer.size(), 1u);
  const DecodedRecord& srv = m->answer[0];
  EXPECT_EQ(srv.name, "_dns._udp.kube-dns.kube-system.svc.cluster.local.");
  EXPECT_EQ(srv.type, rc::kTypeSrv);
  EXPECT_EQ(srv.klass, rc::kClassIn);
  EXPECT_EQ(srv.ttl, 30u);
  EXPECT_EQ(srv.offset, kAnswerOffset);
  EXPECT_EQ(srv.rdata_offset, 78u);
  EXPECT_EQ(srv.owner_pointer, 12);
  EXPECT_EQ(srv.rdata_raw,
            (std::vector<uint8_t>{0x00, 0x00, 0x00, 0x64, 0x00, 0x35, 0xc0, 0x16}));
  EXPECT_EQ(srv.rdata_text, "0 100 53 kube-dns.kube-system.svc.cluster.local.");
  EXPECT_TRUE(m->authority.empty());

  ASSERT_EQ(m->additional.size(), 2u);
  EXPECT_EQ(m->additional[0].name, "kube-dns.kube-system.svc.cluster.local.");
  EXPECT_EQ(m->additional[0].owner_pointer, 22);
  EXPECT_EQ(m->additional[0].type, rc::kTypeA);
  EXPECT_EQ(m->additional[0].rdata_text, "10.96.0.10");
  EXPECT_EQ(m->additional[1].type, rc::kTypeOpt);

  ASSERT_TRUE(m->opt.has_value());
  EXPECT_EQ(m->opt->name, ".");
  EXPECT_EQ(m->opt->klass, 1232);
  EXPECT_EQ(m->opt->ttl, 0x8000u);
  EXPECT_EQ(m->opt->offset, kOptOffset);
  EXPECT_FALSE(m->opt->owner_pointer.has_value());
  EXPECT_EQ(m->opt->rdata_text, "udp=1232 do=1 version=0 extrcode=0 options=0");
  EXPECT_EQ(ExtendedRcode(*m), rc::kRcodeNoError);
}

TEST(DecodeMessage, ToTextListsEveryRecordOnItsOwnLine) {
  absl::StatusOr<DecodedMessage> m = DecodeMessage(kSrvResponse);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(ToText(*m),
            ";; id=48879 opcode=0 rcode=NOERROR flags: qr aa rd; qd=1 an=1 ns=0 ar=2\n"
            ";; QUESTION\n"
            "; _dns._udp.kube-dns.kube-system.svc.cluster.local. IN SRV\n"
            ";; ANSWER\n"
            "_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 IN SRV 0 100 53 "
            "kube-dns.kube-system.svc.cluster.local.\n"
            ";; ADDITIONAL\n"
            "kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10\n"
            ". OPT udp=1232 do=1 version=0 extrcode=0 options=0\n");
}

TEST(DecodeMessage, KeepsTheWireCaseOfNames) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[23] = 'K';  // kube-dns -> Kube-dns, seen through both pointers to 22
  bytes[44] = 'S';  // svc -> Svc
  absl::StatusOr<DecodedMessage> m = DecodeMessage(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->question[0].name, "_dns._udp.Kube-dns.kube-system.Svc.cluster.local.");
  EXPECT_EQ(m->answer[0].rdata_text, "0 100 53 Kube-dns.kube-system.Svc.cluster.local.");
  EXPECT_EQ(m->additional[0].name, "Kube-dns.kube-system.Svc.cluster.local.");
}

TEST(DecodeMessage, RejectsShortHeader) {
  for (size_t n = 0; n < rc::kHeaderSize; ++n) {
    std::vector<uint8_t> bytes(kSrvResponse.begin(), kSrvResponse.begin() + n);
    EXPECT_THAT(ErrorOf(bytes), HasSubstr("shorter than the 12-byte header")) << n;
  }
  EXPECT_FALSE(DecodeMessage(nullptr, 0).ok());
}

TEST(DecodeMessage, RejectsEveryTruncation) {
  for (size_t n = 0; n < kSrvResponse.size(); ++n) {
    std::vector<uint8_t> bytes(kSrvResponse.begin(), kSrvResponse.begin() + n);
    EXPECT_FALSE(DecodeMessage(bytes).ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(DecodeMessage, RejectsForwardPointer) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kAnswerOffset + 1] = kAdditionalOffset;  // answer owner -> the A record's owner, later
  const std::string error = ErrorOf(bytes);
  EXPECT_THAT(error, HasSubstr("forward compression pointer at offset 66"));
  EXPECT_THAT(error, HasSubstr("answer record 0 owner"));
}

TEST(DecodeMessage, RejectsSelfPointerAsLoop) {
  // 12: a question name that is only a pointer to itself.
  const std::vector<uint8_t> bytes = Message(1, 0, 0, 0, {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01});
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("compression pointer loop: pointer at offset 12"));
}

TEST(DecodeMessage, RejectsPointerLoopThroughALabel) {
  // 12: "abc" then a pointer back to 12: abc.abc.abc... forever.
  const std::vector<uint8_t> bytes =
      Message(1, 0, 0, 0, {3, 'a', 'b', 'c', 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01});
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("compression pointer loop: pointer at offset 16"));
}

TEST(DecodeMessage, FollowsPointerChainsThroughEarlierNames) {
  std::vector<uint8_t> body = {3, 'a', 'b', 'c', 0, 0x00, 0x01, 0x00, 0x01};  // 12: abc. A IN
  // 21: owner "x" -> 12 ("x.abc."); A 1.2.3.4.
  body.insert(body.end(), {1, 'x', 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 30, 0, 4, 1, 2,
                           3, 4});
  // 39: owner -> 21, which goes on to 12: two hops, one pointer written here.
  body.insert(body.end(), {0xc0, 21, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 30, 0, 4, 5, 6, 7, 8});
  absl::StatusOr<DecodedMessage> m = DecodeMessage(Message(1, 2, 0, 0, body));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->answer[0].name, "x.abc.");
  EXPECT_EQ(m->answer[1].name, "x.abc.");
  EXPECT_EQ(m->answer[1].owner_pointer, 21);
  EXPECT_EQ(m->compression_pointers, 2);
  // The first answer's "x" label turned into a pointer to the second answer's owner: that
  // owner points back at 21, a loop, but 21 -> 39 is already refused as a forward pointer.
  body[9] = 0xc0;
  body[10] = 39;
  EXPECT_THAT(ErrorOf(Message(1, 2, 0, 0, body)),
              HasSubstr("forward compression pointer at offset 21 points to 39"));
}

TEST(DecodeMessage, RejectsPointerPastTheEnd) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kAnswerOffset] = 0xc0;
  bytes[kAnswerOffset + 1] = 0xff;  // 255 > size 113
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("points to 255, past the end of the message"));
  bytes[kAnswerOffset] = 0xff;  // 0x3fff
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("points to 16383, past the end of the message"));
}

TEST(DecodeMessage, RejectsPointerIntoTheHeader) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kAnswerOffset + 1] = 0x05;
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("points to 5, which is not the start of a label"));
}

TEST(DecodeMessage, RejectsPointerIntoTheMiddleOfALabel) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kAnswerOffset + 1] = 13;  // the 'd' of "_dns"
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("points to 13, which is not the start of a label"));
}

TEST(DecodeMessage, RejectsPointerIntoFixedFields) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kAdditionalOffset + 1] = 62;  // the question's type field
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("points to 62, which is not the start of a label"));
}

TEST(DecodeMessage, RejectsPointerToAPointer) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kAdditionalOffset + 1] = kAnswerOffset;  // at the answer owner's own pointer
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("points to 66, which is not the start of a label"));
}

TEST(DecodeMessage, RejectsPointerCutOffByTheEnd) {
  const std::vector<uint8_t> bytes = Message(1, 0, 0, 0, {0xc0});
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("compression pointer at offset 12 is cut off"));
}

TEST(DecodeMessage, AcceptsLabelOf63AndRejects64) {
  EXPECT_TRUE(DecodeMessage(QueryWithLabels({63})).ok());
  EXPECT_THAT(ErrorOf(QueryWithLabels({64})),
              HasSubstr("label length byte 0x40 at offset 12: length 64 exceeds 63"));
  EXPECT_THAT(ErrorOf(QueryWithLabels({3, 0x80})),
              HasSubstr("label length byte 0x80 at offset 16"));
}

TEST(DecodeMessage, AcceptsName255AndRejects256) {
  // 4 labels: 3 * (1 + 63) + (1 + 61) + 1 = 255 bytes.
  absl::StatusOr<DecodedMessage> ok = DecodeMessage(QueryWithLabels({63, 63, 63, 61}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->question[0].raw.size(), 255u + 4u);
  EXPECT_THAT(ErrorOf(QueryWithLabels({63, 63, 63, 62})),
              HasSubstr("name longer than 255 bytes in wire form (label at offset 204)"));
}

TEST(DecodeMessage, RejectsNameOver255ReachedThroughAPointer) {
  // Question: 3 labels of 63 (193 bytes written); answer owner: a 62-byte label then a pointer to
  // the question: 63 + 193 = 256 bytes once decompressed.
  std::vector<uint8_t> bytes = QueryWithLabels({63, 63, 63});
  SetAncount(bytes, 1);
  bytes.push_back(62);
  bytes.insert(bytes.end(), 62, 'b');
  bytes.insert(bytes.end(), {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 30, 0, 4, 1, 2, 3, 4});
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("name longer than 255 bytes"));
  // One byte shorter fits.
  std::vector<uint8_t> fits = QueryWithLabels({63, 63, 63});
  SetAncount(fits, 1);
  fits.push_back(61);
  fits.insert(fits.end(), 61, 'b');
  fits.insert(fits.end(), {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 30, 0, 4, 1, 2, 3, 4});
  EXPECT_TRUE(DecodeMessage(fits).ok()) << ErrorOf(fits);
}

TEST(DecodeMessage, RejectsCountsLargerThanTheRecords) {
  std::vector<uint8_t> bytes = kSrvResponse;
  SetArcount(bytes, 3);
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("count mismatch: ARCOUNT is 3 but the message ends "
                                        "after 2 at offset 113"));
  bytes = kSrvResponse;
  SetQdcount(bytes, 2);  // the answer's bytes read as a question, then the counts run out
  EXPECT_FALSE(DecodeMessage(bytes).ok());
  bytes = kSrvResponse;
  SetNscount(bytes, 1);  // the additional A read as authority, then ARCOUNT runs out
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("count mismatch: ARCOUNT is 2 but the message ends "
                                        "after 1 at offset 113"));
}

TEST(DecodeMessage, RejectsCountsSmallerThanTheRecords) {
  std::vector<uint8_t> bytes = kSrvResponse;
  SetArcount(bytes, 1);
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("11 trailing bytes after the last record at offset 102"));
  bytes = kSrvResponse;
  SetAncount(bytes, 0);  // the SRV answer read as additional, then the OPT is left over
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("trailing bytes after the last record at offset 102"));
}

TEST(DecodeMessage, RejectsTrailingBytes) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes.push_back(0x00);
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("1 trailing bytes after the last record at offset 113"));
}

TEST(DecodeMessage, RejectsARdlengthMismatch) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kARdlengthOffset + 1] = 5;
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("additional record 0: A rdlength 5 at offset 96, "
                                        "expected 4"));
  bytes[kARdlengthOffset + 1] = 3;
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("A rdlength 3 at offset 96, expected 4"));
  EXPECT_THAT(ErrorOf(OneAnswer(rc::kTypeAaaa, std::vector<uint8_t>(15, 0))),
              HasSubstr("AAAA rdlength 15"));
}

TEST(DecodeMessage, RejectsSrvRdlengthMismatch) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kSrvRdlengthOffset + 1] = 9;  // one byte more than 6 + the 2-byte pointer
  EXPECT_THAT(ErrorOf(bytes),
              HasSubstr("SRV rdata structure ends at offset 86 but rdlength 9 ends it at 87"));
  bytes[kSrvRdlengthOffset + 1] = 7;  // the target's pointer cut in half
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("answer record 0 SRV target: compression pointer at "
                                        "offset 84 is cut off by the end of the rdata"));
  bytes[kSrvRdlengthOffset + 1] = 6;
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("SRV rdlength 6 at offset 76, expected 6 + a name"));
}

TEST(DecodeMessage, RejectsRdataNameRunningPastTheRdata) {
  // PTR rdata "abc." declared as 3 bytes: the label would run past the rdata.
  std::vector<uint8_t> bytes = OneAnswer(rc::kTypePtr, {3, 'a', 'b', 'c', 0});
  bytes[12 + 10] = 3;   // rdlength low byte
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("label of length 3 at offset 23 runs past the end of "
                                        "the rdata"));
  // Declared as 6: the name ends before the rdata does.
  bytes = OneAnswer(rc::kTypePtr, {3, 'a', 'b', 'c', 0, 0});
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("PTR rdata structure ends at offset 28 but rdlength 6"));
}

TEST(DecodeMessage, RejectsRdlengthPastTheEnd) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kOptOffset + 10] = 1;  // OPT rdlength 1 with nothing after it
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("rdlength 1 at offset 111 runs past the end"));
}

TEST(DecodeMessage, RejectsTwoOptRecords) {
  std::vector<uint8_t> bytes = kSrvResponse;
  SetArcount(bytes, 3);
  bytes.insert(bytes.end(), kSrvResponse.begin() + kOptOffset, kSrvResponse.end());
  EXPECT_THAT(ErrorOf(bytes),
              HasSubstr("additional record 2: second OPT record at offset 113"));
}

TEST(DecodeMessage, RejectsOptInTheAnswerSection) {
  std::vector<uint8_t> body(kSrvResponse.begin() + 12, kSrvResponse.begin() + 66);
  body.insert(body.end(), kSrvResponse.begin() + kOptOffset, kSrvResponse.end());
  EXPECT_THAT(ErrorOf(Message(1, 1, 0, 0, body)),
              HasSubstr("OPT record in the answer section at offset 66"));
  EXPECT_THAT(ErrorOf(Message(1, 0, 1, 0, body)),
              HasSubstr("OPT record in the authority section at offset 66"));
  EXPECT_TRUE(DecodeMessage(Message(1, 0, 0, 1, body)).ok());
}

TEST(DecodeMessage, RejectsOptWithANonRootOwner) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kOptOffset] = 0xc0;  // owner -> 22 "kube-dns..."; the rest shifts by one byte
  bytes.insert(bytes.begin() + kOptOffset + 1, 22);
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("has owner kube-dns.kube-system.svc.cluster.local., not "
                                        "the root"));
}

TEST(DecodeMessage, ChecksOptOptionsFitTheRdata) {
  QueryOptions o;
  o.edns = true;
  o.edns_options = {{10, {1, 2, 3, 4, 5, 6, 7, 8}}};
  std::vector<uint8_t> bytes = BuildQuery("a.", rc::kTypeA, o);
  ASSERT_TRUE(DecodeMessage(bytes).ok());
  // The option claims 9 bytes of data in an rdata that holds 8.
  bytes[bytes.size() - 9] = 9;
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("OPT option 10 at offset"));
  // An option header cut off: rdlength 2.
  bytes = OneAnswer(rc::kTypeOpt, {0x00, 0x0a});
  bytes[7] = 0;   // ANCOUNT 0
  bytes[11] = 1;  // ARCOUNT 1
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("OPT option header at offset 23 runs past"));
}

TEST(DecodeMessage, RendersEveryKnownType) {
  struct Case {
    uint16_t type;
    std::vector<uint8_t> rdata;
    std::string text;
  };
  const std::vector<Case> cases = {
      {rc::kTypeA, {10, 96, 0, 1}, "10.96.0.1"},
      {rc::kTypeAaaa, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8::1"},
      {rc::kTypeAaaa, std::vector<uint8_t>(16, 0), "::"},
      {rc::kTypeAaaa, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
      {rc::kTypeAaaa,
       {0xfd, 0x00, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a},
       "fd00:10:96::a"},
      // A single zero group is not compressed; the first of two equal runs is.
      {rc::kTypeAaaa,
       {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
       "2001:db8:0:1:1:1:1:1"},
      {rc::kTypeAaaa, {0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1}, "2001::1:0:0:1:1"},
      {rc::kTypeAaaa, {0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:0:0:1::1"},
      {rc::kTypeAaaa,
       {0xAB, 0xCD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
       "abcd::"},
      {rc::kTypeAaaa, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, "::ffff:1.2.3.4"},
      {rc::kTypeCname, {3, 'f', 'o', 'o', 3, 'c', 'o', 'm', 0}, "foo.com."},
      {rc::kTypeNs, {2, 'n', 's', 0}, "ns."},
      {rc::kTypePtr, {0}, "."},
      {rc::kTypePtr, {3, 'a', '.', 'b', 0}, "a\\.b."},
      {rc::kTypeSrv, {0, 1, 0, 2, 0x1f, 0x90, 1, 'x', 0}, "1 2 8080 x."},
      {rc::kTypeSoa,
       {2, 'n', 's', 0, 4, 'h', 'o', 's', 't', 0, 0x65, 0x00, 0x00, 0x01, 0, 0, 0x1c, 0x20, 0,
        0, 0x07, 0x08, 0, 0x01, 0x51, 0x80, 0, 0, 0, 30},
       "ns. host. 1694498817 7200 1800 86400 30"},
      {rc::kTypeTxt, {5, '1', '.', '1', '.', '0'}, "\"1.1.0\""},
      {rc::kTypeTxt, {2, 'a', '"', 0, 1, 0x07}, "\"a\\\"\" \"\" \"\\007\""},
      {rc::kTypeHinfo, {7, 'R', 'F', 'C', '8', '4', '8', '2', 0}, "\"RFC8482\" \"\""},
      {99, {0xde, 0xad}, "\\# 2 dead"},
      {99, {}, "\\# 0"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<DecodedMessage> m = DecodeMessage(OneAnswer(c.type, c.rdata));
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.status();
    ASSERT_EQ(m->answer.size(), 1u);
    EXPECT_EQ(m->answer[0].rdata_text, c.text);
    EXPECT_EQ(m->answer[0].rdata_raw, c.rdata);
  }
}

TEST(DecodeMessage, RecordToTextFormatsClassAndType) {
  absl::StatusOr<DecodedMessage> m = DecodeMessage(OneAnswer(rc::kTypeA, {1, 2, 3, 4}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(RecordToText(m->answer[0]), ". 30 IN A 1.2.3.4");
  DecodedRecord r = m->answer[0];
  r.klass = 3;
  r.type = 99;
  EXPECT_EQ(RecordToText(r), ". 30 CLASS3 TYPE99 1.2.3.4");
}

TEST(DecodeMessage, RejectsMalformedTxtAndHinfo) {
  EXPECT_THAT(ErrorOf(OneAnswer(rc::kTypeTxt, {})), HasSubstr("TXT rdlength 0"));
  EXPECT_THAT(ErrorOf(OneAnswer(rc::kTypeTxt, {5, '1', '.', '1'})),
              HasSubstr("character-string of length 5 at offset 23 runs past the rdata end 27"));
  EXPECT_THAT(ErrorOf(OneAnswer(rc::kTypeHinfo, {1, 'x'})),
              HasSubstr("holds 1 character-strings, expected 2"));
}

TEST(DecodeMessage, RejectsSoaWithWrongLength) {
  std::vector<uint8_t> rdata = {0, 0};  // two root names
  rdata.insert(rdata.end(), 20, 0);
  EXPECT_TRUE(DecodeMessage(OneAnswer(rc::kTypeSoa, rdata)).ok());
  rdata.push_back(0);
  EXPECT_THAT(ErrorOf(OneAnswer(rc::kTypeSoa, rdata)),
              HasSubstr("SOA rdata structure ends at offset 45 but rdlength 23"));
  rdata.resize(21);
  EXPECT_THAT(ErrorOf(OneAnswer(rc::kTypeSoa, rdata)),
              HasSubstr("SOA rdata structure ends at offset 45 but rdlength 21"));
}

TEST(DecodeMessage, ReportsExtendedRcode) {
  std::vector<uint8_t> bytes = kSrvResponse;
  bytes[kOptOffset + 5] = 1;  // extended rcode 1 above header rcode 0: BADVERS
  absl::StatusOr<DecodedMessage> m = DecodeMessage(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rcode, 0);
  EXPECT_EQ(ExtendedRcode(*m), rc::kRcodeBadVers);
  EXPECT_THAT(ToText(*m), HasSubstr("rcode=BADVERS"));
  EXPECT_EQ(m->opt->rdata_text, "udp=1232 do=1 version=0 extrcode=1 options=0");
}

// Every single-byte corruption of the valid response either decodes or is refused; under
// ASan+UBSan this is where an unchecked read would show. Some must be refused.
TEST(DecodeMessage, SurvivesEverySingleByteCorruption) {
  int refused = 0;
  int total = 0;
  for (size_t i = 0; i < kSrvResponse.size(); ++i) {
    for (int v : {0x00, 0x01, 0x3f, 0x40, 0x7f, 0xc0, 0xc1, 0xff}) {
      std::vector<uint8_t> bytes = kSrvResponse;
      bytes[i] = static_cast<uint8_t>(v);
      absl::StatusOr<DecodedMessage> m = DecodeMessage(bytes);
      ++total;
      if (!m.ok()) {
        ++refused;
        EXPECT_FALSE(m.status().message().empty());
      } else {
        EXPECT_EQ(m->size, bytes.size());
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_LT(refused, total);
  // 0x40 is a reserved label type where a length byte or pointer is expected, and too long an
  // rdlength where one is: each of these must be refused.
  for (size_t i : {12, 17, 22, 31, 43, 47, 55, 61, 66, 84, 86, 102, 77, 97, 112}) {
    std::vector<uint8_t> bytes = kSrvResponse;
    bytes[i] = 0x40;
    EXPECT_FALSE(DecodeMessage(bytes).ok()) << "byte " << i << " = 0x40 decoded";
  }
}

TEST(BuildQuery, RoundTripsWithoutEdns) {
  const std::vector<uint8_t> q = BuildQuery("Kube-DNS.kube-system.svc.cluster.local", rc::kTypeA);
  absl::StatusOr<DecodedMessage> m = DecodeMessage(q);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, 0x1234);
  EXPECT_EQ(m->flags, rc::kFlagRd);
  EXPECT_FALSE(m->qr);
  EXPECT_TRUE(m->rd);
  EXPECT_EQ(m->opcode, 0);
  EXPECT_EQ(m->qdcount, 1);
  EXPECT_EQ(m->ancount, 0);
  EXPECT_EQ(m->nscount, 0);
  EXPECT_EQ(m->arcount, 0);
  EXPECT_FALSE(m->opt.has_value());
  EXPECT_EQ(m->compression_pointers, 0);
  ASSERT_EQ(m->question.size(), 1u);
  EXPECT_EQ(m->question[0].name, "Kube-DNS.kube-system.svc.cluster.local.");
  EXPECT_EQ(m->question[0].type, rc::kTypeA);
  EXPECT_EQ(m->question[0].klass, rc::kClassIn);
  EXPECT_EQ(m->question[0].raw, std::vector<uint8_t>(q.begin() + 12, q.end()));
  EXPECT_EQ(q, BuildQuery("Kube-DNS.kube-system.svc.cluster.local.", rc::kTypeA));
}

TEST(BuildQuery, RoundTripsWithEdns) {
  QueryOptions o;
  o.id = 0xabcd;
  o.rd = false;
  o.opcode = 2;
  o.klass = 3;
  o.edns = true;
  o.edns_udp_size = 4096;
  o.edns_version = 1;
  o.edns_do = true;
  o.edns_options = {{10, {1, 2, 3, 4, 5, 6, 7, 8}}, {12, {}}};
  const std::vector<uint8_t> q = BuildQuery("_dns._udp.x.", rc::kTypeSrv, o);
  absl::StatusOr<DecodedMessage> m = DecodeMessage(q);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, 0xabcd);
  EXPECT_FALSE(m->rd);
  EXPECT_EQ(m->opcode, 2);
  EXPECT_EQ(m->arcount, 1);
  EXPECT_EQ(m->question[0].name, "_dns._udp.x.");
  EXPECT_EQ(m->question[0].type, rc::kTypeSrv);
  EXPECT_EQ(m->question[0].klass, 3);
  ASSERT_TRUE(m->opt.has_value());
  ASSERT_EQ(m->additional.size(), 1u);
  EXPECT_EQ(m->opt->name, ".");
  EXPECT_EQ(m->opt->klass, 4096);
  EXPECT_EQ(m->opt->ttl, 0x00018000u);
  EXPECT_EQ(m->opt->rdata_text, "udp=4096 do=1 version=1 extrcode=0 options=2");
  EXPECT_EQ(m->opt->rdata_raw, (std::vector<uint8_t>{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 12,
                                                     0, 0}));
  EXPECT_EQ(ToText(*m),
            ";; id=43981 opcode=2 rcode=NOERROR flags: ; qd=1 an=0 ns=0 ar=1\n"
            ";; QUESTION\n"
            "; _dns._udp.x. CLASS3 SRV\n"
            ";; ADDITIONAL\n"
            ". OPT udp=4096 do=1 version=1 extrcode=0 options=2\n");
}

TEST(BuildQuery, MutatorsMakeMalformedQueries) {
  QueryOptions o;
  o.edns = true;
  std::vector<uint8_t> q = BuildQuery("a.b", rc::kTypeA, o);
  ASSERT_TRUE(DecodeMessage(q).ok());
  AppendBytes(q, EncodeOptRecord(o));
  EXPECT_THAT(ErrorOf(q), HasSubstr("trailing bytes"));
  SetArcount(q, 2);
  EXPECT_THAT(ErrorOf(q), HasSubstr("second OPT record"));
  SetArcount(q, 1);
  SetQdcount(q, 0);
  EXPECT_FALSE(DecodeMessage(q).ok());
  q = BuildQuery("a.b", rc::kTypeA);
  SetId(q, 7);
  SetFlags(q, rc::kFlagQr | rc::kFlagTc);
  absl::StatusOr<DecodedMessage> m = DecodeMessage(q);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, 7);
  EXPECT_TRUE(m->qr);
  EXPECT_TRUE(m->tc);
  EXPECT_FALSE(m->rd);
}

TEST(EncodeName, EncodesRootEscapesAndOddLabels) {
  EXPECT_EQ(EncodeName("."), std::vector<uint8_t>{0});
  EXPECT_EQ(EncodeName(""), std::vector<uint8_t>{0});
  EXPECT_EQ(EncodeName("Ab.c"), (std::vector<uint8_t>{2, 'A', 'b', 1, 'c', 0}));
  EXPECT_EQ(EncodeName("Ab.c."), EncodeName("Ab.c"));
  EXPECT_EQ(EncodeName("a\\.b.c"), (std::vector<uint8_t>{3, 'a', '.', 'b', 1, 'c', 0}));
  EXPECT_EQ(EncodeName("\\000\\255\\\\"), (std::vector<uint8_t>{3, 0, 255, '\\', 0}));
  EXPECT_EQ(EncodeName("a..b"), (std::vector<uint8_t>{1, 'a', 0, 1, 'b', 0}));
  const std::vector<uint8_t> long_label = EncodeName(std::string(64, 'x'));
  ASSERT_EQ(long_label.size(), 66u);
  EXPECT_EQ(long_label[0], 64);
  // The decoder reads the escapes back.
  absl::StatusOr<DecodedMessage> m = DecodeMessage(BuildQuery("a\\.b.\\007", rc::kTypeA));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->question[0].name, "a\\.b.\\007.");
}

}  // namespace
}  // namespace clusterdns::testing
