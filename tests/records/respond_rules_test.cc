// The header rules of DESIGN.md "respond(): one query", one test per rule, and respond() on
// malformed input: every response is re-decoded by the independent decoder of tests/support
// (Ask/AskBytes), and every malformed query gets the rule's answer or a drop, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "records/dns_constants.h"
#include "records/respond.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"

namespace clusterdns::testing {
namespace {

using records::kRcodeFormErr;
using records::kRcodeNoError;
using records::kRcodeNotImp;
using records::kRcodeNxDomain;
using records::kRcodeRefused;
using records::kTypeA;
using ::testing::SizeIs;

constexpr char kRedis[] = "redis-master.default.svc.cluster.local";

// EDNS option codes (RFC 7873 cookie, RFC 7830 padding).
constexpr uint16_t kOptionCookie = 10;
constexpr uint16_t kOptionPadding = 12;

std::vector<uint8_t> Bytes(std::initializer_list<int> values) {
  std::vector<uint8_t> out;
  for (int v : values) out.push_back(static_cast<uint8_t>(v));
  return out;
}

// A query header with RD set and the given counts, for hand-built questions.
std::vector<uint8_t> Header(uint16_t qdcount, uint16_t ancount = 0, uint16_t nscount = 0,
                            uint16_t arcount = 0) {
  std::vector<uint8_t> out(records::kHeaderSize, 0);
  SetId(out, 0x1234);
  SetFlags(out, records::kFlagRd);
  SetQdcount(out, qdcount);
  SetAncount(out, ancount);
  SetNscount(out, nscount);
  SetArcount(out, arcount);
  return out;
}

// An A record owned by `name` (uncompressed), for queries that carry records where none belong.
std::vector<uint8_t> ARecord(std::string_view name) {
  std::vector<uint8_t> out = EncodeName(name);
  AppendBytes(out, Bytes({0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 1}));
  return out;
}

std::string Label(char c, size_t n) { return std::string(n, c); }

uint16_t IdOf(const std::vector<uint8_t>& message) {
  return static_cast<uint16_t>((message[0] << 8) | message[1]);
}

// A headless Service with `n` ready endpoints 10.244.<subnet>.1.., in its own slice.
void AddHeadless(records::TableBuilder& builder, const std::string& name, int subnet, int n) {
  records::Service s;
  s.ns = "default";
  s.name = name;
  s.headless = true;
  s.ports = {{"http", records::Protocol::kTcp, 80}};
  builder.UpsertService(s);
  records::EndpointSlice slice;
  slice.ns = "default";
  slice.name = name + "-slice";
  slice.service_name = name;
  for (int i = 0; i < n; ++i) {
    records::Endpoint e;
    e.addresses = {Ip(("10.244." + std::to_string(subnet) + "." + std::to_string(1 + i)).c_str())};
    e.ready = true;
    slice.endpoints.push_back(e);
  }
  slice.ports = {{"http", records::Protocol::kTcp, 80}};
  builder.UpsertSlice(slice);
}

// A QUERY response with the question not echoed: exactly a header, ID and RD copied.
void ExpectBareHeader(const Asked& a, uint8_t rcode) {
  ASSERT_EQ(a.result.verdict, records::Verdict::kReply);
  EXPECT_EQ(a.bytes.size(), records::kHeaderSize) << ToText(a.message);
  EXPECT_EQ(a.message.rcode, rcode) << ToText(a.message);
  EXPECT_EQ(a.result.rcode, rcode);
  EXPECT_TRUE(a.message.qr);
  EXPECT_EQ(a.message.id, 0x1234);
  EXPECT_TRUE(a.message.rd);
  EXPECT_EQ(a.message.qdcount, 0);
  EXPECT_EQ(a.message.ancount + a.message.nscount + a.message.arcount, 0);
}

// A response that echoes `question` byte for byte and carries no records but perhaps an OPT.
void ExpectQuestionOnly(const Asked& a, uint8_t rcode, const std::vector<uint8_t>& question) {
  ASSERT_EQ(a.result.verdict, records::Verdict::kReply);
  EXPECT_EQ(a.message.rcode, rcode) << ToText(a.message);
  EXPECT_TRUE(a.message.qr);
  EXPECT_EQ(a.message.id, 0x1234);
  ASSERT_THAT(a.message.question, SizeIs(1)) << ToText(a.message);
  EXPECT_EQ(a.message.question[0].raw, question);
  EXPECT_TRUE(a.message.answer.empty());
  EXPECT_TRUE(a.message.authority.empty());
}

class RespondRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto builder = KubeDnsBuilder();
    AddHeadless(*builder, "big", 100, 200);
    // Sizes chosen so a full answer lands exactly on a limit or one byte past it: the question
    // of <label>.default.svc.cluster.local ends at 44 + |label|, each A record is 16 bytes and
    // the OPT 11, so 73 records and a 9-byte label make 1232 bytes with OPT, 29 records and a
    // 4-byte label 512 bytes without.
    AddHeadless(*builder, "exact1232", 101, 73);
    AddHeadless(*builder, "over-1232x", 102, 73);
    AddHeadless(*builder, "e512", 103, 29);
    AddHeadless(*builder, "o-512", 104, 29);
    AddHeadless(*builder, "medium", 105, 15);  // 298 bytes with OPT: over 100, under 512
    table_ = new std::shared_ptr<const records::AnswerTable>(builder->Build());
  }
  static void TearDownTestSuite() {
    delete table_;
    table_ = nullptr;
  }
  const records::AnswerTable& table() const { return **table_; }

  static std::shared_ptr<const records::AnswerTable>* table_;
};
std::shared_ptr<const records::AnswerTable>* RespondRulesTest::table_ = nullptr;

// --- Header rules ---------------------------------------------------------------------------

