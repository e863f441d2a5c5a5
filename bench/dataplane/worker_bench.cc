// worker_bench: the per-core dataplane harness (issue 4 "Benchmarks"; scripts/bench-dataplane.sh
// runs it and takes medians). One DNS worker lcore — the real dataplane::RunWorker — fed by a
// generator on the main lcore through a pair of ethdevs (port_pair.h: two net_ring ports, or
// with --link=memif two net_memif ports in loopback), with prebuilt queries of
// the records benchmark's 100k-Service mix (query_frames.h); replies come back to the generator,
// are checked and recycled (generator.h). Then, in the same process on the same ports, plain io
// forwarding (io_forward.h, testpmd's macswap by default, io on request) replaces the worker, as
// the floor. Prints Mpps and cycles per query
// of each and their ratio; targets: >= 10 Mpps per worker core, <= 4x the forwarding floor.
//
//   worker_bench [--seconds=5] [--warmup=1] [--services=100000] [--queries=65536]
//                [--in-flight=4096] [--fwd-mode=macswap|io] [--lcores=0,1] [--pairs=1]
//                [--memory-mb=256] [--deep-every=1024] [--nic-offloads] [--link=ring|memif]
//
// EAL: --no-pci --no-huge -m <memory-mb> --no-shconf --no-telemetry
// --file-prefix=cdns-wbench-<pid> --lcores=<lcores>: nothing is probed, no hugepages are needed,
// and the runtime directory is removed at exit. The only ethdevs are the pairs' vdevs; memif's
// socket is an abstract one of this process (memif_pair.h). The first lcore is the generator
// (main), the second the worker; each should own a core of its own.
//
// --link: ring (the default) moves mbuf pointers through rte_rings, so the worker reads each
// frame from the lines the generator's core wrote. memif copies every frame into and out of
// shared memory on both sides and allocates and frees mbufs as a NIC driver does; the floor then
// includes those copies too. memif carries no mbuf flags, so it takes no --nic-offloads.
//
// --pairs=N (scaling): N generator/worker pairs, each with its own port pair, mbufs and query
// frames, every worker answering from the one table (N QSBR readers), as the queues of a
// multi-queue port would. --lcores names 2N lcores (lcore@cpu maps allowed): in lcore order the
// first N generate, the last N work. Mpps are summed over the pairs, cycles per query are over
// all the queries; the target is checked on the Mpps per worker.
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
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/dataplane/bench_report.h"
#include "bench/dataplane/generator.h"
#include "bench/dataplane/io_forward.h"
#include "bench/dataplane/memif_pair.h"
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
  // Generator/worker pairs (--lcores names 2 x pairs lcores): how the workers scale with cores.
  unsigned pairs = 1;
  unsigned memory_mb = 256;  // the pool (in_flight x ~2.3 KB) and the rings, with room to spare
  uint64_t deep_every = 1024;  // one reply in this many is checked byte for byte
  // Checksums as on a NIC that offloads them (every 10 GbE NIC does; net_ring does not): the
  // generator marks queries verified and completes reply checksums (generator.h).
  bool nic_offloads = false;
  bool memif = false;  // --link=memif (port_pair.h)
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
    } else if (name == "--pairs") {
      ok = ok && absl::SimpleAtoi(value, &f->pairs) && f->pairs >= 1 && f->pairs <= 64;
    } else if (name == "--memory-mb") {
      ok = ok && absl::SimpleAtoi(value, &f->memory_mb) && f->memory_mb >= 64;
    } else if (name == "--nic-offloads") {
      ok = eq == std::string::npos;
      f->nic_offloads = true;
    } else if (name == "--link") {
      ok = ok && (value == "ring" || value == "memif");
      f->memif = value == "memif";
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
  if (f->memif && f->nic_offloads) {
    std::fprintf(stderr,
                 "worker_bench: --link=memif carries no mbuf flags; checksums are the worker's "
                 "(leave out --nic-offloads)\n");
    return false;
  }
  return true;
}

// One generator/worker pair: its ports, its traffic (the queries go to its worker port's
// MAC), its generator, and the worker and forwarding loops that run on its worker lcore.
struct Pair {
  unsigned generator_lcore = 0;
  unsigned worker_lcore = 0;
  std::unique_ptr<PortPair> link;
  QueryFrames frames;
  std::unique_ptr<Generator> gen;
  dataplane::WorkerConfig worker;
  ForwardCounters forward_counters;
  ForwardConfig forward;
};

// A generator on an lcore other than the main one: runs until *stop.
struct RemoteGeneratorRun {
  Generator* gen = nullptr;
  ReturnMode mode = ReturnMode::kReply;
  const std::atomic<bool>* stop = nullptr;
};

