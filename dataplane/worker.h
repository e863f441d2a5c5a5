// The per-lcore worker (DESIGN.md "Dataplane worker", STYLE.md examples 1-4, 6, 9): poll the
// worker's RX queue on every port, answer in place, transmit on the same queue.
//
// One loop iteration:
//   table = publisher->Current()                     (once per loop: the only shared read)
//   for each port: rx_burst(32) → prefetch → ClassifyFrame each →
//       DNS: RespondBurst over the payloads in the mbufs → FinishDnsReply (TX UDP checksum
//            offload flags and l2/l3 lengths when the port offers it);
//            kForward (a name in no served zone) → exception path
//       ARP / NS / echo: answered in place
//       exceptions → the exception hook (or freed), drops → freed; every one counted by reason
//       → tx_burst; what TX refuses is freed and counted
//   worker 0 with the exception path: the kernel's frames from the ring → tx_burst
//   rte_rcu_qsbr_quiescent                           (once per loop, also when every burst was
//                                                    empty)
//   stop flag (relaxed load)                         (once per loop)
// No syscalls, locks, allocation, exceptions or logging inside the loop.
//
// Threads: RunWorker runs on the worker's lcore (an EAL worker lcore through rte_eal_remote_launch
// and WorkerMain, or the main lcore on the main thread, see Dataplane::RunMainLcore). The config
// is read-only while the worker runs and must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/packet/mac_address.h"
#include "dataplane/packet/served_addresses.h"
#include "dataplane/qsbr_grace_period.h"
#include "dataplane/worker_stats.h"
#include "records/query_counters.h"
#include "records/respond.h"
#include "records/table_publisher.h"

struct rte_mbuf;
struct rte_ring;

namespace clusterdns::dataplane {

// Packets per rx_burst / tx_burst (STYLE.md example 1): the burst RespondBurst takes, and the
// l3fwd default; enough to amortise the PMD call and the table prefetches.
inline constexpr uint16_t kBurstSize = 32;
static_assert(kBurstSize <= records::kMaxBurst);

// The exception seam: frames addressed to us that the fast path does not answer (TCP, fragments,
// other UDP ports, other ICMP, ARP replies, names in no served zone). Called on the worker's lcore
// at most once per RX burst with the burst's exceptions, unmodified; it takes ownership of every
// mbuf (enqueue to a ring for the TAP / slow-path thread, or free). Must not block. nullptr: the
// worker frees them (they are counted either way).
using ExceptionHook = void (*)(void* context, uint16_t port_id, uint16_t queue, rte_mbuf** mbufs,
                               uint16_t count) noexcept;

// Frames the kernel sent out of the exception path's TAP (exception_path.h), transmitted by
// worker 0 on its own queue. Single writer: worker 0.
struct alignas(64) KernelEgressCounters {
  std::atomic<uint64_t> tx{0};          // accepted by tx_burst
  std::atomic<uint64_t> tx_dropped{0};  // refused by tx_burst, freed
};

// One port as one worker sees it.
struct WorkerPort {
  uint16_t port_id = 0;
  uint16_t queue = 0;  // = the worker index
  MacAddress mac;
  bool udp_tx_checksum_offload = false;
  PortQueueCounters* counters = nullptr;  // this (worker, port)'s block
  // Worker 0 only, with the exception path: frames from the kernel to send on this port (single
  // consumer: this worker), polled once per loop, and their counters. nullptr otherwise.
  rte_ring* from_kernel = nullptr;
  KernelEgressCounters* kernel_egress = nullptr;
  // Worker 0 only, with the forward path (forward_path.h): the forwarder's replies to send on
  // this port, and their counters. nullptr otherwise.
  rte_ring* from_slow_path = nullptr;
  KernelEgressCounters* slow_path_egress = nullptr;
};

struct WorkerConfig {
  unsigned index = 0;  // worker index: queue number and QSBR reader id
  unsigned lcore = 0;
  std::vector<WorkerPort> ports;
  ServedAddresses served;  // a copy per worker, on its own cache lines
  records::RespondOptions respond;
  const records::TablePublisher* publisher = nullptr;
  QsbrGracePeriod* grace = nullptr;
  records::QueryCounters* queries = nullptr;
  const std::atomic<bool>* stop = nullptr;
  ExceptionHook exception_hook = nullptr;
  void* exception_context = nullptr;
  // Queries for names in no served zone (Verdict::kForward after the cache): handed to this hook
  // (forward_path.h) when set, else to the exception hook like any other exception.
  ExceptionHook forward_hook = nullptr;
  void* forward_context = nullptr;
};

// Goes online in the grace period, polls until *config.stop, goes offline. Returns 0.
int RunWorker(const WorkerConfig& config) noexcept;

// rte_lcore_function_t for rte_eal_remote_launch: `arg` is a const WorkerConfig*.
int WorkerMain(void* arg) noexcept;

}  // namespace clusterdns::dataplane
