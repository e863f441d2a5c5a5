// BenchReport: the harness's arithmetic and its printed lines (bench_report.h). No DPDK here: the
// EAL (--no-pci, net_ring ports only) is worker_bench.cc's.
#include "bench/dataplane/bench_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace clusterdns::bench {
namespace {

// Issue 4's targets.
constexpr double kTargetMpps = 10.0;
constexpr double kTargetRatio = 4.0;

double Per(double a, double b) { return b > 0 ? a / b : 0; }

std::string JoinMpps(const std::vector<double>& mpps) {
  return absl::StrJoin(mpps, " ", [](std::string* out, double v) {
    absl::StrAppendFormat(out, "%.2f", v);
  });
}

std::string Phase(const PhaseFigures& p, const char* unit, const char* units) {
  return absl::StrFormat(
      "%.2f Mpps, %.0f cycles/%s busy, %.0f TSC cycles/%s (lcore %.0f%% busy, %.1f %s/burst); "
      "generator got %.2f M/s back",
      p.mpps, p.busy_cycles_per_packet, unit, p.tsc_cycles_per_packet, unit, p.busy_share * 100,
      p.packets_per_burst, units, p.generator_mpps);
}

}  // namespace

PhaseFigures Between(const LcoreSample& a, const LcoreSample& b, double tsc_hz) {
  PhaseFigures p;
  p.measured = b.tsc > a.tsc && b.rx > a.rx;
  const double cycles = static_cast<double>(b.tsc - a.tsc);
  p.seconds = Per(cycles, tsc_hz);
  p.packets = b.rx - a.rx;
  const double packets = static_cast<double>(p.packets);
  p.mpps = Per(static_cast<double>(b.tx - a.tx), p.seconds) / 1e6;
  p.busy_cycles_per_packet = Per(static_cast<double>(b.busy_cycles - a.busy_cycles), packets);
  p.tsc_cycles_per_packet = Per(cycles, packets);
  const double busy = static_cast<double>(b.busy_cycles - a.busy_cycles);
  const double idle = static_cast<double>(b.idle_cycles - a.idle_cycles);
  p.busy_share = Per(busy, busy + idle);
  p.packets_per_burst = Per(packets, static_cast<double>(b.busy_polls - a.busy_polls));
  p.generator_mpps =
      Per(static_cast<double>(b.generator_received - a.generator_received), p.seconds) / 1e6;
  return p;
}

PhaseFigures Combine(const std::vector<PhaseFigures>& lcores) {
  if (lcores.size() == 1) return lcores[0];
  PhaseFigures all;
  all.measured = !lcores.empty();
  double busy = 0, tsc = 0, share = 0, burst = 0;
  for (const PhaseFigures& p : lcores) {
    all.measured = all.measured && p.measured;
    all.seconds = std::max(all.seconds, p.seconds);
    all.packets += p.packets;
    all.mpps += p.mpps;
    all.generator_mpps += p.generator_mpps;
    busy += p.busy_cycles_per_packet * static_cast<double>(p.packets);
    tsc += p.tsc_cycles_per_packet * static_cast<double>(p.packets);
    share += p.busy_share;
    burst += p.packets_per_burst;
  }
  const double packets = static_cast<double>(all.packets);
  all.busy_cycles_per_packet = Per(busy, packets);
  all.tsc_cycles_per_packet = Per(tsc, packets);
  all.busy_share = Per(share, static_cast<double>(lcores.size()));
  all.packets_per_burst = Per(burst, static_cast<double>(lcores.size()));
  return all;
}

bool BenchReport::valid() const {
  return worker.measured && forward.measured && !interrupted && worker_drops == 0 &&
         worker_exceptions == 0 && worker_dns_replies == worker_rx &&
         worker_generator_failures == 0 && forward_failures == 0 && forward_drops == 0 &&
         lost_mbufs == 0 && worker_deep_checked > 0;
}