int RemoteGeneratorMain(void* arg) noexcept {
  const auto* run = static_cast<const RemoteGeneratorRun*>(arg);
  run->gen->Run(run->mode, std::numeric_limits<uint64_t>::max(), run->stop);
  return 0;
}

// `generator_received`: what the generator got back. The main lcore's generator is read directly;
// the others' counts are plain fields written on their own lcores, so their pairs pass the
// measured lcore's tx instead (every frame it sends reaches its generator).
LcoreSample SampleWorker(const dataplane::PortQueueCounters& c,
                         const uint64_t* generator_received) {
  LcoreSample s;
  s.tsc = rte_rdtsc();
  s.rx = c.Load(c.rx);
  s.tx = c.Load(c.tx);
  s.busy_cycles = c.Load(c.busy_cycles);
  s.idle_cycles = c.Load(c.idle_cycles);
  s.busy_polls = c.Load(c.busy_polls);
  s.generator_received = generator_received != nullptr ? *generator_received : s.tx;
  return s;
}

LcoreSample SampleForward(const ForwardCounters& c, const uint64_t* generator_received) {
  LcoreSample s;
  s.tsc = rte_rdtsc();
  s.rx = c.rx.load(std::memory_order_relaxed);
  s.tx = c.tx.load(std::memory_order_relaxed);
  s.busy_cycles = c.busy_cycles.load(std::memory_order_relaxed);
  s.idle_cycles = c.idle_cycles.load(std::memory_order_relaxed);
  s.busy_polls = c.busy_polls.load(std::memory_order_relaxed);
  s.generator_received = generator_received != nullptr ? *generator_received : s.tx;
  return s;
}

// Warm-up, then the measured window, on whatever runs on the worker lcores now; one figure per
// pair. The first pair's generator runs here, on the main lcore, and keeps the time; the others
// run on their own lcores until the window has been sampled. `sample(i)` reads pair i's
// measured lcore.
template <typename SampleFn>
absl::StatusOr<std::vector<PhaseFigures>> Measure(std::vector<std::unique_ptr<Pair>>& pairs,
                                                  ReturnMode mode, const Flags& flags,
                                                  SampleFn sample) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  std::atomic<bool> stop_remote{false};
  std::vector<RemoteGeneratorRun> remote(pairs.size());
  for (size_t i = 1; i < pairs.size(); ++i) {
    remote[i] = {pairs[i]->gen.get(), mode, &stop_remote};
    if (rte_eal_remote_launch(RemoteGeneratorMain, &remote[i], pairs[i]->generator_lcore) != 0) {
      // Only the generators launched so far: the worker lcores run until their phase stops them.
      stop_remote.store(true, std::memory_order_relaxed);
      for (size_t k = 1; k < i; ++k) rte_eal_wait_lcore(pairs[k]->generator_lcore);
      return absl::InternalError(
          absl::StrCat("cannot launch a generator on lcore ", pairs[i]->generator_lcore));
    }
  }
  Generator& gen = *pairs[0]->gen;
  gen.Run(mode, rte_rdtsc() + static_cast<uint64_t>(flags.warmup * hz), &g_interrupted);
  std::vector<LcoreSample> begin(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) begin[i] = sample(i);
  gen.Run(mode, begin[0].tsc + static_cast<uint64_t>(flags.seconds * hz), &g_interrupted);
  std::vector<PhaseFigures> figures(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) figures[i] = Between(begin[i], sample(i), hz);
  stop_remote.store(true, std::memory_order_relaxed);
  for (size_t i = 1; i < pairs.size(); ++i) rte_eal_wait_lcore(pairs[i]->generator_lcore);
  return figures;
}

std::vector<double> MppsOf(const std::vector<PhaseFigures>& figures) {
  std::vector<double> mpps;
  for (const PhaseFigures& f : figures) mpps.push_back(f.mpps);
  return mpps;
}

// One phase: `loop` (dataplane::WorkerMain or ForwardMain) with arg(pair) on every pair's worker
// lcore, measured (Measure), then stopped through *stop and waited for, also when a launch or the
// measurement failed. One figure per pair.
template <typename ArgFn, typename SampleFn>
absl::StatusOr<std::vector<PhaseFigures>> RunPhase(std::vector<std::unique_ptr<Pair>>& pairs,
                                                   lcore_function_t* loop, ArgFn arg,
                                                   std::atomic<bool>* stop, ReturnMode mode,
                                                   const Flags& flags, SampleFn sample) {
  size_t launched = 0;
  while (launched < pairs.size() &&
         rte_eal_remote_launch(loop, arg(*pairs[launched]), pairs[launched]->worker_lcore) == 0) {
    ++launched;
  }
  absl::StatusOr<std::vector<PhaseFigures>> figures =
      launched == pairs.size()
          ? Measure(pairs, mode, flags, sample)
          : absl::InternalError(absl::StrCat("cannot launch a loop on lcore ",
                                             pairs[launched]->worker_lcore));
  stop->store(true, std::memory_order_relaxed);
  for (size_t i = 0; i < launched; ++i) rte_eal_wait_lcore(pairs[i]->worker_lcore);
  return figures;
}