TEST_F(RespondRulesTest, ResponsesAreDropped) {
  std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
  SetFlags(q, records::kFlagQr | records::kFlagRd);
  Asked a = AskBytes(table(), q);  // also checks the buffer is untouched
  EXPECT_EQ(a.result.verdict, records::Verdict::kDrop);
  EXPECT_EQ(a.result.drop, records::DropReason::kResponse);
  // Any response, whatever else is wrong with it.
  std::vector<uint8_t> bad = Header(0, 3, 3, 3);
  SetFlags(bad, records::kFlagQr | (5 << records::kOpcodeShift));
  a = AskBytes(table(), bad);
  EXPECT_EQ(a.result.verdict, records::Verdict::kDrop);
  EXPECT_EQ(a.result.drop, records::DropReason::kResponse);
}

TEST_F(RespondRulesTest, ShortHeadersAreDropped) {
  const std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
  for (size_t n = 0; n < records::kHeaderSize; ++n) {
    Asked a = AskBytes(table(), std::vector<uint8_t>(q.begin(), q.begin() + n));
    EXPECT_EQ(a.result.verdict, records::Verdict::kDrop) << n;
    EXPECT_EQ(a.result.drop, records::DropReason::kShortHeader) << n;
  }
  // Twelve bytes is a header: QDCOUNT 1 with no question is FORMERR, not a drop.
  Asked a = AskBytes(table(), std::vector<uint8_t>(q.begin(), q.begin() + 12));
  ExpectBareHeader(a, kRcodeFormErr);
}

TEST_F(RespondRulesTest, OtherOpcodesAreNotImplemented) {
  for (uint8_t opcode : {1, 2, 3, 4, 5, 6, 15}) {
    QueryOptions o;
    o.opcode = opcode;
    Asked a = Ask(table(), kRedis, kTypeA, o);
    ExpectQuestionOnly(a, kRcodeNotImp, EncodeQuestion(kRedis, kTypeA));
    EXPECT_EQ(a.message.opcode, opcode);
    EXPECT_EQ(a.result.rcode, kRcodeNotImp);
  }
  // With an OPT, NOTIMP carries an OPT back (RFC 6891 7), also past UPDATE's other sections.
  QueryOptions with_edns;
  with_edns.opcode = 5;
  with_edns.edns = true;
  with_edns.edns_do = true;
  Asked e = Ask(table(), kRedis, kTypeA, with_edns);
  EXPECT_EQ(e.message.rcode, kRcodeNotImp);
  ASSERT_TRUE(e.message.opt.has_value());
  EXPECT_EQ(e.message.opt->rdata_text.find("do=1") != std::string::npos, true) << e.message.opt->rdata_text;
  std::vector<uint8_t> update = BuildQuery(kRedis, kTypeA, with_edns);
  // Move the OPT behind one update record (name, type A, class, ttl, rdlen 4, address).
  std::vector<uint8_t> opt(update.end() - 11, update.end());
  update.resize(update.size() - 11);
  std::vector<uint8_t> rr = EncodeName(kRedis);
  for (uint8_t b : {0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 1}) rr.push_back(b);
  AppendBytes(update, rr);
  AppendBytes(update, opt);
  SetNscount(update, 1);
  Asked u = AskBytes(table(), update);
  EXPECT_EQ(u.message.rcode, kRcodeNotImp);
  EXPECT_TRUE(u.message.opt.has_value());
  // NOTIFY without a question is still NOTIMP, not FORMERR.
  std::vector<uint8_t> notify = Header(0);
  SetFlags(notify, 4 << records::kOpcodeShift);
  Asked a = AskBytes(table(), notify);
  EXPECT_EQ(a.message.rcode, kRcodeNotImp);
  EXPECT_EQ(a.message.opcode, 4);
}

