// WorkerStats: one block per (worker, port), snapshots for the metrics exporter with the right
// lcore / port / queue and reason labels, and the summary line the e2e tests parse.
#include "dataplane/worker_stats.h"

#include <gtest/gtest.h>

#include "tests/dataplane/responder_output.h"

namespace clusterdns::dataplane {
namespace {

TEST(WorkerStats, BlocksAreCacheLineAlignedAndSeparate) {
  static_assert(alignof(PortQueueCounters) == 64);
  WorkerStats stats({0, 3}, {0, 1});
  EXPECT_NE(&stats.port(0, 1), &stats.port(1, 0));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&stats.port(1, 1)) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&stats.queries(1)) % 64, 0u);
}

TEST(WorkerStats, SnapshotNamesWorkerPortAndQueue) {
  WorkerStats stats({2, 5}, {0, 3});
  PortQueueCounters& c = stats.port(1, 1);
  Bump(c.rx, 10);
  Bump(c.tx, 7);
  Bump(c.tx_dropped);
  Bump(c.busy_polls, 2);
  Bump(c.idle_polls, 40);
  Bump(c.drops[static_cast<size_t>(DropReason::kNotForUs)], 2);
  Bump(c.drops[kFrameDropSlots + static_cast<size_t>(WorkerDropReason::kNoTable)]);
  Bump(c.exceptions[static_cast<size_t>(ExceptionReason::kProtocol)]);
  Bump(c.exceptions[kForwardExceptionSlot], 2);

  const auto snapshots = stats.SnapshotWorkers();
  ASSERT_EQ(snapshots.size(), 4u);
  const controlplane::WorkerCounterSnapshot& s = snapshots[3];
  EXPECT_EQ(s.lcore, 5u);
  EXPECT_EQ(s.port, 3u);
  EXPECT_EQ(s.queue, 1u);
  EXPECT_EQ(s.rx_packets, 10u);
  EXPECT_EQ(s.tx_packets, 7u);
  EXPECT_EQ(s.tx_dropped, 1u);
  EXPECT_EQ(s.exceptions, 3u);
  EXPECT_EQ(s.busy_polls, 2u);
  EXPECT_EQ(s.idle_polls, 40u);
  std::map<std::string, uint64_t> drops(s.drops_by_reason.begin(), s.drops_by_reason.end());
  EXPECT_EQ(drops.size(), kDropSlots - 1);  // every reason but kNone, zeros included
  EXPECT_EQ(drops["not_for_us"], 2u);
  EXPECT_EQ(drops["no_table"], 1u);
  EXPECT_EQ(drops["truncated"], 0u);
  EXPECT_EQ(snapshots[0].rx_packets, 0u);
  EXPECT_EQ(snapshots[0].lcore, 2u);
}

TEST(WorkerStats, SummaryLinesParse) {
  WorkerStats stats({0, 1}, {0});
  Bump(stats.port(1, 0).rx, 4);
  Bump(stats.port(1, 0).dns_replies, 3);
  Bump(stats.port(1, 0).exceptions[kForwardExceptionSlot]);
  const auto lines = testing::ParseLines(stats.Summary(), "worker");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(testing::Get(lines[1], "lcore"), 1u);
  EXPECT_EQ(testing::Get(lines[1], "queue"), 1u);
  EXPECT_EQ(testing::Get(lines[1], "rx"), 4u);
  EXPECT_EQ(testing::Get(lines[1], "dns"), 3u);
  EXPECT_EQ(testing::Get(lines[1], "exceptions"), 1u);
  EXPECT_EQ(testing::Get(lines[1], "exception.forward"), 1u);
  EXPECT_EQ(testing::Get(lines[0], "rx"), 0u);
}

TEST(WorkerStats, SlotNames) {
  EXPECT_STREQ(DropSlotName(static_cast<size_t>(DropReason::kBadChecksum)), "bad_checksum");
  EXPECT_STREQ(DropSlotName(kFrameDropSlots + static_cast<size_t>(WorkerDropReason::kMultiSegment)),
               "multi_segment");
  EXPECT_STREQ(ExceptionSlotName(kForwardExceptionSlot), "forward");
  EXPECT_STREQ(ExceptionSlotName(static_cast<size_t>(ExceptionReason::kFragment)), "fragment");
}

}  // namespace
}  // namespace clusterdns::dataplane