absl::Status RunBench(const Flags& flags, BenchReport* report) {
  // The table and the grace period first, on every CPU (the EAL pins the main thread to its
  // lcore): the records benchmark's cluster, compiled as respond_bench compiles it. Every worker
  // answers from this one table, as a multi-queue appliance does.
  const SyntheticCluster cluster = MakeCluster(flags.services);
  const std::shared_ptr<const records::AnswerTable> table = LoadedBuilder(cluster)->Build();
  CDNS_ASSIGN_OR_RETURN(std::unique_ptr<dataplane::QsbrGracePeriod> grace,
                        dataplane::QsbrGracePeriod::Create(flags.pairs));
  records::TablePublisher publisher(grace.get());  // outlives the workers (declared before them)
  publisher.Publish(table);

  // --lcores, not -l: it also takes lcore@cpu maps (scripts/bench-dataplane.sh --pairs).
  const std::string prefix = absl::StrCat("--file-prefix=cdns-wbench-", getpid());
  CDNS_ASSIGN_OR_RETURN(
      dataplane::EalHandle eal,
      dataplane::InitEal({"--no-pci", "--no-huge", "-m", std::to_string(flags.memory_mb),
                          "--no-shconf", "--no-telemetry", prefix,
                          absl::StrCat("--lcores=", flags.lcores)}));
  if (rte_lcore_count() != 2 * flags.pairs) {
    return absl::InvalidArgumentError(absl::StrCat("--lcores=", flags.lcores, " must name exactly ",
                                                   2 * flags.pairs, " lcores for --pairs=",
                                                   flags.pairs));
  }
  // In lcore order: the first `pairs` generate (the main lcore first), the last `pairs` work.
  std::vector<unsigned> lcores = {rte_get_main_lcore()};
  for (unsigned l = rte_get_next_lcore(-1, 1, 0); l < RTE_MAX_LCORE;
       l = rte_get_next_lcore(l, 1, 0)) {
    lcores.push_back(l);
  }
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<unsigned> worker_lcores;
  std::vector<uint16_t> worker_ports;
  for (unsigned i = 0; i < flags.pairs; ++i) {
    auto pair = std::make_unique<Pair>();
    pair->generator_lcore = lcores[i];
    pair->worker_lcore = lcores[flags.pairs + i];
    if (flags.memif) {
      CDNS_ASSIGN_OR_RETURN(pair->link, MemifPair::Create(flags.in_flight, i));
    } else {
      CDNS_ASSIGN_OR_RETURN(pair->link, RingPair::Create(flags.in_flight, i));
    }
    worker_lcores.push_back(pair->worker_lcore);
    worker_ports.push_back(pair->link->worker_port());
    pairs.push_back(std::move(pair));
  }
  report->generator_lcore = pairs[0]->generator_lcore;
  report->worker_lcore = pairs[0]->worker_lcore;
  report->pairs = flags.pairs;
  report->link = pairs[0]->link->kind();
  report->tsc_hz = static_cast<double>(rte_get_tsc_hz());

  dataplane::WorkerStats stats(worker_lcores, worker_ports);
  CDNS_ASSIGN_OR_RETURN(dataplane::ServedAddresses served,
                        dataplane::ServedAddresses::Create(
                            {*records::IpAddress::Parse("198.18.0.53")}));
  std::atomic<bool> stop_workers{false};
  std::atomic<bool> stop_forward{false};
  for (unsigned i = 0; i < flags.pairs; ++i) {
    Pair& pair = *pairs[i];
    rte_ether_addr port_mac;
    if (rte_eth_macaddr_get(pair.link->worker_port(), &port_mac) != 0) {
      return absl::InternalError(absl::StrCat("worker port of pair ", i, " has no MAC address"));
    }
    Mac6 mac;
    std::copy(port_mac.addr_bytes, port_mac.addr_bytes + 6, mac.begin());
    pair.frames = BuildQueryFrames(cluster, *table, flags.queries, mac);
    pair.gen = std::make_unique<Generator>(pair.link->generator_port(), pair.link->pool(),
                                           pair.frames, *table, flags.deep_every,
                                           flags.nic_offloads);
    // The worker: the production loop on its worker port, queue 0, reader i of the grace period.
    dataplane::WorkerConfig& worker = pair.worker;
    worker.index = i;
    worker.lcore = pair.worker_lcore;
    dataplane::WorkerPort port;
    port.port_id = pair.link->worker_port();
    port.queue = 0;
    port.mac = dataplane::MacAddress(mac.data());
    // Neither PMD offers offloads: checksums in software, unless the generator plays the NIC.
    port.udp_tx_checksum_offload = flags.nic_offloads;
    port.counters = &stats.port(i, i);
    worker.ports = {port};
    worker.served = served;
    worker.publisher = &publisher;
    worker.grace = grace.get();
    worker.queries = &stats.queries(i);
    worker.stop = &stop_workers;
    pair.forward = {pair.link->worker_port(), flags.macswap, &pair.forward_counters, &stop_forward};
    CDNS_RETURN_IF_ERROR(pair.gen->Prime(flags.in_flight));
  }
  const QueryFrames& frames = pairs[0]->frames;
  report->services = flags.services;
  report->queries = frames.size();
  report->expected_noerror = frames.noerror;
  report->expected_nxdomain = frames.nxdomain;
  report->in_flight = flags.in_flight;
  report->seconds = flags.seconds;
  report->warmup = flags.warmup;
  report->macswap = flags.macswap;
  report->nic_offloads = flags.nic_offloads;
  const auto received_by_main = [&](size_t i) {
    return i == 0 ? &pairs[0]->gen->counts().received : nullptr;
  };

  // Phase 1: the DNS workers.
  CDNS_ASSIGN_OR_RETURN(
      const std::vector<PhaseFigures> worker_figures,
      RunPhase(
          pairs, dataplane::WorkerMain, [](Pair& pair) -> void* { return &pair.worker; },
          &stop_workers, ReturnMode::kReply, flags,
          [&](size_t i) { return SampleWorker(stats.port(i, i), received_by_main(i)); }));
  report->worker = Combine(worker_figures);
  report->worker_mpps_each = MppsOf(worker_figures);
  std::vector<uint64_t> received_before(pairs.size());
  std::vector<uint64_t> failures_before(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    Generator& gen = *pairs[i]->gen;
    gen.Flush(ReturnMode::kReply);  // the replies still on their way back become queries again
    const GeneratorCounts& g = gen.counts();
    report->worker_generator_failures += g.failures;
    report->worker_deep_checked += g.deep_checked;
    report->worker_checked += g.received;
    if (report->first_failure.empty()) report->first_failure = g.first_failure;
    const dataplane::PortQueueCounters& wc = stats.port(i, i);
    report->worker_drops += wc.TotalDrops() + wc.Load(wc.tx_dropped);
    report->worker_exceptions += wc.TotalExceptions();
    report->worker_rx += wc.Load(wc.rx);
    report->worker_dns_replies += wc.Load(wc.dns_replies);
    const records::QueryCounters& q = stats.queries(i);
    report->noerror += q.rcode(records::kRcodeNoError);
    report->nxdomain += q.rcode(records::kRcodeNxDomain);
    received_before[i] = g.received;
    failures_before[i] = g.failures;
  }

  // Phase 2: plain forwarding on the same lcores and ports.
  if (!g_interrupted.load(std::memory_order_relaxed)) {
    CDNS_ASSIGN_OR_RETURN(
        const std::vector<PhaseFigures> forward_figures,
        RunPhase(
            pairs, ForwardMain, [](Pair& pair) -> void* { return &pair.forward; },
            &stop_forward, ReturnMode::kForwarded, flags, [&](size_t i) {
              return SampleForward(pairs[i]->forward_counters, received_by_main(i));
            }));
    report->forward = Combine(forward_figures);
    report->forward_mpps_each = MppsOf(forward_figures);
  }
  for (size_t i = 0; i < pairs.size(); ++i) {
    Pair& pair = *pairs[i];
    const GeneratorCounts& g = pair.gen->counts();
    report->forward_checked += g.received - received_before[i];
    report->forward_failures += g.failures - failures_before[i];
    if (report->first_failure.empty()) report->first_failure = g.first_failure;
    report->forward_drops += pair.forward_counters.tx_dropped.load(std::memory_order_relaxed);
    // Every mbuf back: what the generator holds plus what the worker freed (drops) is the pool.
    report->reclaimed += pair.gen->Reclaim() + pair.link->FreeUndelivered();
    report->lost_mbufs += static_cast<int64_t>(pair.link->pool_size()) -
                          static_cast<int64_t>(pair.link->mbufs_in_pool());
    pair.link->Stop();  // before ~EalHandle
  }
  report->interrupted = g_interrupted.load(std::memory_order_relaxed);
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
                 "[--pairs=1] [--memory-mb=256] [--deep-every=1024] [--nic-offloads] "
                 "[--link=ring|memif]\n");
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
