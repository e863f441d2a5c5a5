// The Forwarder against fake upstreams on loopback: relaying, query IDs, timeouts and the next
// upstream, ICMP errors, the deadline, the in-flight cap, Stop(). Short timeouts (100 ms tries,
// 400 ms deadline) keep each test well under a second.
#include "controlplane/forward/forwarder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "absl/strings/str_cat.h"
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
using controlplane::ServfailCause;
using ::testing::ElementsAre;

constexpr int kTryMs = 100;
constexpr int kDeadlineMs = 400;
// Scheduling slack on a loaded 2-core machine (and under ASan).
constexpr int kSlackMs = 250;

ForwarderOptions Fast(std::vector<UpstreamAddress> upstreams) {
  ForwarderOptions o;
  o.upstreams = std::move(upstreams);
  o.try_timeout = absl::Milliseconds(kTryMs);
  o.deadline = absl::Milliseconds(kDeadlineMs);
  return o;
}

QueryOptions WithId(uint16_t id) {
  QueryOptions o;
  o.id = id;
  return o;
}

FakeUpstream::Handler AnswerAll(AnswerSpec spec = {}) {
  return [spec](const std::vector<uint8_t>& q, bool) {
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, spec)}};
  };
}

uint16_t IdOf(const std::vector<uint8_t>& message) {
  return static_cast<uint16_t>(message.at(0) << 8 | message.at(1));
}

// Asserts the SERVFAIL the forwarder writes itself for `query` (sent with id 0xbeef, RD).
void ExpectServfail(const std::vector<uint8_t>& reply, const std::string& qname) {
  const DecodedMessage m = DecodeOrFail(reply);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_TRUE(m.rd);
  EXPECT_TRUE(m.ra);
  EXPECT_FALSE(m.aa);
  EXPECT_EQ(m.rcode, records::kRcodeServFail);
  ASSERT_EQ(m.question.size(), 1u);
  EXPECT_EQ(m.question[0].name, qname);  // the client's case
  EXPECT_TRUE(m.answer.empty());
}

TEST(Forwarder, RelaysTheAnswerWithTheClientsIdAndCase) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  AnswerSpec spec;
  spec.lowercase_question = true;  // an upstream that does not keep the case
  up.SetHandler(AnswerAll(spec));
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());

  ASSERT_TRUE(forwarder.Submit(
      replies.Request(BuildQuery("WwW.ExAmPlE.CoM", records::kTypeA, WithId(0xbeef)))));
  ASSERT_TRUE(replies.WaitFor(1));
  const ReplyCollector::Entry e = replies.at(0);
  EXPECT_NE(e.thread, std::this_thread::get_id());  // on the forwarder's thread
  const DecodedMessage m = DecodeOrFail(e.bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  ASSERT_EQ(m.question.size(), 1u);
  EXPECT_EQ(m.question[0].name, "WwW.ExAmPlE.CoM.");
  // The answer's owner is compressed to the question: it reads in the client's case too.
  EXPECT_THAT(Answers(m), ElementsAre("WwW.ExAmPlE.CoM. 300 IN A 198.18.100.1"));

  // Upstream saw the same question bytes (case kept) under its own ID.
  const auto sent = up.udp_queries();
  ASSERT_EQ(sent.size(), 1u);
  const DecodedMessage q = DecodeOrFail(sent[0]);
  EXPECT_EQ(q.question[0].name, "WwW.ExAmPlE.CoM.");

  EXPECT_TRUE(Eventually([&] { return ReadCounter(forwarder.stats().in_flight) == 0; }));
  EXPECT_EQ(ReadCounter(forwarder.stats().requests), 1u);
  EXPECT_EQ(ReadCounter(forwarder.stats().relayed), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).queries_sent), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).answers), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).timeouts), 0u);
}

// Relayed answers go to the cache, but not those to DO or CD queries, even from an upstream that
// echoes neither (this fake, like Knot 3.2, does not copy CD; found by e2e.clusterdns_cache).
TEST(Forwarder, OffersAnswersToPlainQueriesOnlyToTheCache) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  up.SetHandler(AnswerAll());
  records::NoReadersGracePeriod grace;
  records::AnswerCache cache(records::AnswerCacheOptions{}, &grace);
  ReplyCollector replies;
  ForwarderOptions options = Fast({up.address()});
  options.cache = &cache;
  Forwarder forwarder(options);
  ASSERT_TRUE(forwarder.Start().ok());

  std::vector<uint8_t> cd = BuildQuery("cd.example.com", records::kTypeA);
  SetFlags(cd, records::kFlagRd | records::kFlagCd);
  QueryOptions dnssec;
  dnssec.edns = true;
  dnssec.edns_do = true;
  ASSERT_TRUE(forwarder.Submit(replies.Request(cd)));
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("do.example.com", records::kTypeA, dnssec))));
  ASSERT_TRUE(replies.WaitFor(2));
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(ReadCounter(forwarder.stats().relayed), 2u);

  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("plain.example.com", records::kTypeA))));
  ASSERT_TRUE(replies.WaitFor(3));
  EXPECT_EQ(cache.entries(), 1u);  // offered before the reply was delivered
  EXPECT_EQ(cache.stats().inserts.load(), 1u);
}