// A query's OPT record: root owner, type OPT, payload 1232, DO set, with a cookie option.
std::vector<uint8_t> OptWithCookie() {
  return {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
}

// The reply carries an OPT with DO echoed, as RFC 6891 7 wants of every reply to a query with one.
void ExpectOpt(const Asked& a) {
  ASSERT_TRUE(a.message.opt.has_value()) << ToText(a.message);
  EXPECT_NE(a.message.opt->rdata_text.find("do=1"), std::string::npos) << a.message.opt->rdata_text;
}

TEST_F(RespondRulesTest, QdcountOtherThanOneIsFormErr) {
  std::vector<uint8_t> none = Header(0);
  ExpectBareHeader(AskBytes(table(), none), kRcodeFormErr);
  std::vector<uint8_t> two = Header(2);
  AppendBytes(two, EncodeQuestion(kRedis, kTypeA));
  AppendBytes(two, EncodeQuestion("kube-dns.kube-system.svc.cluster.local", kTypeA));
  ExpectBareHeader(AskBytes(table(), two), kRcodeFormErr);
  // Two questions counted, one present.
  std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
  SetQdcount(q, 2);
  ExpectBareHeader(AskBytes(table(), q), kRcodeFormErr);

  // With an OPT after the questions (none: a cookie-only query, RFC 7873 5.4; or two), FORMERR
  // carries an OPT back.
  for (std::vector<uint8_t> with_opt : {none, two}) {
    AppendBytes(with_opt, OptWithCookie());
    WriteU16(with_opt, 10, 1);
    const Asked a = AskBytes(table(), with_opt);
    EXPECT_EQ(a.message.rcode, kRcodeFormErr);
    EXPECT_EQ(a.message.qdcount, 0);
    EXPECT_EQ(a.message.arcount, 1);
    ExpectOpt(a);
  }
}

TEST_F(RespondRulesTest, AnswerOrAuthorityRecordsAreFormErr) {
  const std::vector<uint8_t> question = EncodeQuestion(kRedis, kTypeA);
  std::vector<uint8_t> an = BuildQuery(kRedis, kTypeA);
  SetAncount(an, 1);
  AppendBytes(an, ARecord(kRedis));
  Asked a = AskBytes(table(), an);
  ExpectQuestionOnly(a, kRcodeFormErr, question);
  EXPECT_EQ(a.message.ancount, 0);

  std::vector<uint8_t> ns = BuildQuery(kRedis, kTypeA);
  SetNscount(ns, 1);
  AppendBytes(ns, ARecord(kRedis));
  a = AskBytes(table(), ns);
  ExpectQuestionOnly(a, kRcodeFormErr, question);
  EXPECT_EQ(a.message.nscount, 0);

  // Counted but absent.
  for (int section : {0, 1}) {
    std::vector<uint8_t> ghost = BuildQuery(kRedis, kTypeA);
    WriteU16(ghost, section == 0 ? 6 : 8, 1);
    ExpectQuestionOnly(AskBytes(table(), ghost), kRcodeFormErr, question);
  }

  // With an OPT after the record, FORMERR carries an OPT back (RFC 6891 7).
  for (std::vector<uint8_t> with_opt : {an, ns}) {
    AppendBytes(with_opt, OptWithCookie());
    WriteU16(with_opt, 10, 1);
    a = AskBytes(table(), with_opt);
    ExpectQuestionOnly(a, kRcodeFormErr, question);
    ExpectOpt(a);
  }
}

TEST_F(RespondRulesTest, ClassOtherThanInIsRefused) {
  for (uint16_t klass : {3, 4, 254, 255}) {  // CH, HS, NONE, ANY
    QueryOptions o;
    o.klass = klass;
    Asked a = Ask(table(), "dns-version.cluster.local", records::kTypeTxt, o);
    ExpectQuestionOnly(a, kRcodeRefused, EncodeQuestion("dns-version.cluster.local",
                                                        records::kTypeTxt, klass));
    EXPECT_EQ(a.message.question[0].klass, klass);
  }
}

TEST_F(RespondRulesTest, ZoneTransfersAreRefused) {
  for (uint16_t type : {records::kTypeAxfr, records::kTypeIxfr}) {
    Asked a = Ask(table(), "cluster.local", type);
    ExpectQuestionOnly(a, kRcodeRefused, EncodeQuestion("cluster.local", type));
    EXPECT_EQ(a.result.qtype, type);
  }
  // IXFR as clients send it (RFC 1995 3): the client's SOA in the authority section, here with
  // an OPT after it. Refused, not FORMERR, with the OPT echoed.
  std::vector<uint8_t> ixfr = BuildQuery("cluster.local", records::kTypeIxfr);
  AppendBytes(ixfr, EncodeName("cluster.local"));
  for (uint8_t b : {0, 6, 0, 1, 0, 0, 0, 30, 0, 22, 0, 0, 0, 0, 0, 7,  // SOA, rdlen 22: . .
                    0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}) {  // serial 7, four times 1
    ixfr.push_back(b);
  }
  SetNscount(ixfr, 1);
  AppendBytes(ixfr, OptWithCookie());
  WriteU16(ixfr, 10, 1);
  const Asked a = AskBytes(table(), ixfr);
  ExpectQuestionOnly(a, kRcodeRefused, EncodeQuestion("cluster.local", records::kTypeIxfr));
  ExpectOpt(a);
}

TEST_F(RespondRulesTest, MetaTypesAreFormErr) {
  for (uint16_t type : {records::kTypeOpt, records::kTypeTsig, records::kTypeTkey}) {
    Asked a = Ask(table(), kRedis, type);
    ExpectQuestionOnly(a, kRcodeFormErr, EncodeQuestion(kRedis, type));
  }
}

TEST_F(RespondRulesTest, QuestionIsEchoedByteForByte) {
  const char* name = "KUBE-dns.Kube-System.SVC.cluster.LOCAL";
  QueryOptions o;
  o.id = 0xa5a5;
  Asked a = Ask(table(), name, kTypeA, o);
  EXPECT_EQ(a.message.id, 0xa5a5);
  EXPECT_TRUE(a.message.qr);
  EXPECT_TRUE(a.message.aa);
  ASSERT_THAT(a.message.question, SizeIs(1));
  EXPECT_EQ(a.message.question[0].raw, EncodeQuestion(name, kTypeA));
  ASSERT_THAT(a.message.answer, SizeIs(1));
  EXPECT_EQ(a.message.answer[0].owner_pointer, 12);
  // Errors echo it too.
  o.klass = 3;
  a = Ask(table(), name, kTypeA, o);
  EXPECT_EQ(a.message.question[0].raw, EncodeQuestion(name, kTypeA, 3));
}

// --- EDNS(0) --------------------------------------------------------------------------------

TEST_F(RespondRulesTest, EdnsQueryGetsOpt) {
  for (bool do_bit : {false, true}) {
    for (uint16_t udp : {512, 1232, 4096}) {
      QueryOptions o;
      o.edns = true;
      o.edns_do = do_bit;
      o.edns_udp_size = udp;
      for (const char* name : {kRedis, "nothing.default.svc.cluster.local", "www.example.com"}) {
        Asked a = Ask(table(), name, kTypeA, o);
        ASSERT_TRUE(a.message.opt.has_value()) << name << ToText(a.message);
        EXPECT_EQ(RecordToText(*a.message.opt),
                  std::string(". OPT udp=1232 do=") + (do_bit ? "1" : "0") +
                      " version=0 extrcode=0 options=0")
            << name;
        EXPECT_EQ(a.message.additional.size(), 1u) << name;
      }
    }
  }
  // Without EDNS, no OPT.
  Asked plain = Ask(table(), kRedis, kTypeA);
  EXPECT_FALSE(plain.message.opt.has_value());
  EXPECT_EQ(plain.message.arcount, 0);
}

TEST_F(RespondRulesTest, EdnsOnErrorsWithAReadableOpt) {
  QueryOptions o;
  o.edns = true;
  o.edns_do = true;
  o.klass = 3;
  Asked a = Ask(table(), kRedis, kTypeA, o);
  EXPECT_EQ(a.message.rcode, kRcodeRefused);
  ASSERT_TRUE(a.message.opt.has_value());
  EXPECT_EQ(RecordToText(*a.message.opt), ". OPT udp=1232 do=1 version=0 extrcode=0 options=0");
}

TEST_F(RespondRulesTest, EdnsVersionAboveZeroIsBadVers) {
  for (uint8_t version : {1, 2, 255}) {
    QueryOptions o;
    o.edns = true;
    o.edns_version = version;
    Asked a = Ask(table(), kRedis, kTypeA, o);
    ExpectQuestionOnly(a, 0, EncodeQuestion(kRedis, kTypeA));
    EXPECT_EQ(a.message.rcode, 0);  // header bits
    EXPECT_EQ(ExtendedRcode(a.message), records::kRcodeBadVers) << ToText(a.message);
    EXPECT_EQ(a.result.rcode, records::kRcodeBadVers);
    ASSERT_TRUE(a.message.opt.has_value());
    EXPECT_EQ(RecordToText(*a.message.opt), ". OPT udp=1232 do=0 version=0 extrcode=1 options=0");
  }
}

TEST_F(RespondRulesTest, MalformedOptIsFormErrWithoutOpt) {
  const std::vector<uint8_t> question = EncodeQuestion(kRedis, kTypeA);
  const auto expect_formerr = [&](const std::vector<uint8_t>& q, const char* what) {
    SCOPED_TRACE(what);
    Asked a = AskBytes(table(), q);
    ExpectQuestionOnly(a, kRcodeFormErr, question);
    EXPECT_FALSE(a.message.opt.has_value()) << ToText(a.message);
    EXPECT_EQ(a.message.arcount, 0);
  };
  // An option whose length runs past the rdata.
  {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    SetArcount(q, 1);
    AppendBytes(q, Bytes({0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2}));
    expect_formerr(q, "option length past rdata");
  }
  // An option header cut short by the rdata length.
  {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    SetArcount(q, 1);
    AppendBytes(q, Bytes({0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 2, 0, 10}));
    expect_formerr(q, "option header past rdata");
  }
  // rdlength past the end of the message.
  {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    SetArcount(q, 1);
    AppendBytes(q, Bytes({0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 8, 0, 10, 0, 4}));
    expect_formerr(q, "rdlength past the message");
  }
  // A non-root owner.
  {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    SetArcount(q, 1);
    AppendBytes(q, EncodeName("example"));
    AppendBytes(q, Bytes({0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0}));
    expect_formerr(q, "non-root owner");
  }
  // The root, but spelled as a compression pointer to the question's final zero byte.
  {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    const uint16_t root_offset = static_cast<uint16_t>(q.size() - 5);
    ASSERT_EQ(q[root_offset], 0);
    SetArcount(q, 1);
    AppendBytes(q, Bytes({0xc0, root_offset & 0xff, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0}));
    expect_formerr(q, "compressed root owner");
  }
  // Two OPT records.
  {
    QueryOptions o;
    o.edns = true;
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA, o);
    AppendBytes(q, EncodeOptRecord(o));
    SetArcount(q, 2);
    expect_formerr(q, "two OPTs");
  }
}

