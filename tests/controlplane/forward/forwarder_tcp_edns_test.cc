// Truncated upstream answers (TCP retry) and EDNS pass-through.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/forward/forwarder.h"
#include "records/dns_constants.h"
#include "tests/controlplane/forward/fake_upstream.h"
#include "tests/controlplane/forward/reply_collector.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using controlplane::ForwardDropReason;
using controlplane::Forwarder;
using controlplane::ForwarderOptions;
using controlplane::ReadCounter;
using records::Transport;

constexpr int kBigAnswerRecords = 100;  // 100 A records: ~1.6 KB, more than any UDP limit here

ForwarderOptions Options(const std::vector<UpstreamAddress>& upstreams) {
  ForwarderOptions o;
  o.upstreams = upstreams;
  o.try_timeout = absl::Milliseconds(300);
  o.deadline = absl::Milliseconds(600);
  return o;
}

// UDP: TC and no records; TCP: the whole answer. `tcp_spec` can corrupt the TCP answer.
FakeUpstream::Handler TruncatingUpstream(AnswerSpec tcp_spec = {}) {
  tcp_spec.a_records = kBigAnswerRecords;
  return [tcp_spec](const std::vector<uint8_t>& q, bool tcp) {
    if (tcp) return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, tcp_spec)}};
    AnswerSpec truncated;
    truncated.tc = true;
    truncated.a_records = 0;
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, truncated)}};
  };
}

QueryOptions WithId(uint16_t id) {
  QueryOptions o;
  o.id = id;
  return o;
}

TEST(ForwarderTcp, TruncatedAnswerIsRetriedOverTcpForTheFullAnswer) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  up.SetHandler(TruncatingUpstream());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  // A TCP client: it can take the whole answer.
  ASSERT_TRUE(forwarder.Submit(replies.Request(
      BuildQuery("Big.Example", records::kTypeA, WithId(0xbeef)), 0, Transport::kTcp)));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_FALSE(m.tc);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_EQ(m.question.at(0).name, "Big.Example.");
  ASSERT_EQ(m.answer.size(), static_cast<size_t>(kBigAnswerRecords));
  EXPECT_EQ(RecordToText(m.answer[0]), "Big.Example. 300 IN A 198.18.100.1");

  ASSERT_EQ(up.tcp_queries().size(), 1u);
  EXPECT_EQ(DecodeOrFail(up.tcp_queries()[0]).question.at(0).name, "Big.Example.");
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).tcp_retries), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).answers), 2u);  // the TC one and the TCP one
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).errors), 0u);
  EXPECT_EQ(ReadCounter(forwarder.stats().in_flight), 0u);
}

TEST(ForwarderTcp, AnswerLargerThanAUdpClientTakesIsSentTruncated) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  up.SetHandler(TruncatingUpstream());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(
      replies.Request(BuildQuery("Big.Example", records::kTypeA, WithId(0xbeef)))));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.tc);  // the client asks us again over TCP
  EXPECT_TRUE(m.answer.empty());
  EXPECT_EQ(m.question.at(0).name, "Big.Example.");
  EXPECT_LE(replies.at(0).bytes.size(), records::kMaxUdpPayloadWithoutEdns);
  EXPECT_EQ(ReadCounter(forwarder.stats().truncated_for_client), 1u);
}

TEST(ForwarderTcp, TcpRefusedRelaysTheTruncatedAnswer) {
  FakeUpstream up(AF_INET, /*tcp=*/false);
  ASSERT_TRUE(up.ok());
  up.SetHandler(TruncatingUpstream());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(replies.Request(
      BuildQuery("Big.Example", records::kTypeA, WithId(0xbeef)), 0, Transport::kTcp)));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.tc);  // better than SERVFAIL: the client can still try TCP itself
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).errors), 1u);
  EXPECT_EQ(forwarder.stats().servfail_for(controlplane::ServfailCause::kUnreachable), 0u);
}

