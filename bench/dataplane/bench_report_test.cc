// Unit tests of the per-core harness's arithmetic (bench_report.h): one lcore's window, several
// lcores combined (worker_bench --pairs) and the result line scripts/bench-dataplane.sh parses.
// No DPDK: no EAL starts and no port exists here (worker_bench.cc's EAL runs with --no-pci).
#include "bench/dataplane/bench_report.h"

#include <gtest/gtest.h>

namespace clusterdns::bench {
namespace {

PhaseFigures Window(uint64_t packets, uint64_t busy_cycles, uint64_t idle_cycles, double hz) {
  LcoreSample a;
  LcoreSample b;
  b.tsc = static_cast<uint64_t>(hz);  // one second
  b.rx = packets;
  b.tx = packets;
  b.busy_cycles = busy_cycles;
  b.idle_cycles = idle_cycles;
  b.busy_polls = packets / 32;
  b.generator_received = packets;
  return Between(a, b, hz);
}

TEST(BenchReportTest, BetweenIsOneLcoresWindow) {
  const PhaseFigures p = Window(4'000'000, 800'000'000, 200'000'000, 1e9);
  EXPECT_TRUE(p.measured);
  EXPECT_DOUBLE_EQ(p.mpps, 4.0);
  EXPECT_DOUBLE_EQ(p.busy_cycles_per_packet, 200.0);
  EXPECT_DOUBLE_EQ(p.tsc_cycles_per_packet, 250.0);
  EXPECT_DOUBLE_EQ(p.busy_share, 0.8);
  EXPECT_DOUBLE_EQ(p.packets_per_burst, 32.0);
}

TEST(BenchReportTest, CombineAddsRatesAndWeighsCyclesByPackets) {
  // 4 Mpps at 200 busy cycles a packet and 1 Mpps at 700: 5 Mpps, (800M + 700M) / 5M = 300.
  const PhaseFigures all = Combine({Window(4'000'000, 800'000'000, 200'000'000, 1e9),
                                    Window(1'000'000, 700'000'000, 300'000'000, 1e9)});
  EXPECT_TRUE(all.measured);
  EXPECT_EQ(all.packets, 5'000'000u);
  EXPECT_DOUBLE_EQ(all.mpps, 5.0);
  EXPECT_DOUBLE_EQ(all.generator_mpps, 5.0);
  EXPECT_DOUBLE_EQ(all.busy_cycles_per_packet, 300.0);
  EXPECT_DOUBLE_EQ(all.tsc_cycles_per_packet, 400.0);  // 2 lcore-seconds of 1e9 cycles / 5M
  EXPECT_DOUBLE_EQ(all.busy_share, 0.75);             // the mean of 0.8 and 0.7
}

TEST(BenchReportTest, CombineOfOneIsThatOne) {
  const PhaseFigures one = Window(3'000'000, 600'000'000, 0, 2e9);
  const PhaseFigures all = Combine({one});
  EXPECT_DOUBLE_EQ(all.mpps, one.mpps);
  EXPECT_DOUBLE_EQ(all.busy_cycles_per_packet, one.busy_cycles_per_packet);
}

TEST(BenchReportTest, AnUnmeasuredLcoreMakesTheWholeUnmeasured) {
  const PhaseFigures idle = Window(0, 0, 1'000'000, 1e9);
  EXPECT_FALSE(idle.measured);
  EXPECT_FALSE(Combine({Window(1'000'000, 1, 1, 1e9), idle}).measured);
  EXPECT_FALSE(Combine({}).measured);
}

TEST(BenchReportTest, ResultLineGivesTheTotalAndThePerWorkerRate) {
  BenchReport r;
  r.pairs = 2;
  r.worker = Combine(
      {Window(4'000'000, 800'000'000, 0, 1e9), Window(2'000'000, 400'000'000, 0, 1e9)});
  r.worker_mpps_each = {4.0, 2.0};
  r.forward = Combine(
      {Window(20'000'000, 800'000'000, 0, 1e9), Window(20'000'000, 800'000'000, 0, 1e9)});
  r.forward_mpps_each = {20.0, 20.0};
  const std::string out = FormatReport(r);
  EXPECT_NE(out.find("result worker_mpps=6.000 worker_cycles=200.0"), std::string::npos) << out;
  EXPECT_NE(out.find(" ratio=5.000 pairs=2 per_worker_mpps=3.000 valid="), std::string::npos)
      << out;
  EXPECT_NE(out.find("per pair: worker Mpps 4.00 2.00 (3.00 each on average)"), std::string::npos)
      << out;
  EXPECT_NE(out.find(">= 10 Mpps per worker core: MISSED (3.00)"), std::string::npos) << out;
}

TEST(BenchReportTest, TheLinkIsNamedWhereTheChecksumsAreDone) {
  BenchReport r;
  r.link = "net_memif";
  std::string out = FormatReport(r);
  EXPECT_NE(out.find(" in flight over net_memif,"), std::string::npos) << out;
  EXPECT_NE(out.find("checksums in software on the worker (net_memif offers no offloads)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(" link=net_memif\n"), std::string::npos) << out;
  r.link = "net_ring";
  r.nic_offloads = true;
  out = FormatReport(r);
  EXPECT_NE(out.find("checksums as on a NIC with offloads"), std::string::npos) << out;
  EXPECT_NE(out.find(" link=net_ring\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace clusterdns::bench
