// Answers the Forwarder must not take: a wrong ID, a wrong question, another source port, junk.
// Each is sent BEFORE the real answer, carrying a different address, so a forwarder that took it
// would relay the wrong record; the real answer must still get through.
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
using ::testing::ElementsAre;

constexpr char kRealAnswer[] = "Spoof.Example. 300 IN A 198.18.100.1";

ForwarderOptions Options(const UpstreamAddress& upstream) {
  ForwarderOptions o;
  o.upstreams = {upstream};
  o.try_timeout = absl::Milliseconds(300);
  o.deadline = absl::Milliseconds(600);
  return o;
}

// Sends what `forged` builds for each query first, then the real answer.
FakeUpstream::Handler ForgedThenReal(
    std::function<std::vector<FakeUpstream::Reply>(const std::vector<uint8_t>&)> forged) {
  return [forged](const std::vector<uint8_t>& q, bool) {
    std::vector<FakeUpstream::Reply> out = forged(q);
    out.push_back({MakeAnswer(q, {})});
    return out;
  };
}

AnswerSpec Forged() {
  AnswerSpec s;
  s.first_octet = 66;  // 198.18.100.66: must never reach the client
  return s;
}

struct SpoofCase {
  const char* name;
  std::function<std::vector<FakeUpstream::Reply>(const std::vector<uint8_t>&)> forged;
  ForwardDropReason reason;
};

// gtest prints the case by name, not as raw bytes.
void PrintTo(const SpoofCase& c, std::ostream* os) { *os << c.name; }

class ForwarderSpoofTest : public ::testing::TestWithParam<SpoofCase> {};

TEST_P(ForwarderSpoofTest, IsDroppedAndCountedWhileTheRealAnswerGetsThrough) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  up.SetHandler(ForgedThenReal(GetParam().forged));
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options(up.address()));
  ASSERT_TRUE(forwarder.Start().ok());
  QueryOptions qo;
  qo.id = 0xbeef;
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("Spoof.Example", records::kTypeA, qo))));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_THAT(Answers(m), ElementsAre(kRealAnswer));
  EXPECT_EQ(forwarder.stats().dropped_for(GetParam().reason), 1u);
  uint64_t dropped = 0;
  for (size_t r = 0; r < static_cast<size_t>(ForwardDropReason::kCount); ++r) {
    dropped += forwarder.stats().dropped_for(static_cast<ForwardDropReason>(r));
  }
  EXPECT_EQ(dropped, 1u) << "counted under one reason only";
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).answers), 1u);
  EXPECT_EQ(ReadCounter(forwarder.upstream_stats(0).timeouts), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Forgeries, ForwarderSpoofTest,
    ::testing::Values(
        SpoofCase{"WrongId",
                  [](const std::vector<uint8_t>& q) {
                    AnswerSpec s = Forged();
                    s.id = static_cast<uint16_t>((q[0] << 8 | q[1]) ^ 0x8000);
                    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, s)}};
                  },
                  ForwardDropReason::kSpoofedId},
        SpoofCase{"WrongQuestionName",
                  [](const std::vector<uint8_t>& q) {
                    AnswerSpec s = Forged();
                    s.qname = "spoof.example.net";
                    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, s)}};
                  },
                  ForwardDropReason::kSpoofedQuestion},
        SpoofCase{"WrongQuestionType",
                  [](const std::vector<uint8_t>& q) {
                    std::vector<uint8_t> a = MakeAnswer(q, Forged());
                    // The query has no records: its question ends where it ends. The type's low
                    // byte is 3 bytes before that end (type, class).
                    a[q.size() - 3] = static_cast<uint8_t>(records::kTypeAaaa);
                    return std::vector<FakeUpstream::Reply>{{a}};
                  },
                  ForwardDropReason::kSpoofedQuestion},
        SpoofCase{"FromAnotherPort",
                  [](const std::vector<uint8_t>& q) {
                    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, Forged()), true}};
                  },
                  ForwardDropReason::kUnexpectedSource},
        SpoofCase{"ShorterThanAHeader",
                  [](const std::vector<uint8_t>& q) {
                    return std::vector<FakeUpstream::Reply>{
                        {std::vector<uint8_t>(q.begin(), q.begin() + 5)}};
                  },
                  ForwardDropReason::kMalformed},
        SpoofCase{"QrClear",
                  [](const std::vector<uint8_t>& q) {
                    AnswerSpec s = Forged();
                    s.qr = false;
                    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, s)}};
                  },
                  ForwardDropReason::kMalformed}),
    [](const ::testing::TestParamInfo<SpoofCase>& spoof) { return std::string(spoof.param.name); });

TEST(ForwarderSpoof, AllForgeriesAtOnceAreEachCounted) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  up.SetHandler(ForgedThenReal([](const std::vector<uint8_t>& q) {
    AnswerSpec wrong_id = Forged();
    wrong_id.id = static_cast<uint16_t>((q[0] << 8 | q[1]) ^ 0x0101);
    AnswerSpec wrong_question = Forged();
    wrong_question.qname = "other.example";
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, wrong_id)},
                                            {MakeAnswer(q, wrong_question)},
                                            {MakeAnswer(q, Forged()), true}};
  }));
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options(up.address()));
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("Spoof.Example", records::kTypeA))));
  ASSERT_TRUE(replies.WaitFor(1));
  EXPECT_THAT(Answers(DecodeOrFail(replies.at(0).bytes)), ElementsAre(kRealAnswer));
  EXPECT_EQ(forwarder.stats().dropped_for(ForwardDropReason::kSpoofedId), 1u);
  EXPECT_EQ(forwarder.stats().dropped_for(ForwardDropReason::kSpoofedQuestion), 1u);
  EXPECT_EQ(forwarder.stats().dropped_for(ForwardDropReason::kUnexpectedSource), 1u);
}

TEST(ForwarderSpoof, OnlyForgeriesMeansServfailAtTheDeadline) {
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  up.SetHandler([](const std::vector<uint8_t>& q, bool) {
    return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, Forged()), true}};
  });
  ReplyCollector replies;  // outlives the forwarder: Stop() may still reply
  Forwarder forwarder(Options(up.address()));
  ASSERT_TRUE(forwarder.Start().ok());
  ASSERT_TRUE(forwarder.Submit(replies.Request(BuildQuery("Spoof.Example", records::kTypeA))));
  ASSERT_TRUE(replies.WaitFor(1));
  const DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
  EXPECT_EQ(m.rcode, records::kRcodeServFail);
  EXPECT_TRUE(m.answer.empty());
  EXPECT_GE(forwarder.stats().dropped_for(ForwardDropReason::kUnexpectedSource), 2u);  // 2 tries
}

}  // namespace
}  // namespace clusterdns::testing