TEST(Forwarder, QueryIdsAreRandomAndUniqueAmongTheInFlight) {
  FakeUpstream up;  // silent: every query stays in flight
  ASSERT_TRUE(up.ok());
  ForwarderOptions o = Fast({up.address()});
  o.try_timeout = o.deadline;  // one try each
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.local_address(AF_INET).has_value());
  EXPECT_NE(forwarder.local_address(AF_INET)->port(), 0);  // the kernel's ephemeral port

  constexpr int kQueries = 64;
  for (int i = 0; i < kQueries; ++i) {
    ASSERT_TRUE(forwarder.Submit(replies.Request(
        BuildQuery(absl::StrCat("q", i, ".example.com"), records::kTypeA,
                   WithId(static_cast<uint16_t>(i))),
        static_cast<size_t>(i))));
  }
  ASSERT_TRUE(Eventually([&] { return up.udp_count() == kQueries; }));
  std::vector<uint16_t> ids;
  for (const auto& q : up.udp_queries()) ids.push_back(IdOf(q));
  EXPECT_EQ(std::set<uint16_t>(ids.begin(), ids.end()).size(), ids.size()) << "IDs repeat";
  int sequential = 0;
  int client_ids_kept = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0 && ids[i] == static_cast<uint16_t>(ids[i - 1] + 1)) ++sequential;
    if (ids[i] < kQueries) ++client_ids_kept;
  }
  // Random 16-bit draws: a few coincidences at most (expected < 0.1 of each).
  EXPECT_LE(sequential, 2);
  EXPECT_LE(client_ids_kept, 2);
  ASSERT_TRUE(replies.WaitFor(kQueries, kDeadlineMs + 2000));
  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kDeadline),
            static_cast<uint64_t>(kQueries));
}

TEST(Forwarder, SilentFirstUpstreamThenTheSecondAnswers) {
  FakeUpstream silent;
  FakeUpstream good;
  ASSERT_TRUE(silent.ok() && good.ok());
  good.SetHandler(AnswerAll());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({silent.address(), good.address()}));
  ASSERT_TRUE(forwarder.Start().ok());

  const auto start = ReplyCollector::Clock::now();
  // The round-robin position starts at the first upstream: the silent one.
  ASSERT_TRUE(forwarder.Submit(
      replies.Request(BuildQuery("example.com", records::kTypeA, WithId(0xbeef)))));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_THAT(Answers(m), ElementsAre("example.com. 300 IN A 198.18.100.1"));
  const int64_t elapsed = MillisBetween(start, replies.at(0).at);
  EXPECT_GE(elapsed, kTryMs - 5);
  EXPECT_LT(elapsed, kDeadlineMs);
  EXPECT_EQ(silent.udp_count(), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).timeouts), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).consecutive_failures), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(1).answers), 1u);

  // Healthiest first: the next query goes straight to the good upstream.
  const auto second = ReplyCollector::Clock::now();
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("example.org", records::kTypeA))));
  ASSERT_TRUE(replies.WaitFor(2));
  EXPECT_LT(MillisBetween(second, replies.at(1).at), kTryMs);
  EXPECT_EQ(silent.udp_count(), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(1).queries_sent), 2u);
}

TEST(Forwarder, AllSilentGivesServfailWithinTheDeadline) {
  FakeUpstream a;
  FakeUpstream b;
  ASSERT_TRUE(a.ok() && b.ok());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({a.address(), b.address()}));
  ASSERT_TRUE(forwarder.Start().ok());

  const auto start = ReplyCollector::Clock::now();
  ASSERT_TRUE(forwarder.Submit(
      replies.Request(BuildQuery("Silent.Example.COM", records::kTypeAaaa, WithId(0xbeef)))));
  ASSERT_TRUE(replies.WaitFor(1, kDeadlineMs + 2000));
  const int64_t elapsed = MillisBetween(start, replies.at(0).at);
  EXPECT_GE(elapsed, kDeadlineMs - 5);
  EXPECT_LE(elapsed, kDeadlineMs + kSlackMs);
  ExpectServfail(replies.at(0).bytes, "Silent.Example.COM.");

  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kDeadline), 1u);
  EXPECT_EQ(ReadCounter(forwarder.stats().in_flight), 0u);
  // Tries alternate a, b, a, b, ... every 100 ms; every one timed out.
  EXPECT_GE(a.udp_count(), 1u);
  EXPECT_GE(b.udp_count(), 1u);
  const uint64_t sent = ReadCounter(forwarder.upstream_stats(0).queries_sent) +
                        ReadCounter(forwarder.upstream_stats(1).queries_sent);
  const uint64_t timeouts = ReadCounter(forwarder.upstream_stats(0).timeouts) +
                            ReadCounter(forwarder.upstream_stats(1).timeouts);
  EXPECT_GE(sent, 3u);
  EXPECT_LE(sent, 4u);
  EXPECT_EQ(timeouts, sent);
  EXPECT_EQ(a.udp_count() + b.udp_count(), sent);
}

