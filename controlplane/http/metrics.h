// Metrics: everything clusterdns exports on /metrics, assembled at scrape time.
//
// Nothing here runs per query. The answering threads keep their own counter blocks
// (records::QueryCounters, one writer each), the sources keep SourceStats, the dataplane offers a
// WorkerCounterSource; Metrics only holds pointers to them and reads them with relaxed loads when
// Render() is called. The few values that the control plane pushes (table gauges, publish
// counters, the programming-latency histogram) sit behind a small mutex: they change once per
// table publish, not per packet.
//
// Threads: every method is thread-safe. Registration (Add*, SetWorkerSource) is meant for startup
// but may also run while Render() is being called from HTTP threads (a mutex guards the lists).
// Render() may be called from any number of threads at once.
//
// Ownership: Metrics does not own what it is given. Every registered QueryCounters, SourceStats
// and WorkerCounterSource must outlive the Metrics object (or at least every Render() call).
//
// Units: seconds for times and durations (Prometheus base units), bytes for sizes.
//
//   Metrics metrics("1.0.0");
//   metrics.AddQueryCounters("listen", &udp_listener_counters);
//   metrics.AddSource(&services_stats);
//   ...after each publish:  metrics.SetTable(t.name_count(), t.bytes(), t.shard_count(),
//   t.generation());
//                           metrics.CountPublish(rebuilt); metrics.ObserveProgrammingLatency(secs);
//   std::string text = metrics.Render();   // text exposition format 0.0.4
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "controlplane/source_stats.h"
#include "records/answer_cache.h"
#include "records/query_counters.h"

namespace clusterdns::controlplane {

// One dataplane worker's packet counters on one (port, queue), as the dataplane snapshots them.
// Counters only ever grow. Cycles are TSC cycles spent in busy / idle polls.
struct WorkerCounterSnapshot {
  unsigned lcore = 0;
  unsigned port = 0;
  unsigned queue = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_dropped = 0;  // refused by tx_burst and freed
  uint64_t exceptions = 0;  // handed to the exception path
  uint64_t busy_polls = 0;  // rx_burst calls that returned packets
  uint64_t idle_polls = 0;  // rx_burst calls that returned none
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  std::vector<std::pair<std::string, uint64_t>> drops_by_reason;  // (reason label, count)
};

// Implemented by the dataplane. SnapshotWorkers() is called from HTTP threads at scrape time,
// possibly from several at once: it must be thread-safe and must not block the workers.
class WorkerCounterSource {
 public:
  virtual ~WorkerCounterSource() = default;
  virtual std::vector<WorkerCounterSnapshot> SnapshotWorkers() const = 0;
};

// The exception path of one data port (dataplane/exception_path.h), as the dataplane snapshots
// it. Counters only ever grow.
struct ExceptionPathSnapshot {
  unsigned port = 0;
  std::string tap;              // the kernel interface, "cdns-tap0"
  uint64_t to_kernel = 0;       // frames the workers handed to the TAP thread
  uint64_t ring_full = 0;       // freed: the ring to the TAP thread was full
  uint64_t tap_tx = 0;          // written to the TAP (the kernel received them)
  uint64_t tap_tx_dropped = 0;  // refused by the TAP
  uint64_t tap_rx = 0;          // frames the kernel sent out of the TAP
  uint64_t from_kernel_full = 0;  // freed: the ring back to worker 0 was full
  uint64_t kernel_tx = 0;       // the kernel's frames sent on the data port
  uint64_t kernel_tx_dropped = 0;
};

// Implemented by the dataplane's exception path; thread-safe like WorkerCounterSource.
class ExceptionPathCounterSource {
 public:
  virtual ~ExceptionPathCounterSource() = default;
  virtual std::vector<ExceptionPathSnapshot> SnapshotExceptionPath() const = 0;
};

// The upstream forwarder's counters (controlplane/forward/forwarder_stats.h), as snapshotted.
struct ForwarderSnapshot {
  uint64_t requests = 0;  // queries handed to the forwarder
  uint64_t relayed = 0;   // replies that were an upstream's answer
  uint64_t in_flight = 0;
  std::vector<std::pair<std::string, uint64_t>> servfail_by_cause;  // (cause label, count)
  std::vector<std::pair<std::string, uint64_t>> dropped_by_reason;  // upstream answers dropped
  struct Upstream {
    std::string address;  // "198.18.0.1:53"
    uint64_t queries = 0;
    uint64_t answers = 0;
    uint64_t timeouts = 0;
    uint64_t tcp_retries = 0;
    uint64_t errors = 0;
  };
  std::vector<Upstream> upstreams;
};

class ForwarderCounterSource {
 public:
  virtual ~ForwarderCounterSource() = default;
  virtual ForwarderSnapshot SnapshotForwarder() const = 0;
};

// The dataplane's forward path (dataplane/forward_path.h): queries for names outside the zones
// from the workers to the forwarder and the replies back, by stage.
struct ForwardPathSnapshot {
  uint64_t handed_over = 0;    // queries the workers put on the ring
  uint64_t ring_full = 0;      // freed by a worker: the ring was full
  uint64_t submitted = 0;      // taken by the forwarder
  uint64_t not_submitted = 0;  // freed: the forwarder was not running, or the frame unreadable
  uint64_t replied = 0;        // replies built (for the reserved queue, or for worker 0)
  uint64_t truncated = 0;      // of those, cut to TC because the mbuf could not hold the reply
  uint64_t reply_dropped = 0;  // freed: the reply ring was full, or the reply could not be built
  uint64_t tx = 0;             // sent (on the reserved queue, or by worker 0)
  uint64_t tx_dropped = 0;     // refused by tx_burst, freed
};

class ForwardPathCounterSource {
 public:
  virtual ~ForwardPathCounterSource() = default;
  virtual ForwardPathSnapshot SnapshotForwardPath() const = 0;
};

class Metrics {
 public:
  // Upper bounds of clusterdns_programming_latency_seconds: 100 µs (a one-Service change on a warm
  // table) to 10 s (a full relist of a very large cluster), roughly 1-2.5-5 per decade.
  static constexpr std::array<double, 16> kLatencyBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