TEST_F(RespondRulesTest, OptOutsideTheAdditionalSectionIsFormErr) {
  QueryOptions o;
  o.edns = true;
  for (int section : {0, 1}) {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    AppendBytes(q, EncodeOptRecord(o));
    if (section == 0) {
      SetAncount(q, 1);
    } else {
      SetNscount(q, 1);
    }
    Asked a = AskBytes(table(), q);
    ExpectQuestionOnly(a, kRcodeFormErr, EncodeQuestion(kRedis, kTypeA));
    EXPECT_EQ(a.message.ancount + a.message.nscount, 0);
  }
}

TEST_F(RespondRulesTest, EdnsOptionsAreAcceptedAndNotEchoed) {
  QueryOptions o;
  o.edns = true;
  o.edns_options = {{kOptionCookie, {1, 2, 3, 4, 5, 6, 7, 8}},
                    {kOptionPadding, std::vector<uint8_t>(37, 0)},
                    {0xfde9, {}}};  // an unknown, empty option
  Asked a = Ask(table(), kRedis, kTypeA, o);
  EXPECT_EQ(a.message.rcode, kRcodeNoError);
  EXPECT_THAT(AnswerTexts(a.message),
              ::testing::ElementsAre(std::string(kRedis) + ". 30 IN A 10.254.7.160"));
  ASSERT_TRUE(a.message.opt.has_value());
  EXPECT_EQ(RecordToText(*a.message.opt), ". OPT udp=1232 do=0 version=0 extrcode=0 options=0");
  EXPECT_TRUE(a.message.opt->rdata_raw.empty());
}

TEST_F(RespondRulesTest, OtherAdditionalRecordsAreSkipped) {
  // A record the server does not verify (here an A; TSIG would be treated the same).
  QueryOptions o;
  o.edns = true;
  std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA, o);
  AppendBytes(q, ARecord("key.example"));
  SetArcount(q, 2);
  Asked a = AskBytes(table(), q);
  EXPECT_EQ(a.message.rcode, kRcodeNoError) << ToText(a.message);
  EXPECT_THAT(a.message.answer, SizeIs(1));
  EXPECT_TRUE(a.message.opt.has_value());
}

TEST_F(RespondRulesTest, SmallUdpSizeIsTreatedAs512) {
  const char* name = "medium.default.svc.cluster.local";
  for (uint16_t udp : {0, 1, 100, 511, 512}) {
    QueryOptions o;
    o.edns = true;
    o.edns_udp_size = udp;
    Asked a = Ask(table(), name, kTypeA, o);
    EXPECT_FALSE(a.message.tc) << udp;
    EXPECT_THAT(a.message.answer, SizeIs(15)) << udp;
    EXPECT_GT(a.bytes.size(), 100u);
    EXPECT_LE(a.bytes.size(), 512u);
  }
}

// --- Truncation -----------------------------------------------------------------------------

TEST_F(RespondRulesTest, LargeAnswerWithoutEdnsIsTruncated) {
  const char* name = "big.default.svc.cluster.local";
  Asked a = Ask(table(), name, kTypeA);
  ExpectQuestionOnly(a, kRcodeNoError, EncodeQuestion(name, kTypeA));
  EXPECT_TRUE(a.message.tc);
  EXPECT_TRUE(a.result.truncated);
  EXPECT_TRUE(a.message.aa);
  EXPECT_EQ(a.message.ancount + a.message.nscount + a.message.arcount, 0);
  EXPECT_EQ(a.bytes.size(), records::kHeaderSize + EncodeQuestion(name, kTypeA).size());
}