TEST(Forwarder, AnswerToAnEarlierTryStillCompletesTheQuery) {
  FakeUpstream slow;  // answers after 1.5 try timeouts
  FakeUpstream silent;
  ASSERT_TRUE(slow.ok() && silent.ok());
  slow.SetHandler([](const std::vector<uint8_t>& q, bool) {
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, {}), false, kTryMs * 3 / 2}};
  });
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({slow.address(), silent.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("late.example", records::kTypeA))));
  ASSERT_TRUE(replies.WaitFor(1));
  EXPECT_EQ(DecodeOrFail(replies.at(0).bytes).rcode, records::kRcodeNoError);
  EXPECT_EQ(silent.udp_count(), 1u);  // the second try was made...
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).answers), 1u);  // ...the first one answered
  EXPECT_EQ(forwarder.stats().dropped_for(ForwardDropReason::kSpoofedId), 0u);
}

TEST(Forwarder, IcmpUnreachableMovesOnAtOnce) {
  FakeUpstream good;
  ASSERT_TRUE(good.ok());
  good.SetHandler(AnswerAll());
  ForwarderOptions o = Fast({ClosedUdpPort(), good.address()});
  o.try_timeout = absl::Seconds(2);  // only the ICMP error can move on before the test ends
  o.deadline = absl::Seconds(4);
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());
  const auto start = ReplyCollector::Clock::now();
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("example.com", records::kTypeA))));
  ASSERT_TRUE(replies.WaitFor(1, 1000));
  EXPECT_LT(MillisBetween(start, replies.at(0).at), 500);
  EXPECT_EQ(DecodeOrFail(replies.at(0).bytes).rcode, records::kRcodeNoError);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).errors), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).timeouts), 0u);
}

TEST(Forwarder, EveryUpstreamUnreachableGivesServfailAtOnce) {
  ForwarderOptions o = Fast({ClosedUdpPort(AF_INET), ClosedUdpPort(AF_INET6)});
  o.try_timeout = absl::Seconds(2);
  o.deadline = absl::Seconds(4);
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(
      replies.Request(BuildQuery("Nowhere.Example", records::kTypeA, WithId(0xbeef)))));
  ASSERT_TRUE(replies.WaitFor(1, 1000));
  ExpectServfail(replies.at(0).bytes, "Nowhere.Example.");
  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kUnreachable), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).errors), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(1).errors), 1u);
}

TEST(Forwarder, BeyondTheCapServfailAtOnceAndNothingLeaks) {
  FakeUpstream silent;
  ASSERT_TRUE(silent.ok());
  ForwarderOptions o = Fast({silent.address()});
  o.max_in_flight = 4;
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());

  constexpr size_t kQueries = 10;
  const auto start = ReplyCollector::Clock::now();
  for (size_t i = 0; i < kQueries; ++i) {
    ASSERT_TRUE(forwarder.Submit(
        replies.Request(BuildQuery("Cap.Example", records::kTypeA, WithId(0xbeef)), i)));
  }
  // The six over the cap: SERVFAIL long before any deadline.
  ASSERT_TRUE(replies.WaitFor(kQueries - 4, kDeadlineMs / 2));
  EXPECT_LT(MillisBetween(start, ReplyCollector::Clock::now()), kDeadlineMs);
  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kCap), kQueries - 4);
  EXPECT_EQ(ReadCounter(forwarder.stats().in_flight), 4u);
  for (const auto& e : replies.entries()) ExpectServfail(e.bytes, "Cap.Example.");

  // The four in flight end at their deadline; then nothing is held.
  ASSERT_TRUE(replies.WaitFor(kQueries, kDeadlineMs + 2000));
  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kDeadline), 4u);
  EXPECT_EQ(ReadCounter(forwarder.stats().in_flight), 0u);
  std::set<size_t> tags;
  for (const auto& e : replies.entries()) tags.insert(e.tag);
  EXPECT_EQ(tags.size(), kQueries) << "each request answered exactly once";

  // Room again: a new query is admitted (and sent) rather than refused.
  const size_t before = silent.udp_count();
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("again.example", records::kTypeA))));
  EXPECT_TRUE(Eventually([&] { return silent.udp_count() == before + 1; }));
  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kCap), kQueries - 4);
}

