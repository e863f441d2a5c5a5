// The exception path (DESIGN.md "Data flow", issue 4): a net_tap port per data port, so the
// kernel's stack (and the control plane's --listen sockets on the served addresses) handles what
// the fast path does not answer: TCP, fragments, ICMP other than echo, ARP replies, NDP
// advertisements, UDP to other ports.
//
//   data port ─ worker k ─ ExceptionPath::Hook ─▶ to_kernel ring (MP/SC) ─▶ slow-path thread
//       ─ tx_burst ─▶ TAP ─▶ kernel (cdns-tap<N>: the data port's MAC and MTU, the served
//       addresses as /32 and /128, link up)
//   kernel ─▶ TAP ─ rx_burst ─ slow-path thread ─▶ from_kernel ring (SP/SC) ─▶ worker 0
//       ─ tx_burst on its own queue ─▶ data port
// Worker 0 sends the kernel's frames on its own TX queue, so the ports need no extra queue.
//
// Routing of the kernel's replies: the served addresses are host addresses on the TAP, and a
// policy rule per served address ("from <address> lookup <route_table>", priority
// <rule_priority>) sends what the kernel sends from them through a default route, scope link, via
// the first data port's TAP: the kernel resolves the client's MAC by ARP/NDP on that link (its
// requests leave through the data port; the answers come back as exceptions). The control
// plane's own traffic (other source addresses) keeps the namespace's main table. So clients on
// the data port's link are reached; a client behind a router is not (no gateway option yet), and
// with several data ports the kernel's replies leave through the first one.
//
// Threads: Create and Stop on the main thread (after the ports are started / after the workers
// have stopped, before the ports are stopped). Hook on any worker lcore (lock-free, no syscall).
// The slow-path thread is an ordinary thread (not an lcore) on the control-plane CPUs; when it
// finds nothing to do it sleeps 100 µs, so the exception path adds up to ~0.1 ms each way.
// Counters: single writer each (the hook's per-(worker, port) block, the thread's per-port
// block, worker 0's per-port egress block); Summary() from any thread.
//
//   CDNS_ASSIGN_OR_RETURN(auto ep, ExceptionPath::Create(ports, workers, served, options, log));
//   worker_config.exception_hook = ExceptionPath::Hook; worker_config.exception_context = ep.get();
//   worker 0: port.from_kernel = ep->from_kernel(p); port.kernel_egress = ep->egress_counters(p);
//   ep->StartThread();  ... workers run ...  (workers stopped) ep->Stop();  ports.Stop();
//   ep.reset();
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/http/metrics.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "records/ip_address.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace clusterdns::dataplane {

struct ExceptionPathOptions {
  bool enabled = false;  // off: exceptions are freed (or go to DataplaneOptions::exception_hook)
  // Kernel interface of data port k: prefix + k (at most 15 characters in all).
  std::string interface_prefix = "cdns-tap";
  uint32_t route_table = 5353;    // the table of the TAP's default routes
  uint32_t rule_priority = 5353;  // the "from <served address>" rules (before main's 32766)
  unsigned ring_size = 1024;      // each direction, per data port (a power of two)
};

// What the hook did with the exceptions of one (worker, port). Single writer: that worker.
struct alignas(64) ExceptionHookCounters {
  std::atomic<uint64_t> to_kernel{0};  // enqueued for the TAP
  std::atomic<uint64_t> ring_full{0};  // freed: the to_kernel ring was full
};

// The slow-path thread's per-port counters. Single writer: the thread.
struct alignas(64) ExceptionThreadCounters {
  std::atomic<uint64_t> tap_tx{0};            // frames written to the TAP (kernel received)
  std::atomic<uint64_t> tap_tx_dropped{0};    // refused by the TAP, freed
  std::atomic<uint64_t> tap_rx{0};            // frames the kernel sent out of the TAP
  std::atomic<uint64_t> from_kernel_full{0};  // freed: the from_kernel ring was full
};

class ExceptionPath final : public controlplane::ExceptionPathCounterSource {
 public:
  // One TAP per data port in `ports` (the data ports must be started). `workers`: number of
  // workers (hook counter blocks). Errors name the TAP, interface or address; nothing is left
  // behind (TAPs removed, rules deleted).
  static absl::StatusOr<std::unique_ptr<ExceptionPath>> Create(
      const std::vector<PortInfo>& ports, size_t workers,
      const std::vector<records::IpAddress>& served, const ExceptionPathOptions& options, bool log);
  ~ExceptionPath();  // Stop(), then the TAP pool is freed (after the data ports have stopped)
  ExceptionPath(const ExceptionPath&) = delete;
  ExceptionPath& operator=(const ExceptionPath&) = delete;

  // ExceptionHook (worker.h): `context` is the ExceptionPath; `queue` the worker index.
  static void Hook(void* context, uint16_t port_id, uint16_t queue, rte_mbuf** mbufs,
                   uint16_t count) noexcept;

  // For worker 0's WorkerPort of data port index `p`.
  rte_ring* from_kernel(size_t p) const { return taps_[p].from_kernel; }
  KernelEgressCounters* egress_counters(size_t p) { return &egress_[p]; }

  void StartThread();
  // Stops the thread, frees what the rings hold, removes the TAPs (the kernel interfaces
  // disappear) and the rules, logs the counters. Workers must have stopped. Idempotent.
  void Stop();

  // "exception port=0 tap=cdns-tap0 to_kernel=3 ring_full=0 tap_tx=3 tap_tx_dropped=0 tap_rx=4
  //  from_kernel_full=0 kernel_tx=4 kernel_tx_dropped=0", one line per data port.
  std::string Summary() const;
  // The same counters for /metrics (Metrics::SetExceptionPathSource). Any thread.
  std::vector<controlplane::ExceptionPathSnapshot> SnapshotExceptionPath() const override;

 private:
  struct Tap {
    uint16_t data_port = 0;
    std::string vdev;       // "net_tap_exc0"
    std::string interface;  // "cdns-tap0"
    uint16_t port_id = 0;   // the TAP's ethdev
    bool probed = false;
    bool started = false;
    rte_ring* to_kernel = nullptr;
    rte_ring* from_kernel = nullptr;
  };

  ExceptionPath() = default;
  absl::Status AddTap(const PortInfo& port, size_t index,
                      const std::vector<records::IpAddress>& served);
  absl::Status AddRoutes(const std::vector<records::IpAddress>& served);
  void Run() noexcept;

  ExceptionPathOptions options_;
  bool log_ = false;
  size_t workers_ = 0;
  std::vector<Tap> taps_;
  std::vector<int16_t> tap_of_port_;       // data port id → taps_ index, -1 for none
  std::vector<records::IpAddress> rules_;  // rules added, deleted at Stop
  rte_mempool* pool_ = nullptr;            // the TAPs' RX mbufs
  std::unique_ptr<ExceptionHookCounters[]> hook_counters_;  // worker-major, per port
  std::unique_ptr<ExceptionThreadCounters[]> thread_counters_;
  std::unique_ptr<KernelEgressCounters[]> egress_;
  std::atomic<bool> stop_{false};  // relaxed: the thread's exit request; join orders the rest
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace clusterdns::dataplane