TEST(ForwarderTcp, SilentTcpTimesOutAndTheTruncatedAnswerIsRelayed) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  // Over TCP the answer comes only after 400 ms: past the 100 ms try timeout.
  up.SetHandler([](const std::vector<uint8_t>& q, bool tcp) {
    AnswerSpec spec;
    spec.tc = !tcp;
    spec.a_records = tcp ? kBigAnswerRecords : 0;
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, spec), false, tcp ? 400 : 0}};
  });
  ForwarderOptions o = Options({up.address()});
  o.try_timeout = absl::Milliseconds(100);
  o.deadline = absl::Milliseconds(1000);
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());
  const auto start = ReplyCollector::Clock::now();
  ASSERT_TRUE(forwarder.Submit(replies.Request(
      BuildQuery("Big.Example", records::kTypeA, WithId(0xbeef)), 0, Transport::kTcp)));
  ASSERT_TRUE(replies.WaitFor(1));
  EXPECT_LT(MillisBetween(start, replies.at(0).at), 350);  // not the deadline, not the answer
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_TRUE(m.tc);
  EXPECT_TRUE(m.answer.empty());
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).tcp_retries), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).timeouts), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).errors), 0u);
}

TEST(ForwarderTcp, WrongQuestionOverTcpIsDroppedAndTheNextUpstreamAsked) {
  FakeUpstream liar;
  FakeUpstream good;
  ASSERT_TRUE(liar.ok() && good.ok());
  AnswerSpec wrong;
  wrong.qname = "other.example";
  liar.SetHandler(TruncatingUpstream(wrong));
  good.SetHandler([](const std::vector<uint8_t>& q, bool) {
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, {})}};
  });
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options({liar.address(), good.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(replies.Request(
      BuildQuery("Big.Example", records::kTypeA, WithId(0xbeef)), 0, Transport::kTcp)));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_FALSE(m.tc);
  ASSERT_EQ(m.answer.size(), 1u);
  EXPECT_EQ(forwarder.stats().dropped_for(ForwardDropReason::kSpoofedQuestion), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(1).answers), 1u);
}

TEST(ForwarderEdns, TheClientsOptGoesUpstreamAsIsAndTheUpstreamsComesBack) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  // The upstream's own OPT: another size, DO, and an option of its own.
  QueryOptions upstream_opt;
  upstream_opt.edns_udp_size = 4000;
  upstream_opt.edns_do = true;
  upstream_opt.edns_options = {{65001, {'u', 'p'}}};
  AnswerSpec spec;
  spec.opt = EncodeOptRecord(upstream_opt);
  up.SetHandler([spec](const std::vector<uint8_t>& q, bool) {
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, spec)}};
  });
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());

  QueryOptions qo;
  qo.id = 0xbeef;
  qo.edns = true;
  qo.edns_udp_size = 1400;
  qo.edns_do = true;
  qo.edns_options = {{10, {1, 2, 3, 4, 5, 6, 7, 8}}};  // a client cookie
  const std::vector<uint8_t> query = BuildQuery("Edns.Example", records::kTypeA, qo);
  ASSERT_TRUE(forwarder.Submit(replies.Request(query)));
  ASSERT_TRUE(replies.WaitFor(1));

  // Upstream got the client's bytes with only the ID changed.
  ASSERT_EQ(up.udp_queries().size(), 1u);
  const std::vector<uint8_t> sent = up.udp_queries()[0];
  ASSERT_EQ(sent.size(), query.size());
  EXPECT_TRUE(std::equal(sent.begin() + 2, sent.end(), query.begin() + 2));

  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  ASSERT_TRUE(m.opt.has_value());
  EXPECT_EQ(RecordToText(*m.opt), ". OPT udp=4000 do=1 version=0 extrcode=0 options=1");
  const std::vector<uint8_t> want_rdata = {0xfd, 0xe9, 0, 2, 'u', 'p'};
  EXPECT_EQ(m.opt->rdata_raw, want_rdata);
}

TEST(ForwarderEdns, ServfailCarriesAnOptWhenTheQueryHadOne) {
  FakeUpstream silent;
  ASSERT_TRUE(silent.ok());
  ForwarderOptions o = Options({silent.address()});
  o.try_timeout = absl::Milliseconds(50);
  o.deadline = absl::Milliseconds(100);
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());
  QueryOptions qo;
  qo.edns = true;
  qo.edns_do = true;
  qo.edns_options = {{10, {1, 2, 3, 4, 5, 6, 7, 8}}};
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("Edns.Example", records::kTypeA, qo))));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.rcode, records::kRcodeServFail);
  ASSERT_TRUE(m.opt.has_value());
  // As respond() answers: our size, DO copied, no options (the client's cookie is not ours).
  EXPECT_EQ(RecordToText(*m.opt), ". OPT udp=1232 do=1 version=0 extrcode=0 options=0");
}

}  // namespace
}  // namespace clusterdns::testing
