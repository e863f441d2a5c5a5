// worker_bench: the per-core dataplane harness (issue 4 "Benchmarks"; scripts/bench-dataplane.sh
// runs it and takes medians). One DNS worker lcore — the real dataplane::RunWorker — fed by a
// generator on the main lcore through two ring ethdevs (ring_pair.h), with prebuilt queries of
// the records benchmark's 100k-Service mix (query_frames.h); replies come back to the generator,
// are checked and recycled (generator.h). Then, in the same process on the same ports, plain io
// forwarding (io_forward.h, testpmd's macswap by default, io on request) replaces the worker, as
// the floor. Prints Mpps and cycles per query
// of each and their ratio; targets: >= 10 Mpps per worker core, <= 4x the forwarding floor.
//
//   worker_bench [--seconds=5] [--warmup=1] [--services=100000] [--queries=65536]
//                [--in-flight=4096] [--fwd-mode=macswap|io] [--lcores=0,1] [--memory-mb=256]
//                [--deep-every=1024] [--nic-offloads]
//
// EAL: --no-pci --no-huge -m <memory-mb> --no-shconf --no-telemetry
// --file-prefix=cdns-wbench-<pid> -l <lcores>: nothing is probed, no hugepages are needed, and the
// runtime directory is removed at exit. The first lcore is the generator (main), the second the
// worker; each should own a core of its own.
//
// Cycles are TSC cycles. "busy" cycles are counted by the loop itself from rx_burst through
// tx_burst of polls that received frames (dataplane::PortQueueCounters::busy_cycles); "TSC"
// cycles per packet are the lcore's whole time over the packets it moved, idle polls and the loop
// around the bursts included. The ratio is busy cycles per query / busy cycles per forwarded
// packet.
//
// Exit 0 when every check passed, 1 when a check failed (a reply that failed the generator's
// checks, a drop, an exception, a lost mbuf: the figures are then marked invalid), 2 on bad
// flags or a harness that cannot start. SIGINT/SIGTERM end the current phase early and tear
// down cleanly.
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/dataplane/bench_report.h"
#include "bench/dataplane/generator.h"
#include "bench/dataplane/io_forward.h"
#include "bench/dataplane/query_frames.h"
#include "bench/dataplane/ring_pair.h"
#include "bench/records/synthetic_cluster.h"
#include "dataplane/eal.h"
#include "dataplane/qsbr_grace_period.h"
#include "dataplane/worker.h"
#include "dataplane/worker_stats.h"
#include "records/status_macros.h"
#include "records/table_publisher.h"

namespace clusterdns::bench {
namespace {

struct Flags {
  double seconds = 5;
  double warmup = 1;
  size_t services = 100000;  // the records benchmark's cluster
  size_t queries = 65536;    // the records benchmark's mix size; at most one per DNS ID
  // Mbufs in flight: deep enough that neither lcore ever waits on the other (a few hundred
  // bursts), small enough that the frames stay in the caches as a NIC's DMA into LLC would.
  unsigned in_flight = 4096;
  // The floor's loop: macswap (testpmd's, the default) touches each frame's Ethernet header as
  // any forwarder does and keeps the forwarding lcore the bottleneck (100% busy); io moves only
  // mbuf pointers, and on the 2-core VM its figure swings between ~8 and ~45 cycles/packet with
  // the generator as the limit.
  bool macswap = true;
  std::string lcores = "0,1";
  unsigned memory_mb = 256;  // the pool (in_flight x ~2.3 KB) and the rings, with room to spare
  uint64_t deep_every = 1024;  // one reply in this many is checked byte for byte
  // Checksums as on a NIC that offloads them (every 10 GbE NIC does; net_ring does not): the
  // generator marks queries verified and completes reply checksums (generator.h).
  bool nic_offloads = false;
};

// Set by SIGINT/SIGTERM. relaxed everywhere: it only asks the generator to end the phase.
std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true, std::memory_order_relaxed); }

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    bool ok = eq != std::string::npos;
    if (name == "--seconds") {
      ok = ok && absl::SimpleAtod(value, &f->seconds) && f->seconds > 0;
    } else if (name == "--warmup") {
      ok = ok && absl::SimpleAtod(value, &f->warmup) && f->warmup >= 0;
    } else if (name == "--services") {
      ok = ok && absl::SimpleAtoi(value, &f->services) && f->services > 0;
    } else if (name == "--queries") {
      ok = ok && absl::SimpleAtoi(value, &f->queries) && f->queries > 0 &&
           f->queries <= kMaxQueryFrames;
    } else if (name == "--in-flight") {
      ok = ok && absl::SimpleAtoi(value, &f->in_flight) && f->in_flight >= 32 &&
           f->in_flight <= (1u << 20);
    } else if (name == "--fwd-mode") {
      ok = ok && (value == "io" || value == "macswap");
      f->macswap = value == "macswap";
    } else if (name == "--lcores") {
      ok = ok && !value.empty();
      f->lcores = value;
    } else if (name == "--memory-mb") {
      ok = ok && absl::SimpleAtoi(value, &f->memory_mb) && f->memory_mb >= 64;
    } else if (name == "--nic-offloads") {
      ok = eq == std::string::npos;
      f->nic_offloads = true;
    } else if (name == "--deep-every") {
      ok = ok && absl::SimpleAtoi(value, &f->deep_every) && f->deep_every > 0 &&
           (f->deep_every & (f->deep_every - 1)) == 0;
    } else {
      std::fprintf(stderr, "worker_bench: unknown flag '%s'\n", arg.c_str());
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "worker_bench: bad value in '%s'\n", arg.c_str());
      return false;
    }
  }
  return true;
}

