// The forwarder's message work, checked with the independent decoder of tests/support.
#include "controlplane/forward/forward_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "records/dns_constants.h"
#include "tests/controlplane/forward/fake_upstream.h"
#include "tests/controlplane/forward/reply_collector.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using controlplane::AnswerCheck;
using controlplane::BuildErrorReply;
using controlplane::BuildFormErr;
using controlplane::BuildRelay;
using controlplane::BuildTruncatedReply;
using controlplane::CheckAnswer;
using controlplane::ClientQuery;
using controlplane::ParseClientQuery;
using controlplane::ReplyLimit;
using records::Transport;

ClientQuery ParseOrFail(const std::vector<uint8_t>& q) {
  auto p = ParseClientQuery(q);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ClientQuery{};
}

TEST(ParseClientQuery, ReadsTheQuestionAndTheOpt) {
  QueryOptions o;
  o.id = 0xbeef;
  o.edns = true;
  o.edns_do = true;
  o.edns_udp_size = 4096;
  const std::vector<uint8_t> q = BuildQuery("WWW.Example.com", records::kTypeAaaa, o);
  const ClientQuery c = ParseOrFail(q);
  EXPECT_EQ(c.id, 0xbeef);
  EXPECT_EQ(c.qtype, records::kTypeAaaa);
  EXPECT_EQ(c.qclass, records::kClassIn);
  EXPECT_EQ(c.folded_qname, std::string("\3www\7example\3com\0", 17));
  EXPECT_EQ(c.question_end, 12u + 17u + 4u);
  EXPECT_TRUE(c.has_opt);
  EXPECT_TRUE(c.edns_do);
  EXPECT_EQ(c.edns_udp_size, 4096);
  EXPECT_EQ(ReplyLimit(c, Transport::kUdp), 4096u);
  EXPECT_EQ(ReplyLimit(c, Transport::kTcp), 65535u);
}

TEST(ParseClientQuery, ReplyLimitWithoutEdnsOrWithATinyOne) {
  EXPECT_EQ(ReplyLimit(ParseOrFail(BuildQuery("a.example", 1)), Transport::kUdp), 512u);
  QueryOptions o;
  o.edns = true;
  o.edns_udp_size = 100;  // RFC 6891: below 512 counts as 512
  EXPECT_EQ(ReplyLimit(ParseOrFail(BuildQuery("a.example", 1, o)), Transport::kUdp), 512u);
}

TEST(ParseClientQuery, RejectsWhatCannotBeRelayed) {
  EXPECT_FALSE(ParseClientQuery(std::vector<uint8_t>(11, 0)).ok());
  std::vector<uint8_t> q = BuildQuery("a.example", 1);
  SetFlags(q, records::kFlagQr);
  EXPECT_FALSE(ParseClientQuery(q).ok());
  q = BuildQuery("a.example", 1);
  SetQdcount(q, 0);
  EXPECT_FALSE(ParseClientQuery(q).ok());
  q = BuildQuery("a.example", 1);
  q = std::vector<uint8_t>(q.begin(), q.end() - 3);  // class cut
  EXPECT_FALSE(ParseClientQuery(q).ok());
  q = BuildQuery("a.example", 1);
  SetArcount(q, 1);  // a record that is not there
  auto p = ParseClientQuery(q);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), ::testing::HasSubstr("truncated"));
}

TEST(CheckAnswer, MatchesTheQuestionWithoutCase) {
  const std::vector<uint8_t> q = BuildQuery("WwW.Example.COM", records::kTypeA);
  const ClientQuery c = ParseOrFail(q);
  AnswerSpec lower;
  lower.lowercase_question = true;
  EXPECT_EQ(CheckAnswer(c, MakeAnswer(q, lower)), AnswerCheck::kOk);
  AnswerSpec other;
  other.qname = "www.example.net";
  EXPECT_EQ(CheckAnswer(c, MakeAnswer(q, other)), AnswerCheck::kQuestionMismatch);
  EXPECT_EQ(CheckAnswer(c, MakeAnswer(BuildQuery("WwW.Example.COM", records::kTypeAaaa), {})),
            AnswerCheck::kQuestionMismatch);
  QueryOptions chaos;
  chaos.klass = 3;
  EXPECT_EQ(CheckAnswer(c, MakeAnswer(BuildQuery("WwW.Example.COM", records::kTypeA, chaos), {})),
            AnswerCheck::kQuestionMismatch);
  AnswerSpec not_response;
  not_response.qr = false;
  EXPECT_EQ(CheckAnswer(c, MakeAnswer(q, not_response)), AnswerCheck::kMalformed);
  const std::vector<uint8_t> full = MakeAnswer(q, {});
  const std::vector<uint8_t> cut(full.begin(), full.begin() + 14);
  EXPECT_EQ(CheckAnswer(c, cut), AnswerCheck::kMalformed);
}

