// The per-core harness's figures (worker_bench.cc): counter samples of the measured lcore at the
// start and end of a window, what they come to (Mpps, cycles per packet), and the printed report.
// Pure arithmetic and formatting; no DPDK (no EAL, no port: the names of worker_bench's PMDs
// are only text here; worker_bench.cc starts its EAL with --no-pci --no-huge). Any thread.
//
// The report's last line is for scripts (scripts/bench-dataplane.sh takes medians of it):
//   result worker_mpps=3.10 worker_cycles=640.2 worker_tsc_cycles=702.5 fwd_mpps=18.20
//          fwd_cycles=160.1 fwd_tsc_cycles=170.3 ratio=4.00 pairs=1 per_worker_mpps=3.10 valid=1
// (worker_mpps and fwd_mpps: all pairs together; per_worker_mpps: worker_mpps / pairs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace clusterdns::bench {

// One lcore's counters at one moment (TSC cycles and packets since the loop started).
struct LcoreSample {
  uint64_t tsc = 0;
  uint64_t rx = 0;
  uint64_t tx = 0;
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  uint64_t busy_polls = 0;
  uint64_t generator_received = 0;  // frames the generator got back
};

struct PhaseFigures {
  bool measured = false;
  double seconds = 0;
  uint64_t packets = 0;               // received by the measured lcore in the window
  double mpps = 0;                    // transmitted by it, per second
  double busy_cycles_per_packet = 0;  // busy cycles / packets received
  double tsc_cycles_per_packet = 0;   // the whole window's TSC cycles / packets received
  double busy_share = 0;              // busy cycles / (busy + idle cycles)
  double packets_per_burst = 0;       // packets / busy polls
  double generator_mpps = 0;          // frames back at the generator, per second
};

// The window from `a` to `b` (b after a) at `tsc_hz`.
PhaseFigures Between(const LcoreSample& a, const LcoreSample& b, double tsc_hz);

// Several lcores measured over the same window (worker_bench --pairs): Mpps and packets add up,
// cycles per packet are over all their packets, shares and burst sizes are the lcores' means.
PhaseFigures Combine(const std::vector<PhaseFigures>& lcores);

struct BenchReport {
  size_t services = 0;
  size_t queries = 0;
  size_t expected_noerror = 0;  // of the query templates
  size_t expected_nxdomain = 0;
  unsigned in_flight = 0;
  double seconds = 0;
  double warmup = 0;
  bool macswap = false;
  bool nic_offloads = false;  // checksums as a NIC with offloads would do them (generator.h)
  std::string link = "net_ring";  // the PMD between generator and worker (port_pair.h)
  unsigned generator_lcore = 0;  // of the first pair
  unsigned worker_lcore = 0;
  // Generator/worker pairs, each with its own ring ports, all workers on one table: `worker` and
  // `forward` are their sums (Combine), the Mpps of each worker are listed too.
  unsigned pairs = 1;
  std::vector<double> worker_mpps_each;
  std::vector<double> forward_mpps_each;
  double tsc_hz = 0;

  PhaseFigures worker;
  PhaseFigures forward;
  // worker.mpps / pairs: what issue 4's "per worker core" target is about.
  double worker_mpps_per_core() const { return pairs > 0 ? worker.mpps / pairs : 0; }

  // Checks, over the whole run (warm-up included).
  uint64_t worker_rx = 0;
  uint64_t worker_dns_replies = 0;
  uint64_t worker_drops = 0;  // drop reasons + refused by TX
  uint64_t worker_exceptions = 0;
  uint64_t noerror = 0;  // replies by rcode (the worker's QueryCounters)
  uint64_t nxdomain = 0;
  uint64_t worker_checked = 0;  // replies the generator checked (all of them)
  uint64_t worker_deep_checked = 0;
  uint64_t worker_generator_failures = 0;
  uint64_t forward_checked = 0;
  uint64_t forward_failures = 0;
  uint64_t forward_drops = 0;
  std::string first_failure;
  unsigned reclaimed = 0;
  int64_t lost_mbufs = 0;
  bool interrupted = false;

  // Every check passed, both phases measured something, and the run was not interrupted.
  bool valid() const;
};

std::string FormatReport(const BenchReport& r);

}  // namespace clusterdns::bench
