// InflightTable (unique random IDs per upstream) and UpstreamHealth (which upstream goes first).
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <vector>

#include "controlplane/forward/inflight_table.h"
#include "controlplane/forward/upstream_health.h"

namespace clusterdns::testing {
namespace {

using controlplane::InflightTable;
using controlplane::ReadCounter;
using controlplane::UpstreamHealth;
using controlplane::UpstreamStats;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

// Replays `ids` in order, then repeats the last one forever.
InflightTable::IdSource Scripted(std::vector<uint16_t> ids) {
  auto state = std::make_shared<std::pair<std::vector<uint16_t>, size_t>>(std::move(ids), 0);
  return [state] {
    auto& [list, next] = *state;
    return list[std::min(next++, list.size() - 1)];
  };
}

TEST(InflightTable, ACollidingDrawIsDrawnAgain) {
  InflightTable table(Scripted({7, 7, 7, 9}));
  EXPECT_EQ(table.Add(0, 100), 7);
  EXPECT_EQ(table.Add(0, 101), 9);  // 7 is taken for upstream 0: two more draws, then 9
  EXPECT_EQ(table.Find(0, 7), 100u);
  EXPECT_EQ(table.Find(0, 9), 101u);
  EXPECT_FALSE(table.Find(1, 7).has_value());  // per upstream
  table.Remove(0, 7);
  EXPECT_FALSE(table.Find(0, 7).has_value());
  EXPECT_EQ(table.size(), 1u);
}

TEST(InflightTable, TheSameIdOnAnotherUpstreamIsFine) {
  InflightTable table(Scripted({5}));
  EXPECT_EQ(table.Add(0, 1), 5);
  EXPECT_EQ(table.Add(1, 2), 5);
  EXPECT_FALSE(table.Add(0, 3).has_value());  // only 5 ever comes: gives up, no endless loop
  EXPECT_EQ(table.size(), 2u);
}

TEST(InflightTable, RandomIdsSpreadOverTheWholeSpace) {
  InflightTable table;
  std::set<uint16_t> ids;
  int high = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto id = table.Add(0, static_cast<uint64_t>(i));
    ASSERT_TRUE(id.has_value());
    ids.insert(*id);
    if (*id >= 0x8000) ++high;
  }
  EXPECT_EQ(ids.size(), 2000u);
  // Both halves used about equally (binomial sd ~22; 6 sd of room).
  EXPECT_GT(high, 870);
  EXPECT_LT(high, 1130);
}

TEST(UpstreamHealth, RoundRobinWhileAllAreHealthy) {
  UpstreamStats stats[3];
  UpstreamHealth health(3, seconds(5), stats);
  const Clock::time_point t;
  std::vector<uint32_t> order;
  for (int i = 0; i < 6; ++i) order.push_back(health.ChooseFirst(t));
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(UpstreamHealth, AFailingUpstreamIsNotFirstUntilTheRecheck) {
  UpstreamStats stats[3];
  UpstreamHealth health(3, seconds(5), stats);
  const Clock::time_point t0;
  health.RecordFailure(1, t0);
  health.RecordFailure(1, t0);
  EXPECT_EQ(ReadCounter(stats[1].consecutive_failures), 2u);
  std::vector<uint32_t> order;
  for (int i = 0; i < 4; ++i) order.push_back(health.ChooseFirst(t0 + seconds(1)));
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 2, 0, 2}));
  // Forgiven after the recheck interval: back in the rotation.
  EXPECT_EQ(health.EffectiveFailures(1, t0 + seconds(5)), 0u);
  order.clear();
  for (int i = 0; i < 3; ++i) order.push_back(health.ChooseFirst(t0 + seconds(6)));
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 2}));
  // An answer resets a failing upstream at once.
  health.RecordFailure(2, t0 + seconds(6));
  EXPECT_EQ(ReadCounter(stats[2].consecutive_failures), 1u);
  health.RecordAnswer(2);
  EXPECT_EQ(ReadCounter(stats[2].consecutive_failures), 0u);
  order.clear();
  for (int i = 0; i < 3; ++i) order.push_back(health.ChooseFirst(t0 + seconds(6)));
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 2}));
}

TEST(UpstreamHealth, AllFailingPicksTheLeastFailing) {
  UpstreamStats stats[2];
  UpstreamHealth health(2, seconds(5), stats);
  const Clock::time_point t0;
  health.RecordFailure(0, t0);
  health.RecordFailure(0, t0);
  health.RecordFailure(1, t0);
  EXPECT_EQ(health.ChooseFirst(t0), 1u);
  EXPECT_EQ(health.ChooseFirst(t0), 1u);
}

}  // namespace
}  // namespace clusterdns::testing