TEST(BuildRelay, PutsBackTheClientsIdAndQuestionBytes) {
  QueryOptions o;
  o.id = 0xbeef;
  const std::vector<uint8_t> q = BuildQuery("WwW.Example.COM", records::kTypeA, o);
  AnswerSpec spec;
  spec.lowercase_question = true;
  spec.id = 0x1111;
  spec.a_records = 2;
  const std::vector<uint8_t> answer = MakeAnswer(q, spec);
  const std::vector<uint8_t> relay = BuildRelay(ParseOrFail(q), q, answer);
  ASSERT_EQ(relay.size(), answer.size());
  const DecodedMessage m = DecodeOrFail(relay);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_EQ(m.question.at(0).name, "WwW.Example.COM.");
  EXPECT_EQ(Answers(m), (std::vector<std::string>{"WwW.Example.COM. 300 IN A 198.18.100.1",
                                                  "WwW.Example.COM. 300 IN A 198.18.100.2"}));
  // Everything after the question is the upstream's, byte for byte.
  EXPECT_TRUE(std::equal(relay.begin() + 2, relay.begin() + 12, answer.begin() + 2));
  const size_t qend = q.size();
  EXPECT_TRUE(std::equal(relay.begin() + qend, relay.end(), answer.begin() + qend));
}

TEST(BuildErrorReply, ServfailEchoesTheQuestionAndAddsOurOpt) {
  QueryOptions o;
  o.id = 0xbeef;
  o.rd = false;
  o.edns = true;
  o.edns_options = {{10, {1, 2, 3, 4, 5, 6, 7, 8}}};
  const std::vector<uint8_t> q = BuildQuery("Fail.Example", records::kTypeTxt, o);
  const DecodedMessage m =
      DecodeOrFail(BuildErrorReply(ParseOrFail(q), q, records::kRcodeServFail));
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_FALSE(m.rd);
  EXPECT_TRUE(m.ra);
  EXPECT_EQ(m.rcode, records::kRcodeServFail);
  EXPECT_EQ(m.question.at(0).name, "Fail.Example.");
  EXPECT_EQ(m.question.at(0).type, records::kTypeTxt);
  ASSERT_TRUE(m.opt.has_value());
  EXPECT_EQ(RecordToText(*m.opt), ". OPT udp=1232 do=0 version=0 extrcode=0 options=0");

  const std::vector<uint8_t> plain = BuildQuery("Fail.Example", records::kTypeA);
  const DecodedMessage p =
      DecodeOrFail(BuildErrorReply(ParseOrFail(plain), plain, records::kRcodeServFail));
  EXPECT_TRUE(p.rd);
  EXPECT_FALSE(p.opt.has_value());
  EXPECT_EQ(p.arcount, 0);
}

TEST(BuildTruncatedReply, KeepsTheAnswersFlagsAndDropsItsRecords) {
  const std::vector<uint8_t> q = BuildQuery("Big.Example", records::kTypeA);
  AnswerSpec spec;
  spec.a_records = 50;
  const DecodedMessage m =
      DecodeOrFail(BuildTruncatedReply(ParseOrFail(q), q, MakeAnswer(q, spec)));
  EXPECT_TRUE(m.tc);
  EXPECT_TRUE(m.qr);
  EXPECT_TRUE(m.ra);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_TRUE(m.answer.empty());
  EXPECT_EQ(m.question.at(0).name, "Big.Example.");
}

TEST(BuildFormErr, HeaderOnlyWithTheClientsId) {
  std::vector<uint8_t> q = BuildQuery("a.example", 1);
  SetId(q, 0xbeef);
  SetQdcount(q, 3);
  const DecodedMessage m = DecodeOrFail(BuildFormErr(q));
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_TRUE(m.rd);
  EXPECT_EQ(m.rcode, records::kRcodeFormErr);
  EXPECT_EQ(m.qdcount, 0);
  EXPECT_EQ(BuildFormErr(std::vector<uint8_t>{0x12}).size(), 12u);  // no ID to copy: still a header
}

}  // namespace
}  // namespace clusterdns::testing