TEST_F(RespondRulesTest, LargeAnswerWithEdnsIsTruncatedWithOpt) {
  const char* name = "big.default.svc.cluster.local";
  QueryOptions o;
  o.edns = true;
  o.edns_do = true;
  for (uint16_t udp : {1232, 4096, 65535}) {
    o.edns_udp_size = udp;
    Asked a = Ask(table(), name, kTypeA, o);
    ExpectQuestionOnly(a, kRcodeNoError, EncodeQuestion(name, kTypeA));
    EXPECT_TRUE(a.message.tc) << udp;
    ASSERT_TRUE(a.message.opt.has_value());
    EXPECT_EQ(RecordToText(*a.message.opt), ". OPT udp=1232 do=1 version=0 extrcode=0 options=0");
    // However much room the caller gives, UDP stops at 1232.
    std::vector<uint8_t> buf = BuildQuery(name, kTypeA, o);
    const size_t query_len = buf.size();
    buf.resize(records::kTcpResponseRoom);
    records::RespondResult r =
        records::Respond(table(), buf.data(), query_len, buf.size(), records::RespondOptions{});
    EXPECT_TRUE(r.truncated) << udp;
    EXPECT_LE(r.size, records::kEdnsUdpPayloadSize);
  }
}

TEST_F(RespondRulesTest, TcpGetsTheFullAnswer) {
  const char* name = "big.default.svc.cluster.local";
  records::RespondOptions tcp;
  tcp.transport = records::Transport::kTcp;
  for (bool edns : {false, true}) {
    QueryOptions o;
    o.edns = edns;
    Asked a = Ask(table(), name, kTypeA, o, tcp);
    EXPECT_FALSE(a.message.tc);
    EXPECT_FALSE(a.result.truncated);
    EXPECT_EQ(a.message.rcode, kRcodeNoError);
    EXPECT_THAT(a.message.answer, SizeIs(200));
    EXPECT_GT(a.bytes.size(), 3200u);
    EXPECT_EQ(a.message.opt.has_value(), edns);
  }
}

TEST_F(RespondRulesTest, TruncationBoundaries) {
  records::RespondOptions tcp;
  tcp.transport = records::Transport::kTcp;
  struct Case {
    const char* label;
    bool edns;
    size_t full_size;
    bool truncated;
  };
  for (const Case& c : {Case{"exact1232", true, 1232, false}, Case{"over-1232x", true, 1233, true},
                        Case{"e512", false, 512, false}, Case{"o-512", false, 513, true},
                        Case{"exact1232", false, 1221, true}}) {
    SCOPED_TRACE(c.label);
    const std::string name = std::string(c.label) + ".default.svc.cluster.local";
    QueryOptions o;
    o.edns = c.edns;
    o.edns_udp_size = 4096;
    Asked full = Ask(table(), name, kTypeA, o, tcp);
    ASSERT_EQ(full.bytes.size(), c.full_size);  // the case is where it means to be
    Asked udp = Ask(table(), name, kTypeA, o);
    EXPECT_EQ(udp.message.tc, c.truncated);
    if (c.truncated) {
      EXPECT_TRUE(udp.message.answer.empty());
    } else {
      EXPECT_EQ(udp.bytes, full.bytes);
    }
  }
  // The client's own limit between 512 and 1232 is honoured.
  QueryOptions o;
  o.edns = true;
  o.edns_udp_size = 1231;
  EXPECT_TRUE(Ask(table(), "exact1232.default.svc.cluster.local", kTypeA, o).message.tc);
  o.edns_udp_size = 1232;
  EXPECT_FALSE(Ask(table(), "exact1232.default.svc.cluster.local", kTypeA, o).message.tc);
}

// respond() with a buffer smaller than the transport's limit: TC, never a byte past buf_cap.
TEST_F(RespondRulesTest, SmallBufferTruncatesWithoutOverflow) {
  records::RespondOptions tcp;
  tcp.transport = records::Transport::kTcp;
  constexpr uint8_t kCanary = 0xa7;
  for (const char* name : {"big.default.svc.cluster.local", "nothing.default.svc.cluster.local",
                           kRedis}) {
    for (bool edns : {false, true}) {
      QueryOptions o;
      o.edns = edns;
      const std::vector<uint8_t> q = BuildQuery(name, kTypeA, o);
      for (size_t cap = q.size(); cap < q.size() + 40; ++cap) {
        SCOPED_TRACE(std::string(name) + " cap " + std::to_string(cap));
        std::vector<uint8_t> buf(cap + 64, kCanary);
        std::copy(q.begin(), q.end(), buf.begin());
        records::RespondResult r = records::Respond(table(), buf.data(), q.size(), cap, tcp);
        EXPECT_TRUE(
            std::all_of(buf.begin() + cap, buf.end(), [](uint8_t b) { return b == kCanary; }));
        ASSERT_EQ(r.verdict, records::Verdict::kReply);
        ASSERT_LE(r.size, cap);
        auto m = DecodeMessage(buf.data(), r.size);
        ASSERT_TRUE(m.ok()) << m.status();
        if (m->tc) {
          EXPECT_TRUE(r.truncated);
          EXPECT_EQ(m->ancount + m->nscount, 0);
          EXPECT_EQ(m->question[0].raw, EncodeQuestion(name, kTypeA));
        }
      }
      // The full answer fits a large enough buffer.
      std::vector<uint8_t> buf(q);
      buf.resize(records::kTcpResponseRoom);
      records::RespondResult r = records::Respond(table(), buf.data(), q.size(), buf.size(), tcp);
      EXPECT_FALSE(r.truncated) << name;
    }
  }
  // Too small for even the header and question: dropped, buffer untouched.
  const std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
  for (size_t cap : {size_t{0}, size_t{11}, q.size() - 1}) {
    std::vector<uint8_t> buf(q);
    records::RespondResult r = records::Respond(table(), buf.data(), q.size(), cap, tcp);
    EXPECT_EQ(r.verdict, records::Verdict::kDrop) << cap;
    EXPECT_EQ(r.drop, records::DropReason::kNoRoom) << cap;
    EXPECT_EQ(buf, q) << cap;
  }
}