LcoreSample SampleWorker(const dataplane::PortQueueCounters& c, const Generator& gen) {
  LcoreSample s;
  s.tsc = rte_rdtsc();
  s.rx = c.Load(c.rx);
  s.tx = c.Load(c.tx);
  s.busy_cycles = c.Load(c.busy_cycles);
  s.idle_cycles = c.Load(c.idle_cycles);
  s.busy_polls = c.Load(c.busy_polls);
  s.generator_received = gen.counts().received;
  return s;
}

LcoreSample SampleForward(const ForwardCounters& c, const Generator& gen) {
  LcoreSample s;
  s.tsc = rte_rdtsc();
  s.rx = c.rx.load(std::memory_order_relaxed);
  s.tx = c.tx.load(std::memory_order_relaxed);
  s.busy_cycles = c.busy_cycles.load(std::memory_order_relaxed);
  s.idle_cycles = c.idle_cycles.load(std::memory_order_relaxed);
  s.busy_polls = c.busy_polls.load(std::memory_order_relaxed);
  s.generator_received = gen.counts().received;
  return s;
}

// Warm-up, then the measured window, on whatever runs on the worker lcore now. `sample` reads
// that lcore's counters.
template <typename SampleFn>
PhaseFigures Measure(Generator& gen, ReturnMode mode, const Flags& flags, SampleFn sample) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  gen.Run(mode, rte_rdtsc() + static_cast<uint64_t>(flags.warmup * hz), &g_interrupted);
  const LcoreSample begin = sample();
  gen.Run(mode, begin.tsc + static_cast<uint64_t>(flags.seconds * hz), &g_interrupted);
  const LcoreSample end = sample();
  return Between(begin, end, hz);
}