std::string FormatReport(const BenchReport& r) {
  const double ratio = Per(r.worker.busy_cycles_per_packet, r.forward.busy_cycles_per_packet);
  const double tsc_ratio = Per(r.worker.tsc_cycles_per_packet, r.forward.tsc_cycles_per_packet);
  std::string out;
  absl::StrAppendFormat(
      &out,
      "setup: %zu Services, %zu queries (%.1f%% NOERROR, %.1f%% NXDOMAIN expected), %u frames in "
      "flight%s over %s, %.1f s after %.1f s warm-up, TSC %.2f GHz, %u generator/worker "
      "pair(s), the first on lcores %u/%u; checksums %s%s%s\n",
      r.services, r.queries, 100.0 * Per(r.expected_noerror, r.queries),
      100.0 * Per(r.expected_nxdomain, r.queries), r.in_flight, r.pairs > 1 ? " per pair" : "",
      r.link, r.seconds, r.warmup, r.tsc_hz / 1e9, r.pairs, r.generator_lcore, r.worker_lcore,
      r.nic_offloads ? "as on a NIC with offloads (the generator verifies and completes them)"
                     : "in software on the worker (",
      r.nic_offloads ? "" : r.link, r.nic_offloads ? "" : " offers no offloads)");
  const char* all = r.pairs > 1 ? " (all workers)" : "";
  absl::StrAppend(&out, "worker", all, ": ", Phase(r.worker, "query", "queries"), "\n");
  absl::StrAppendFormat(&out, "fwd floor (%s)%s: %s\n",
                        r.macswap ? "testpmd macswap: MACs swapped" : "testpmd io: untouched", all,
                        Phase(r.forward, "packet", "packets"));
  if (r.pairs > 1) {
    absl::StrAppendFormat(&out,
                          "per pair: worker Mpps %s (%.2f each on average); fwd Mpps %s\n",
                          JoinMpps(r.worker_mpps_each), r.worker_mpps_per_core(),
                          JoinMpps(r.forward_mpps_each));
  }
  absl::StrAppendFormat(&out,
                        "ratio: %.2fx (worker busy cycles/query / fwd busy cycles/packet); "
                        "%.2fx in TSC cycles; fwd/worker Mpps %.2fx\n",
                        ratio, tsc_ratio, Per(r.forward.mpps, r.worker.mpps));
  absl::StrAppendFormat(
      &out,
      "checks: worker rx %u, DNS replies %u (NOERROR %u, NXDOMAIN %u), drops %u, exceptions %u; "
      "generator checked %u replies (%u byte for byte), %u bad; fwd %u frames back, %u bad, "
      "%u dropped; mbufs reclaimed %u, lost %d%s%s\n",
      r.worker_rx, r.worker_dns_replies, r.noerror, r.nxdomain, r.worker_drops,
      r.worker_exceptions, r.worker_checked, r.worker_deep_checked, r.worker_generator_failures,
      r.forward_checked, r.forward_failures, r.forward_drops, r.reclaimed, r.lost_mbufs,
      r.first_failure.empty() ? "" : "; first bad: ", r.first_failure);
  const double per_core = r.worker_mpps_per_core();
  absl::StrAppendFormat(&out,
                        "targets: >= %.0f Mpps per worker core: %s (%.2f); <= %.0fx the "
                        "forwarding floor: %s (%.2fx)\n",
                        kTargetMpps, per_core >= kTargetMpps ? "met" : "MISSED", per_core,
                        kTargetRatio, ratio <= kTargetRatio ? "met" : "MISSED", ratio);
  if (!r.valid()) {
    absl::StrAppend(&out, "INVALID: ",
                    r.interrupted ? "interrupted" : "a check failed (see checks:)", "\n");
  }
  absl::StrAppendFormat(&out,
                        "result worker_mpps=%.3f worker_cycles=%.1f worker_tsc_cycles=%.1f "
                        "fwd_mpps=%.3f fwd_cycles=%.1f fwd_tsc_cycles=%.1f ratio=%.3f pairs=%u "
                        "per_worker_mpps=%.3f valid=%d link=%s\n",
                        r.worker.mpps, r.worker.busy_cycles_per_packet,
                        r.worker.tsc_cycles_per_packet, r.forward.mpps,
                        r.forward.busy_cycles_per_packet, r.forward.tsc_cycles_per_packet, ratio,
                        r.pairs, r.worker_mpps_per_core(), r.valid() ? 1 : 0, r.link);
  return out;
}

}  // namespace clusterdns::bench