// --- Malformed questions --------------------------------------------------------------------

TEST_F(RespondRulesTest, EveryTruncationOfAQueryIsFormErrOrDropped) {
  QueryOptions o;
  o.edns = true;
  o.edns_options = {{kOptionCookie, {1, 2, 3, 4, 5, 6, 7, 8}}};
  const std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA, o);
  const size_t question_end = records::kHeaderSize + EncodeQuestion(kRedis, kTypeA).size();
  for (size_t n = records::kHeaderSize; n < q.size(); ++n) {
    SCOPED_TRACE(n);
    Asked a = AskBytes(table(), std::vector<uint8_t>(q.begin(), q.begin() + n));
    if (n < question_end) {
      ExpectBareHeader(a, kRcodeFormErr);
    } else {
      ExpectQuestionOnly(a, kRcodeFormErr, EncodeQuestion(kRedis, kTypeA));
      EXPECT_FALSE(a.message.opt.has_value());
    }
  }
}

TEST_F(RespondRulesTest, NameTruncatedMidLabel) {
  std::vector<uint8_t> q = Header(1);
  AppendBytes(q, Bytes({5, 'r', 'e', 'd'}));
  ExpectBareHeader(AskBytes(table(), q), kRcodeFormErr);
  // Labels complete but no root label.
  q = Header(1);
  AppendBytes(q, Bytes({3, 'a', 'b', 'c'}));
  ExpectBareHeader(AskBytes(table(), q), kRcodeFormErr);
  // Name complete, type and class cut.
  q = Header(1);
  AppendBytes(q, Bytes({3, 'a', 'b', 'c', 0, 0, 1, 0}));
  ExpectBareHeader(AskBytes(table(), q), kRcodeFormErr);
}

TEST_F(RespondRulesTest, LabelLengthAbove63IsFormErr) {
  for (int len_byte : {64, 0x7f, 0x80, 0xbf}) {
    std::vector<uint8_t> q = Header(1);
    q.push_back(static_cast<uint8_t>(len_byte));
    q.insert(q.end(), static_cast<size_t>(len_byte & 0x3f) + 64, 'a');
    AppendBytes(q, Bytes({0, 0, 1, 0, 1}));
    Asked a = AskBytes(table(), q);
    SCOPED_TRACE(len_byte);
    ExpectBareHeader(a, kRcodeFormErr);
  }
  // 63 is fine.
  Asked ok = Ask(table(), Label('a', 63) + ".cluster.local", kTypeA);
  EXPECT_EQ(ok.message.rcode, kRcodeNxDomain);
}

TEST_F(RespondRulesTest, NameLongerThan255IsFormErr) {
  // 3 * 64 + (1 + 47) + 15 ("cluster.local") = 255 wire bytes; one more is 256.
  const std::string prefix = Label('a', 63) + "." + Label('b', 63) + "." + Label('c', 63) + ".";
  const std::string name255 = prefix + Label('d', 47) + ".cluster.local";
  const std::string name256 = prefix + Label('d', 48) + ".cluster.local";
  ASSERT_EQ(EncodeName(name255).size(), 255u);
  ASSERT_EQ(EncodeName(name256).size(), 256u);
  Asked ok = Ask(table(), name255, kTypeA);
  EXPECT_EQ(ok.message.rcode, kRcodeNxDomain);
  ASSERT_THAT(ok.message.authority, SizeIs(1));
  EXPECT_EQ(ok.message.authority[0].name, "cluster.local.");
  ExpectBareHeader(Ask(table(), name256, kTypeA), kRcodeFormErr);
  // Also when the extra length is all in one more label.
  ExpectBareHeader(Ask(table(), prefix + Label('d', 63) + ".cluster.local", kTypeA), kRcodeFormErr);
}

TEST_F(RespondRulesTest, CompressionInTheQuestionIsFormErr) {
  struct Case {
    const char* what;
    std::vector<uint8_t> name;
  };
  const std::vector<Case> cases = {
      {"into the header", Bytes({0xc0, 0x00})},
      {"into the header's counts", Bytes({0xc0, 0x05})},
      {"to itself", Bytes({0xc0, 0x0c})},
      {"forward", Bytes({0xc0, 0x12, 0, 1, 0, 1, 1, 'a', 0})},
      {"loop after a label", Bytes({1, 'a', 0xc0, 0x0c})},
      {"label then pointer into the header", Bytes({1, 'a', 0xc0, 0x02})},
      {"reserved 0x40 label type", Bytes({0x41, 0x00})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<uint8_t> q = Header(1);
    AppendBytes(q, c.name);
    AppendBytes(q, Bytes({0, 1, 0, 1}));
    ExpectBareHeader(AskBytes(table(), q), kRcodeFormErr);
  }
}

TEST_F(RespondRulesTest, TrailingGarbageIsFormErr) {
  const std::vector<uint8_t> question = EncodeQuestion(kRedis, kTypeA);
  for (const std::vector<uint8_t>& garbage : {Bytes({0}), Bytes({0xde, 0xad, 0xbe, 0xef}),
                                              std::vector<uint8_t>(300, 0)}) {
    std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA);
    AppendBytes(q, garbage);
    ExpectQuestionOnly(AskBytes(table(), q), kRcodeFormErr, question);

    QueryOptions o;
    o.edns = true;
    std::vector<uint8_t> e = BuildQuery(kRedis, kTypeA, o);
    AppendBytes(e, garbage);
    Asked a = AskBytes(table(), e);
    ExpectQuestionOnly(a, kRcodeFormErr, question);
    EXPECT_EQ(a.result.rcode, kRcodeFormErr);
  }
}