absl::Status RunBench(const Flags& flags, BenchReport* report) {
  // The table and the grace period first, on every CPU (the EAL pins the main thread to its
  // lcore): the records benchmark's cluster, compiled as respond_bench compiles it.
  const SyntheticCluster cluster = MakeCluster(flags.services);
  const std::shared_ptr<const records::AnswerTable> table = LoadedBuilder(cluster)->Build();
  CDNS_ASSIGN_OR_RETURN(std::unique_ptr<dataplane::QsbrGracePeriod> grace,
                        dataplane::QsbrGracePeriod::Create(1));
  records::TablePublisher publisher(grace.get());  // outlives the worker (declared before it)
  publisher.Publish(table);

  const std::string prefix = absl::StrCat("--file-prefix=cdns-wbench-", getpid());
  CDNS_ASSIGN_OR_RETURN(
      dataplane::EalHandle eal,
      dataplane::InitEal({"--no-pci", "--no-huge", "-m", std::to_string(flags.memory_mb),
                          "--no-shconf", "--no-telemetry", prefix, "-l", flags.lcores}));
  if (rte_lcore_count() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("--lcores=", flags.lcores, " must name exactly two lcores"));
  }
  const unsigned worker_lcore = rte_get_next_lcore(-1, 1, 0);
  report->generator_lcore = rte_get_main_lcore();
  report->worker_lcore = worker_lcore;
  report->tsc_hz = static_cast<double>(rte_get_tsc_hz());

  CDNS_ASSIGN_OR_RETURN(RingPair pair, RingPair::Create(flags.in_flight));
  rte_ether_addr port_mac;
  if (rte_eth_macaddr_get(pair.worker_port(), &port_mac) != 0) {
    return absl::InternalError("worker port has no MAC address");
  }
  Mac6 mac;
  std::copy(port_mac.addr_bytes, port_mac.addr_bytes + 6, mac.begin());
  const QueryFrames frames = BuildQueryFrames(cluster, *table, flags.queries, mac);
  report->services = flags.services;
  report->queries = frames.size();
  report->expected_noerror = frames.noerror;
  report->expected_nxdomain = frames.nxdomain;
  report->in_flight = flags.in_flight;
  report->seconds = flags.seconds;
  report->warmup = flags.warmup;
  report->macswap = flags.macswap;

  // The worker: the production loop on the worker port, queue 0, reader 0 of the grace period.
  dataplane::WorkerStats stats({worker_lcore}, {pair.worker_port()});
  CDNS_ASSIGN_OR_RETURN(dataplane::ServedAddresses served,
                        dataplane::ServedAddresses::Create(
                            {*records::IpAddress::Parse("198.18.0.53")}));
  std::atomic<bool> stop_worker{false};
  dataplane::WorkerConfig worker;
  worker.index = 0;
  worker.lcore = worker_lcore;
  dataplane::WorkerPort port;
  port.port_id = pair.worker_port();
  port.queue = 0;
  port.mac = dataplane::MacAddress(mac.data());
  // The ring PMD offers no offloads: checksums in software, unless the generator plays the NIC.
  port.udp_tx_checksum_offload = flags.nic_offloads;
  port.counters = &stats.port(0, 0);
  worker.ports = {port};
  worker.served = served;
  worker.publisher = &publisher;
  worker.grace = grace.get();
  worker.queries = &stats.queries(0);
  worker.stop = &stop_worker;

  Generator gen(pair.generator_port(), pair.pool(), frames, *table, flags.deep_every,
                flags.nic_offloads);
  report->nic_offloads = flags.nic_offloads;
  CDNS_RETURN_IF_ERROR(gen.Prime(flags.in_flight));

  // Phase 1: the DNS worker.
  if (rte_eal_remote_launch(dataplane::WorkerMain, &worker, worker_lcore) != 0) {
    return absl::InternalError(absl::StrCat("cannot launch the worker on lcore ", worker_lcore));
  }
  const dataplane::PortQueueCounters& wc = stats.port(0, 0);
  report->worker = Measure(gen, ReturnMode::kReply, flags, [&] { return SampleWorker(wc, gen); });
  stop_worker.store(true, std::memory_order_relaxed);
  rte_eal_wait_lcore(worker_lcore);
  gen.Flush(ReturnMode::kReply);  // the replies still in ring B become queries again
  report->worker_generator_failures = gen.counts().failures;
  report->worker_deep_checked = gen.counts().deep_checked;
  report->worker_checked = gen.counts().received;
  report->first_failure = gen.counts().first_failure;
  report->worker_drops = wc.TotalDrops() + wc.Load(wc.tx_dropped);
  report->worker_exceptions = wc.TotalExceptions();
  report->worker_rx = wc.Load(wc.rx);
  report->worker_dns_replies = wc.Load(wc.dns_replies);
  const records::QueryCounters& q = stats.queries(0);
  report->noerror = q.rcode(records::kRcodeNoError);
  report->nxdomain = q.rcode(records::kRcodeNxDomain);

  // Phase 2: plain forwarding on the same lcore and port.
  ForwardCounters fc;
  std::atomic<bool> stop_forward{false};
  ForwardConfig fwd{pair.worker_port(), flags.macswap, &fc, &stop_forward};
  const uint64_t received_before = gen.counts().received;
  const uint64_t failures_before = gen.counts().failures;
  if (!g_interrupted.load(std::memory_order_relaxed)) {
    if (rte_eal_remote_launch(ForwardMain, &fwd, worker_lcore) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot launch the forwarding loop on lcore ", worker_lcore));
    }
    report->forward =
        Measure(gen, ReturnMode::kForwarded, flags, [&] { return SampleForward(fc, gen); });
    stop_forward.store(true, std::memory_order_relaxed);
    rte_eal_wait_lcore(worker_lcore);
  }
  report->forward_checked = gen.counts().received - received_before;
  report->forward_failures = gen.counts().failures - failures_before;
  if (report->first_failure.empty()) report->first_failure = gen.counts().first_failure;
  report->forward_drops = fc.tx_dropped.load(std::memory_order_relaxed);

  // Every mbuf back: what the generator holds plus what the worker freed (drops) is the pool.
  const unsigned reclaimed = gen.Reclaim(pair.to_worker());
  report->lost_mbufs = static_cast<int64_t>(flags.in_flight) - pair.mbufs_in_pool();
  report->reclaimed = reclaimed;
  report->interrupted = g_interrupted.load(std::memory_order_relaxed);
  pair.Stop();  // before ~EalHandle
  return absl::OkStatus();
}

}  // namespace
}  // namespace clusterdns::bench

int main(int argc, char** argv) {
  using namespace clusterdns::bench;
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: worker_bench [--seconds=5] [--warmup=1] [--services=100000] "
                 "[--queries=65536] [--in-flight=4096] [--fwd-mode=macswap|io] [--lcores=0,1] "
                 "[--memory-mb=256] [--deep-every=1024] [--nic-offloads]\n");
    return 2;
  }
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  BenchReport report;
  if (absl::Status s = RunBench(flags, &report); !s.ok()) {
    std::fprintf(stderr, "worker_bench: %s\n", s.ToString().c_str());
    return 2;
  }
  std::fputs(FormatReport(report).c_str(), stdout);
  std::fflush(stdout);
  return report.valid() ? 0 : 1;
}