  // `version` is the clusterdns_build_info{version} label; `start_time` the process start.
  explicit Metrics(std::string version, absl::Time start_time = absl::Now());
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Query counters of one answering thread. Blocks with the same `path_label` ("listen",
  // "dataplane") are summed into one series per label set.
  void AddQueryCounters(std::string path_label, const records::QueryCounters* counters);
  // Counters of one source of cluster objects, labelled by SourceStats::name.
  void AddSource(const SourceStats* source);
  // The dataplane's per-worker counters; nullptr removes it. At most one source.
  void SetWorkerSource(const WorkerCounterSource* source);
  // The dataplane's exception path (one TAP per data port); nullptr removes it.
  void SetExceptionPathSource(const ExceptionPathCounterSource* source);
  // The upstream forwarder (--upstream); nullptr removes it.
  void SetForwarderSource(const ForwarderCounterSource* source);
  // The dataplane's forward path; nullptr removes it.
  void SetForwardPathSource(const ForwardPathCounterSource* source);
  // The cache of upstream answers (records/answer_cache.h); nullptr removes it.
  void SetAnswerCache(const records::AnswerCache* cache);

  // Control-plane thread, after each publish: the published table's size and generation.
  void SetTable(size_t names, size_t bytes, size_t shards, uint64_t generation);
  // One more table published, having rebuilt `shards_rebuilt` shards.
  void CountPublish(size_t shards_rebuilt);
  // Seconds from a watch event received to the table that reflects it being published. Negative
  // values (a clock step) count as 0; NaN is ignored.
  void ObserveProgrammingLatency(double seconds);

  // The Prometheus text exposition format 0.0.4: HELP and TYPE for every family, families in a
  // fixed order, every label value escaped.
  std::string Render() const;

 private:
  struct QueryPath {
    std::string label;
    std::vector<const records::QueryCounters*> blocks;
  };

  const std::string version_;
  const double start_time_seconds_;

  mutable std::mutex registry_mu_;  // guards the registered pointers below
  std::vector<QueryPath> query_paths_;
  std::vector<const SourceStats*> sources_;
  const WorkerCounterSource* workers_ = nullptr;
  const ExceptionPathCounterSource* exception_path_ = nullptr;
  const ForwarderCounterSource* forwarder_ = nullptr;
  const records::AnswerCache* cache_ = nullptr;
  const ForwardPathCounterSource* forward_path_ = nullptr;

  mutable std::mutex state_mu_;  // guards the pushed values below
  size_t table_names_ = 0;
  size_t table_bytes_ = 0;
  size_t table_shards_ = 0;
  uint64_t table_generation_ = 0;
  uint64_t publishes_ = 0;
  uint64_t shards_rebuilt_ = 0;
  std::array<uint64_t, kLatencyBuckets.size() + 1> latency_counts_{};  // per bucket, last = +Inf
  double latency_sum_ = 0;
  uint64_t latency_count_ = 0;
};

}  // namespace clusterdns::controlplane