TEST_F(RespondRulesTest, TruncatedOptIsFormErr) {
  QueryOptions o;
  o.edns = true;
  o.edns_options = {{kOptionPadding, {0, 0, 0, 0}}};
  const std::vector<uint8_t> q = BuildQuery(kRedis, kTypeA, o);
  const std::vector<uint8_t> opt = EncodeOptRecord(o);
  for (size_t cut = 1; cut <= opt.size(); ++cut) {
    SCOPED_TRACE(cut);
    Asked a = AskBytes(table(), std::vector<uint8_t>(q.begin(), q.end() - static_cast<long>(cut)));
    ExpectQuestionOnly(a, kRcodeFormErr, EncodeQuestion(kRedis, kTypeA));
    EXPECT_FALSE(a.message.opt.has_value());
  }
}

// respond() reads a name by its first zero byte and walks its labels only when the lookup misses
// (respond.cc, GuessName): a zero byte inside a label must still be read as part of the label,
// alone and in a burst.
TEST_F(RespondRulesTest, ZeroBytesInsideLabelsAreLabelBytes) {
  struct Case {
    const char* what;
    std::vector<uint8_t> question;  // name, type and class
    uint8_t rcode;
    bool echoed;  // the question is readable, so the response echoes it
  };
  std::vector<uint8_t> in_zone = Bytes({3, 'a', 0, 'b'});
  AppendBytes(in_zone, EncodeQuestion("default.svc.cluster.local", kTypeA));
  std::vector<uint8_t> outside = Bytes({2, 0, 0});
  AppendBytes(outside, EncodeQuestion("example.com", kTypeA));
  // Up to its first zero byte this reads as z.cluster.local, type A, class IN, and the message
  // ends there; but the first label is 20 bytes long, and runs past the message.
  std::vector<uint8_t> looks_in_zone = Bytes({20, 'z'});
  AppendBytes(looks_in_zone, EncodeQuestion("cluster.local", kTypeA));
  const std::vector<Case> cases = {
      {"in a served zone", in_zone, kRcodeNxDomain, true},
      {"outside the zones", outside, kRcodeRefused, true},
      {"a well-formed question up to the zero, labels past the message", looks_in_zone,
       kRcodeFormErr, false},
      {"x then type A class IN up to the zero, a label past the message",
       Bytes({5, 'x', 0, 0, 1, 0, 1}), kRcodeFormErr, false},
  };
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<records::RespondJob> jobs;
  for (const Case& c : cases) {
    std::vector<uint8_t> q = Header(1);
    AppendBytes(q, c.question);
    bufs.push_back(q);
    SCOPED_TRACE(c.what);
    Asked a = AskBytes(table(), q);
    if (!c.echoed) {
      ExpectBareHeader(a, c.rcode);
    } else if (c.rcode != kRcodeNxDomain) {
      ExpectQuestionOnly(a, c.rcode, c.question);
    } else {
      EXPECT_EQ(a.message.rcode, kRcodeNxDomain) << ToText(a.message);
      ASSERT_THAT(a.message.question, SizeIs(1));
      EXPECT_EQ(a.message.question[0].raw, c.question);
      ASSERT_THAT(a.message.authority, SizeIs(1));
      EXPECT_EQ(a.message.authority[0].name, "cluster.local.");
    }
  }
  for (std::vector<uint8_t>& b : bufs) {
    const uint16_t len = static_cast<uint16_t>(b.size());
    b.resize(records::kUdpResponseRoom);
    jobs.push_back({b.data(), len, static_cast<uint16_t>(b.size()), records::RespondResult{}});
  }
  records::RespondBurst(table(), jobs.data(), jobs.size(), records::RespondOptions{});
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].what);
    EXPECT_EQ(jobs[i].result.verdict, records::Verdict::kReply);
    EXPECT_EQ(jobs[i].result.rcode, cases[i].rcode);
    const size_t size = cases[i].echoed ? records::kHeaderSize + cases[i].question.size()
                                        : records::kHeaderSize;
    EXPECT_EQ(std::vector<uint8_t>(bufs[i].begin() + 12, bufs[i].begin() + size),
              std::vector<uint8_t>(cases[i].question.begin(),
                                   cases[i].question.begin() + (size - records::kHeaderSize)));
  }
}

// Every single-byte change of a few queries: a drop, a forward, or a response the independent
// decoder accepts (AskBytes checks both), never a crash.
TEST_F(RespondRulesTest, EverySingleByteChangeIsHandled) {
  QueryOptions o;
  o.edns = true;
  o.edns_options = {{kOptionCookie, {1, 2, 3, 4, 5, 6, 7, 8}}};
  records::RespondOptions forward;
  forward.refuse_outside_zones = false;
  for (const std::vector<uint8_t>& base :
       {BuildQuery(kRedis, kTypeA, o), BuildQuery("_http._tcp.nginx.default.svc.cluster.local",
                                                  records::kTypeSrv),
        BuildQuery("nothing.cluster.local", kTypeA, o)}) {
    for (size_t i = 0; i < base.size(); ++i) {
      for (int v = 0; v < 256; v += (i < 12 ? 1 : 7)) {
        std::vector<uint8_t> q = base;
        q[i] = static_cast<uint8_t>(v);
        Asked a = AskBytes(table(), q, forward);
        if (a.result.verdict == records::Verdict::kReply) {
          EXPECT_EQ(a.message.id, IdOf(q));
          EXPECT_TRUE(a.message.qr);
          if (HasFailure()) return;
        }
      }
    }
  }
}

// --- RespondBurst ---------------------------------------------------------------------------