TEST(Forwarder, StopAnswersEverythingInFlightAndRefusesLaterSubmits) {
  FakeUpstream silent;
  ASSERT_TRUE(silent.ok());
  ForwarderOptions o = Fast({silent.address()});
  o.try_timeout = absl::Seconds(10);
  o.deadline = absl::Seconds(20);
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(o);
  ASSERT_TRUE(forwarder.Start().ok());
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(forwarder.Submit(
        replies.Request(BuildQuery("Stop.Example", records::kTypeA, WithId(0xbeef)), i)));
  }
  ASSERT_TRUE(Eventually([&] { return silent.udp_count() == 3; }));
  forwarder.Stop();
  ASSERT_EQ(replies.size(), 3u);  // before Stop returned
  for (const auto& e : replies.entries()) ExpectServfail(e.bytes, "Stop.Example.");
  EXPECT_EQ(forwarder.stats().servfail_for(ServfailCause::kStopped), 3u);
  EXPECT_EQ(ReadCounter(forwarder.stats().in_flight), 0u);
  EXPECT_FALSE(forwarder.Submit(replies.Request(BuildQuery("late.example", records::kTypeA))));
  forwarder.Stop();  // idempotent
  EXPECT_EQ(replies.size(), 3u);
}

TEST(Forwarder, SubmitBeforeStartIsRefused) {
  FakeUpstream up;
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({up.address()}));
  EXPECT_FALSE(forwarder.Submit(replies.Request(BuildQuery("example.com", records::kTypeA))));
  EXPECT_EQ(replies.size(), 0u);
}

TEST(Forwarder, StartChecksItsOptions) {
  EXPECT_FALSE(Forwarder(ForwarderOptions{}).Start().ok());  // no upstream
  FakeUpstream up;
  ForwarderOptions o = Fast({up.address()});
  o.max_in_flight = 0;
  EXPECT_FALSE(Forwarder(o).Start().ok());
  o = Fast({up.address()});
  o.try_timeout = absl::ZeroDuration();
  EXPECT_FALSE(Forwarder(o).Start().ok());
  auto twice_listed = Forwarder(Fast({up.address(), up.address()})).Start();
  EXPECT_THAT(std::string(twice_listed.message()), ::testing::HasSubstr("listed twice"));
  Forwarder twice(Fast({up.address()}));
  ASSERT_TRUE(twice.Start().ok());
  EXPECT_FALSE(twice.Start().ok());
}

TEST(Forwarder, UnparsableQueryGetsFormErr) {
  FakeUpstream up;
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  std::vector<uint8_t> query = BuildQuery("example.com", records::kTypeA, WithId(0xbeef));
  SetQdcount(query, 2);
  ASSERT_TRUE(forwarder.Submit(replies.Request(query)));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_EQ(m.rcode, records::kRcodeFormErr);
  EXPECT_EQ(ReadCounter(forwarder.stats().formerr), 1u);
  EXPECT_EQ(up.udp_count(), 0u);
}

TEST(Forwarder, ACallbackThatThrowsIsContained) {
  FakeUpstream up;
  up.SetHandler(AnswerAll());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  controlplane::ForwardRequest r;
  r.query = BuildQuery("example.com", records::kTypeA);
  r.reply = [](std::span<const uint8_t>) { throw std::runtime_error("caller bug"); };
  ASSERT_TRUE(forwarder.Submit(std::move(r)));
  EXPECT_TRUE(Eventually([&] { return ReadCounter(forwarder.stats().callback_errors) == 1; }));
  // Still serving.
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("example.org", records::kTypeA))));
  EXPECT_TRUE(replies.WaitFor(1));
}

TEST(Forwarder, RelaysOverIpv6) {
  FakeUpstream up(AF_INET6);
  ASSERT_TRUE(up.ok());
  up.SetHandler(AnswerAll());
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Fast({up.address()}));
  ASSERT_TRUE(forwarder.Start().ok());
  EXPECT_FALSE(forwarder.local_address(AF_INET).has_value());  // no IPv4 upstream, no socket
  ASSERT_TRUE(forwarder.Submit(
      replies.Request(BuildQuery("v6.Example", records::kTypeA, WithId(0xbeef)))));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_THAT(Answers(m), ElementsAre("v6.Example. 300 IN A 198.18.100.1"));
}

}  // namespace
}  // namespace clusterdns::testing
