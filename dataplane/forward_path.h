// The forward path (issue 5, "Forwarding"): queries for names in no served zone that the answer
// cache could not answer go from the workers to the control plane's forwarder through a lockless
// ring, and the forwarder's replies come back out of the data port, without the exception path's
// TAP round trip through the kernel.
//
//   worker k ─ ForwardPath::Hook ─▶ to_slow ring (MP/SC) ─▶ slow-path thread: the frame is
//       copied into an mbuf of the forward path's own pool and the port's mbuf freed at once,
//       the copy classified again (the parse travels with the request) and its DNS payload
//       copied into a QueryForwarder request: a query that waits for its upstream (up to the deadline, up to --forward-max-in-flight of them)
//       holds none of the RX queues' mbufs, so a slow or dead upstream cannot starve RX
//   forwarder thread (reply callback): the reply written over the query in the same mbuf
//       (truncated to the header, question and TC if it does not fit the mbuf), addresses and
//       ports swapped, lengths and checksums fixed (FinishDnsReply) ─▶ tx_burst on the TX queue
//       the port reserved for the slow path (PortInfo::slow_path_tx_queue), from this thread
// A port whose queues are RX/TX pairs (net_af_packet, net_af_xdp, net_tap: an extra TX queue
// would bring an RX queue nobody polls) has no reserved queue: there the reply goes to the
// to_port ring of the frame's port (SP/SC) ─▶ worker 0 ─ tx_burst on its own queue, as the
// kernel's frames of the exception path do.
//
// Threads: Create and Stop on the main thread. Hook on any worker lcore (lock-free, no syscall).
// Start(forwarder) starts the slow-path thread (an ordinary thread on the control-plane CPUs,
// sleeping 100 µs when it finds nothing to do). Reply callbacks run on the forwarder's thread, the
// only producer of the to_port rings. Stop after the forwarder has stopped (no callback can come
// later) and after the workers: it joins the thread and frees what the rings hold.
// Counters: single writer each; snapshot() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/http/metrics.h"
#include "controlplane/listen/query_forwarder.h"
#include "dataplane/packet/served_addresses.h"
#include "dataplane/packet/frame.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace clusterdns::dataplane {

class ForwardPath final : public controlplane::ForwardPathCounterSource {
 public:
  // One reply ring per data port in `ports`; `workers` lcores will call Hook.
  // `waiting`: mbufs of the forward path's own pool, one per query from the slow-path thread
  // until worker 0 has sent its reply (the forwarder's in-flight cap, the rings and slack); a
  // query that finds the pool empty is dropped and counted (not_submitted).
  static absl::StatusOr<std::unique_ptr<ForwardPath>> Create(const std::vector<PortInfo>& ports,
                                                             size_t workers,
                                                             const ServedAddresses& served,
                                                             unsigned ring_size = 1024,
                                                             unsigned waiting = 4096);
  ~ForwardPath() override;  // Stop()
  ForwardPath(const ForwardPath&) = delete;
  ForwardPath& operator=(const ForwardPath&) = delete;

  // ExceptionHook's signature (worker.h): `context` is the ForwardPath; `queue` the worker index.
  // Takes every mbuf (queued or freed).
  static void Hook(void* context, uint16_t port_id, uint16_t queue, rte_mbuf** mbufs,
                   uint16_t count) noexcept;

  // For worker 0's WorkerPort of data port index `p` (used only when the port has no
  // slow-path TX queue).
  rte_ring* to_port(size_t p) const { return to_port_[p]; }
  KernelEgressCounters* egress_counters(size_t p) { return &egress_[p]; }

  // Starts the slow-path thread, which hands every query to `forwarder` (must outlive Stop).
  void Start(controlplane::QueryForwarder* forwarder);
  // Joins the thread and frees what the rings hold. Idempotent. The pool goes with the
  // ForwardPath, which must outlive the ports' TX rings (their mbufs may come from it).
  void Stop();

  // For /metrics (Metrics::SetForwardPathSource). Any thread.
  controlplane::ForwardPathSnapshot SnapshotForwardPath() const override;

 private:
  struct alignas(64) HookCounters {
    std::atomic<uint64_t> handed_over{0};
    std::atomic<uint64_t> ring_full{0};
  };
  struct alignas(64) ThreadCounters {  // the slow-path thread
    std::atomic<uint64_t> submitted{0};
    std::atomic<uint64_t> not_submitted{0};
  };
  struct alignas(64) ReplyCounters {  // the forwarder's thread
    std::atomic<uint64_t> replied{0};
    std::atomic<uint64_t> truncated{0};
    std::atomic<uint64_t> dropped{0};
  };

  ForwardPath() = default;
  void Run() noexcept;
  void Submit(rte_mbuf* m) noexcept;
  void OnReply(rte_mbuf* m, const ParsedFrame& p, size_t port_index,
               std::span<const uint8_t> reply) noexcept;

  std::vector<PortInfo> ports_;
  std::vector<int16_t> index_of_port_;  // port id → ports_ index, -1 for none
  ServedAddresses served_;
  size_t workers_ = 0;
  rte_ring* to_slow_ = nullptr;
  rte_mempool* pool_ = nullptr;
  std::vector<rte_ring*> to_port_;
  std::unique_ptr<HookCounters[]> hook_counters_;  // per worker
  ThreadCounters thread_counters_;
  ReplyCounters reply_counters_;
  std::unique_ptr<KernelEgressCounters[]> egress_;  // per port, worker 0
  controlplane::QueryForwarder* forwarder_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace clusterdns::dataplane