// 32 queries of every kind: hits, NXDOMAIN, NODATA, errors, malformed, forwarded, EDNS, TC.
std::vector<std::vector<uint8_t>> MixedBurst() {
  std::vector<std::vector<uint8_t>> out;
  QueryOptions edns;
  edns.edns = true;
  edns.edns_do = true;
  QueryOptions badvers = edns;
  badvers.edns_version = 1;
  QueryOptions notify;
  notify.opcode = 4;
  QueryOptions chaos;
  chaos.klass = 3;
  out.push_back(BuildQuery(kRedis, kTypeA));
  out.push_back(BuildQuery("ReDiS-MaStEr.default.svc.cluster.local", kTypeA, edns));
  out.push_back(BuildQuery("_dns._udp.kube-dns.kube-system.svc.cluster.local", records::kTypeSrv));
  out.push_back(BuildQuery("_dns._udp.kube-dns.kube-system.cluster.local", records::kTypeSrv));
  out.push_back(BuildQuery("160.7.254.10.in-addr.arpa", records::kTypePtr, edns));
  out.push_back(BuildQuery("dual.default.svc.cluster.local", records::kTypeAaaa));
  out.push_back(BuildQuery("search.default.svc.cluster.local", kTypeA));
  out.push_back(BuildQuery("nginx.default.svc.cluster.local", kTypeA));
  out.push_back(BuildQuery("nothing.default.svc.cluster.local", kTypeA));        // NXDOMAIN
  out.push_back(BuildQuery("Nothing.Default.Svc.Cluster.Local", kTypeA, edns));  // NXDOMAIN
  out.push_back(BuildQuery(kRedis, records::kTypeAaaa));                          // NODATA
  out.push_back(BuildQuery("default.svc.cluster.local", kTypeA, edns));           // NODATA
  out.push_back(BuildQuery("www.example.com", kTypeA));                           // forward
  out.push_back(BuildQuery("1.1.168.192.in-addr.arpa", records::kTypePtr, edns)); // forward
  out.push_back(BuildQuery(kRedis, kTypeA, badvers));
  out.push_back(BuildQuery(kRedis, kTypeA, notify));
  out.push_back(BuildQuery(kRedis, kTypeA, chaos));
  out.push_back(BuildQuery("cluster.local", records::kTypeAxfr));
  out.push_back(BuildQuery("big.default.svc.cluster.local", kTypeA));        // TC
  out.push_back(BuildQuery("big.default.svc.cluster.local", kTypeA, edns));  // TC
  out.push_back(BuildQuery("cluster.local", records::kTypeSoa, edns));
  out.push_back(BuildQuery("dns-version.cluster.local", records::kTypeTxt));
  std::vector<uint8_t> response = BuildQuery(kRedis, kTypeA);
  SetFlags(response, records::kFlagQr);
  out.push_back(response);
  out.push_back(Bytes({0x12, 0x34, 0, 0, 0, 1}));  // short header
  std::vector<uint8_t> pointer = Header(1);
  AppendBytes(pointer, Bytes({0xc0, 0x0c, 0, 1, 0, 1}));
  out.push_back(pointer);
  std::vector<uint8_t> trailing = BuildQuery(kRedis, kTypeA, edns);
  trailing.push_back(0);
  out.push_back(trailing);
  std::vector<uint8_t> two_opts = BuildQuery(kRedis, kTypeA, edns);
  AppendBytes(two_opts, EncodeOptRecord(edns));
  SetArcount(two_opts, 2);
  out.push_back(two_opts);
  std::vector<uint8_t> cut = BuildQuery(kRedis, kTypeA);
  cut.resize(20);
  out.push_back(cut);
  out.push_back(Header(0));
  out.push_back(BuildQuery(kRedis, records::kTypeOpt));
  out.push_back(BuildQuery("kube-dns.kube-system.svc.cluster.local", records::kTypeAny, edns));
  out.push_back(BuildQuery("web-0.nginx.default.svc.cluster.local", kTypeA));
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].size() >= 2) SetId(out[i], static_cast<uint16_t>(0x100 + i));
  }
  return out;
}

TEST_F(RespondRulesTest, BurstGivesTheSameBytesAsRespond) {
  const std::vector<std::vector<uint8_t>> queries = MixedBurst();
  ASSERT_EQ(queries.size(), records::kMaxBurst);
  records::RespondOptions refuse;
  records::RespondOptions forward;
  forward.refuse_outside_zones = false;
  forward.recursion_available = true;
  records::RespondOptions tcp = forward;
  tcp.transport = records::Transport::kTcp;
  for (const records::RespondOptions& options : {refuse, forward, tcp}) {
    const uint16_t cap = options.transport == records::Transport::kTcp ? 8192 : 1232;
    for (size_t n : {size_t{1}, size_t{7}, records::kMaxBurst}) {
      SCOPED_TRACE(std::to_string(n) + (options.refuse_outside_zones ? " refuse" : " forward") +
                   (options.transport == records::Transport::kTcp ? " tcp" : " udp"));
      std::vector<std::vector<uint8_t>> burst_bufs(n), single_bufs(n);
      std::vector<records::RespondJob> jobs(n);
      for (size_t i = 0; i < n; ++i) {
        burst_bufs[i] = queries[i];
        burst_bufs[i].resize(cap, 0xee);
        single_bufs[i] = burst_bufs[i];
        jobs[i] = records::RespondJob{burst_bufs[i].data(),
                                      static_cast<uint16_t>(queries[i].size()), cap,
                                      records::RespondResult{}};
      }
      records::RespondBurst(table(), jobs.data(), n, options);
      int verdicts[3] = {0, 0, 0};
      for (size_t i = 0; i < n; ++i) {
        SCOPED_TRACE(i);
        const records::RespondResult single =
            records::Respond(table(), single_bufs[i].data(), queries[i].size(), cap, options);
        const records::RespondResult& burst = jobs[i].result;
        ExpectSameResult(burst, single);
        EXPECT_EQ(burst_bufs[i], single_bufs[i]);  // the whole buffer, response and beyond
        ++verdicts[static_cast<int>(single.verdict)];
        if (single.verdict == records::Verdict::kReply) {
          auto m = DecodeMessage(single_bufs[i].data(), single.size);
          EXPECT_TRUE(m.ok()) << m.status();
        } else {
          EXPECT_TRUE(std::equal(queries[i].begin(), queries[i].end(), burst_bufs[i].begin()));
        }
      }
      if (n == records::kMaxBurst) {
        // The burst really is mixed.
        EXPECT_GT(verdicts[static_cast<int>(records::Verdict::kReply)], 20);
        EXPECT_EQ(verdicts[static_cast<int>(records::Verdict::kDrop)], 2);
        EXPECT_EQ(verdicts[static_cast<int>(records::Verdict::kForward)],
                  options.refuse_outside_zones ? 0 : 2);
      }
    }
  }
}

}  // namespace
}  // namespace clusterdns::testing
