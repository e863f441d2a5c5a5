// QueryCounters: each verdict lands in its own counter, and the label names are the ones the
// metrics exporter publishes.
#include "records/query_counters.h"

#include <gtest/gtest.h>

namespace clusterdns::records {
namespace {

RespondResult Reply(uint8_t rcode, uint16_t qtype, bool truncated = false) {
  RespondResult r;
  r.verdict = Verdict::kReply;
  r.rcode = rcode;
  r.qtype = qtype;
  r.truncated = truncated;
  return r;
}

TEST(QueryCounters, CountsRepliesByRcodeAndQtype) {
  QueryCounters c;
  c.Count(Reply(kRcodeNoError, kTypeA));
  c.Count(Reply(kRcodeNxDomain, kTypeAaaa));
  c.Count(Reply(kRcodeNxDomain, kTypeAaaa, /*truncated=*/true));
  c.Count(Reply(kRcodeBadVers, 99));
  EXPECT_EQ(c.rcode(kRcodeNoError), 1u);
  EXPECT_EQ(c.rcode(kRcodeNxDomain), 2u);
  EXPECT_EQ(c.rcode(16), 1u);
  EXPECT_EQ(c.qtype(QtypeSlot::kA), 1u);
  EXPECT_EQ(c.qtype(QtypeSlot::kAaaa), 2u);
  EXPECT_EQ(c.qtype(QtypeSlot::kOther), 1u);
  EXPECT_EQ(c.truncated.load(), 1u);
  EXPECT_EQ(c.replies(), 4u);
}

TEST(QueryCounters, DropsAndForwardsAreNotReplies) {
  QueryCounters c;
  RespondResult drop;
  drop.verdict = Verdict::kDrop;
  drop.drop = DropReason::kResponse;
  RespondResult fwd;
  fwd.verdict = Verdict::kForward;
  c.Count(drop);
  c.Count(fwd);
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::kResponse)].load(), 1u);
  EXPECT_EQ(c.forwarded.load(), 1u);
  EXPECT_EQ(c.replies(), 0u);
}

TEST(QueryCounters, LabelNames) {
  EXPECT_EQ(RcodeName(kRcodeNxDomain), "NXDOMAIN");
  EXPECT_EQ(RcodeName(kRcodeBadVers), "BADVERS");
  EXPECT_EQ(RcodeName(9), "9");
  EXPECT_EQ(QtypeSlotName(QtypeSlotOf(kTypeSrv)), "SRV");
  EXPECT_EQ(QtypeSlotName(QtypeSlotOf(kTypeHinfo)), "other");
  EXPECT_EQ(DropReasonName(DropReason::kShortHeader), "short_header");
}

TEST(QueryCounters, EveryQtypeHasItsSlot) {
  EXPECT_EQ(QtypeSlotOf(kTypeA), QtypeSlot::kA);
  EXPECT_EQ(QtypeSlotOf(kTypeAaaa), QtypeSlot::kAaaa);
  EXPECT_EQ(QtypeSlotOf(kTypeSrv), QtypeSlot::kSrv);
  EXPECT_EQ(QtypeSlotOf(kTypePtr), QtypeSlot::kPtr);
  EXPECT_EQ(QtypeSlotOf(kTypeTxt), QtypeSlot::kTxt);
  EXPECT_EQ(QtypeSlotOf(kTypeSoa), QtypeSlot::kSoa);
  EXPECT_EQ(QtypeSlotOf(kTypeNs), QtypeSlot::kNs);
  EXPECT_EQ(QtypeSlotOf(kTypeCname), QtypeSlot::kCname);
  EXPECT_EQ(QtypeSlotOf(kTypeAny), QtypeSlot::kAny);
  int named = 0;
  for (uint32_t t = 0; t <= 0xffff; ++t) {
    if (QtypeSlotOf(static_cast<uint16_t>(t)) != QtypeSlot::kOther) ++named;
  }
  EXPECT_EQ(named, 9);  // the nine above; 0, 256 (URI), 257 (CAA), 65535 among the others
}

}  // namespace
}  // namespace clusterdns::records
