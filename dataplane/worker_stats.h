// Per-worker counters (STYLE.md example 5): one cache-aligned block per (worker, port) and one
// records::QueryCounters per worker, each with a single writer (the worker's lcore) and no atomic
// read-modify-write: the writer does a relaxed load and a relaxed store, readers (the metrics
// exporter, the responder's summary) do relaxed loads at any time and may see values a burst
// old, never torn ones.
//
// WorkerStats owns the blocks for every worker and implements controlplane::WorkerCounterSource
// (controlplane/http/metrics.h, used as a header-only interface: no link dependency on the
// metrics library). Blocks never move after construction: workers keep raw pointers to them.
//
//   WorkerStats stats({0, 1}, {0});                      // worker lcores, port ids
//   PortQueueCounters& c = stats.port(worker, port);     // the worker's block for a port
//   Bump(c.rx, nb_rx);                                   // hot path, single writer
//   std::vector<WorkerCounterSnapshot> s = stats.SnapshotWorkers();   // any thread
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/http/metrics.h"
#include "dataplane/packet/frame.h"
#include "records/query_counters.h"

namespace clusterdns::dataplane {

// Drops decided by the worker rather than the classifier.
enum class WorkerDropReason : uint8_t {
  kNoTable,       // a DNS query before the first table was published
  kReplyFailed,   // FinishDnsReply / AnswerNeighborSolicit could not build the reply
  kMultiSegment,  // a chained mbuf (scatter RX is not enabled; a PMD handed one anyway)
  kCount,
};
const char* WorkerDropReasonName(WorkerDropReason reason) noexcept;  // "no_table", ...

inline constexpr size_t kFrameDropSlots = static_cast<size_t>(DropReason::kCount);
inline constexpr size_t kDropSlots =
    kFrameDropSlots + static_cast<size_t>(WorkerDropReason::kCount);
// Exception reasons of the classifier, plus one slot for queries whose name is in no served zone
// (respond() said kForward): they go to the slow path's forwarder.
inline constexpr size_t kExceptionSlots = static_cast<size_t>(ExceptionReason::kCount) + 1;
inline constexpr size_t kForwardExceptionSlot = kExceptionSlots - 1;

// Adds `n` to a single-writer counter. relaxed: readers need untorn values, no ordering.
inline void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct alignas(64) PortQueueCounters {
  std::atomic<uint64_t> rx{0};          // packets received
  std::atomic<uint64_t> tx{0};          // replies accepted by tx_burst
  std::atomic<uint64_t> tx_dropped{0};  // replies refused by tx_burst, freed
  std::atomic<uint64_t> dns_replies{0};
  std::atomic<uint64_t> arp_replies{0};
  std::atomic<uint64_t> nd_replies{0};  // neighbour advertisements
  std::atomic<uint64_t> echo_replies{0};
  std::atomic<uint64_t> busy_polls{0};  // rx_burst calls that returned packets
  std::atomic<uint64_t> idle_polls{0};
  std::atomic<uint64_t> busy_cycles{0};  // TSC cycles in busy polls (receive through transmit)
  std::atomic<uint64_t> idle_cycles{0};
  // Indexed by DropReason (kNone unused), then kFrameDropSlots + WorkerDropReason.
  std::array<std::atomic<uint64_t>, kDropSlots> drops{};
  // Indexed by ExceptionReason (kNone unused), then kForwardExceptionSlot.
  std::array<std::atomic<uint64_t>, kExceptionSlots> exceptions{};

  uint64_t Load(const std::atomic<uint64_t>& c) const noexcept {
    return c.load(std::memory_order_relaxed);
  }
  uint64_t TotalDrops() const noexcept;
  uint64_t TotalExceptions() const noexcept;
};

// Label of drop slot i ("truncated", ..., "no_table") and exception slot i ("protocol", ...,
// "forward"); "" for the unused kNone slots.
const char* DropSlotName(size_t slot) noexcept;
const char* ExceptionSlotName(size_t slot) noexcept;

class WorkerStats final : public controlplane::WorkerCounterSource {
 public:
  // `lcores`: the worker lcores in worker order; `port_ids`: the ports in the order the workers
  // poll them (port index = position in this list).
  WorkerStats(std::vector<unsigned> lcores, std::vector<uint16_t> port_ids);

  size_t workers() const { return lcores_.size(); }
  size_t ports() const { return port_ids_.size(); }
  unsigned lcore(size_t worker) const { return lcores_[worker]; }

  // Writer side: the worker's own blocks.
  PortQueueCounters& port(size_t worker, size_t port_index) {
    return blocks_[worker * port_ids_.size() + port_index];
  }
  records::QueryCounters& queries(size_t worker) { return queries_[worker]; }

  // Reader side, any thread.
  const PortQueueCounters& port(size_t worker, size_t port_index) const {
    return blocks_[worker * port_ids_.size() + port_index];
  }
  const records::QueryCounters& queries(size_t worker) const { return queries_[worker]; }

  // One snapshot per (worker, port): lcore, port id, queue = worker index. Thread-safe, never
  // blocks a worker.
  std::vector<controlplane::WorkerCounterSnapshot> SnapshotWorkers() const override;

  // One line per (worker, port), for logs and tests to parse:
  //   "worker lcore=1 port=0 queue=1 rx=10 tx=9 tx_dropped=0 dns=7 arp=1 nd=0 echo=1 drops=1
  //    exceptions=0 busy_polls=3 idle_polls=100 drop.not_for_us=1 exception.protocol=0 ..."
  // (only nonzero reason counters are listed).
  std::string Summary() const;

 private:
  std::vector<unsigned> lcores_;
  std::vector<uint16_t> port_ids_;
  std::unique_ptr<PortQueueCounters[]> blocks_;  // worker-major
  std::unique_ptr<records::QueryCounters[]> queries_;
};

}  // namespace clusterdns::dataplane
