// MemifPair: the pool and the two loopback net_memif ethdevs of the per-core harness, created
// with rte_vdev_init under the caller's EAL (--no-pci --no-huge, memif_pair.h): no device is
// probed.
// The interrupt-instance calls DrainInterruptThread needs are experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1
#include "bench/dataplane/memif_pair.h"

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "records/status_macros.h"

namespace clusterdns::bench {
namespace {

struct InterruptBarrier {
  int fd = -1;
  rte_intr_handle* handle = nullptr;
  std::atomic<int> wakeups{0};
};

// Per-lcore mbuf cache: each side allocates on receive and frees on transmit, as a NIC driver
// does, so both take mbufs from their own cache rather than from the shared pool ring.
constexpr unsigned kPoolCache = 256;
// Bursts in progress on both sides plus two lcores' caches (a cache may hold 1.5x its size).
constexpr unsigned kPoolSlack = 2 * 64 + 2 * (kPoolCache * 3 / 2);
// memif's own default ring size, 2^10: rings are never smaller than that.
constexpr unsigned kMinRingLog2 = 10;
constexpr int kLinkTimeoutMs = 5000;

// Creates the vdev `name` with `args` and returns its port id.
absl::StatusOr<uint16_t> CreateMemif(const std::string& name, const std::string& args) {
  if (int rc = rte_vdev_init(name.c_str(), args.c_str()); rc != 0) {
    return absl::InternalError(absl::StrCat("memif vdev ", name, " (", args,
                                            ") would not start: ", rte_strerror(-rc)));
  }
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    rte_vdev_uninit(name.c_str());
    return absl::InternalError(absl::StrCat("memif vdev ", name, " has no ethdev port"));
  }
  return port;
}

// A callback of the EAL's interrupt thread on an eventfd of our own: it clears the counter and
// counts the wake-ups.
void CountWakeup(void* arg) {
  auto* barrier = static_cast<InterruptBarrier*>(arg);
  uint64_t value = 0;
  if (read(barrier->fd, &value, sizeof(value)) == sizeof(value)) {
    barrier->wakeups.fetch_add(1, std::memory_order_acq_rel);
  }
}

// The barrier's eventfd, registered with the interrupt thread once and for the life of the
// process (nullptr when that failed). Never unregistered: an unregister wakes the thread to
// rebuild its list of sources, and DPDK 22.11's rte_eal_cleanup frees the heap without stopping
// the thread; with an unregister just before the cleanup, 1 run in 5 crashed in that rebuild.
// The handle is private (calloc'd, not on the DPDK heap).
InterruptBarrier* RegisteredBarrier() {
  static InterruptBarrier* const barrier = []() -> InterruptBarrier* {
    auto* b = new InterruptBarrier;  // never freed, see above
    b->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->handle = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
    if (b->fd >= 0 && b->handle != nullptr && rte_intr_fd_set(b->handle, b->fd) == 0 &&
        rte_intr_type_set(b->handle, RTE_INTR_HANDLE_EXT) == 0 &&
        rte_intr_callback_register(b->handle, CountWakeup, b) == 0) {
      return b;
    }
    rte_intr_instance_free(b->handle);  // accepts nullptr
    if (b->fd >= 0) close(b->fd);
    delete b;
    return nullptr;
  }();
  return barrier;
}

// Waits (up to kLinkTimeoutMs) until the interrupt thread has finished the memif work that closing
// the ports queued: the disconnect handling and the deferred frees of the control channels, which
// must not run after rte_eal_cleanup has freed the heap (1 run in 100 crashed so before). Two
// wake-ups in turn: the second is written only once the first was handled, so it arrives in a
// later round of the thread's loop than anything queued before.
void DrainInterruptThread() {
  InterruptBarrier* barrier = RegisteredBarrier();
  if (barrier == nullptr) {
    usleep(100 * 1000);  // no barrier to be had: the work takes well under a millisecond
    return;
  }
  for (int round = 1; round <= 2; ++round) {
    const int target = barrier->wakeups.load(std::memory_order_acquire) + 1;
    const uint64_t one = 1;
    if (write(barrier->fd, &one, sizeof(one)) != sizeof(one)) return;
    for (int waited_ms = 0;
         barrier->wakeups.load(std::memory_order_acquire) < target && waited_ms < kLinkTimeoutMs;
         ++waited_ms) {
      usleep(1000);
    }
  }
}

bool LinkUp(uint16_t port) {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MemifPair>> MemifPair::Create(unsigned in_flight, unsigned index) {
  if (in_flight == 0 || in_flight > kMaxInFlight) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memif: ", in_flight, " frames in flight; a memif ring holds 1 to ", kMaxInFlight));
  }
  auto owned = std::make_unique<MemifPair>();  // its destructor undoes a failed Create
  MemifPair& pair = *owned;
  const auto name = [index](const char* what) { return absl::StrCat("wbench_", what, index); };
  pair.pool_size_ = in_flight + kPoolSlack;
  pair.pool_ = rte_pktmbuf_pool_create(name("mpool").c_str(), pair.pool_size_, kPoolCache, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE,
                                       static_cast<int>(rte_socket_id()));
  if (pair.pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "mbuf pool of ", pair.pool_size_, " mbufs: ", rte_strerror(rte_errno), " (raise -m)"));
  }
  unsigned ring_log2 = kMinRingLog2;
  while ((1u << ring_log2) < in_flight) ++ring_log2;
  // One abstract socket per pair and process: no file to clean up, no clash with another run.
  const std::string common =
      absl::StrCat("id=0,socket=/cdns-wbench-", getpid(), "-", index,
                   ",socket-abstract=yes,rsize=", ring_log2, ",bsize=", RTE_MBUF_DEFAULT_DATAROOM);
  // The server listens from its creation; the client connects when it starts.
  CDNS_ASSIGN_OR_RETURN(pair.worker_port_, CreateMemif(absl::StrCat("net_memif_", name("w")),
                                                       absl::StrCat(common, ",role=server")));
  pair.worker_port_up_ = true;
  CDNS_ASSIGN_OR_RETURN(pair.generator_port_, CreateMemif(absl::StrCat("net_memif_", name("g")),
                                                          absl::StrCat(common, ",role=client")));
  pair.generator_port_up_ = true;
  if (absl::Status s = StartPairPort(pair.worker_port_, pair.pool_); !s.ok()) return s;
  if (absl::Status s = StartPairPort(pair.generator_port_, pair.pool_); !s.ok()) return s;
  // The handshake runs on the EAL's interrupt thread.
  for (int waited_ms = 0; !LinkUp(pair.worker_port_) || !LinkUp(pair.generator_port_);
       waited_ms += 10) {
    if (waited_ms >= kLinkTimeoutMs) {
      return absl::DeadlineExceededError(absl::StrCat(
          "memif loopback of pair ", index, ": no link after ", kLinkTimeoutMs, " ms"));
    }
    usleep(10 * 1000);
  }
  // The client posts the buffers of the server-to-client ring when it receives: until its first
  // rx_burst the worker's transmit would find no room and drop its first burst.
  rte_mbuf* none[1];
  rte_eth_rx_burst(pair.generator_port_, 0, none, 0);
  return owned;
}

unsigned MemifPair::mbufs_in_pool() const {
  return pool_ == nullptr ? 0 : rte_mempool_avail_count(pool_);  // the lcore caches included
}

void MemifPair::Stop() {
  // One side at a time, and every change of memif's state settled on the interrupt thread before
  // the next: DPDK 22.11's memif frees a control channel on that thread after the callback that
  // disconnected it, and a close on this thread meanwhile crashed 1 run in 100 (both ends live in
  // this process, so both ends' callbacks run on that one thread). Stopping the client disconnects
  // it; the server learns of it on the interrupt thread.
  if (generator_port_up_) {
    rte_eth_dev_stop(generator_port_);
    for (int waited_ms = 0; worker_port_up_ && LinkUp(worker_port_) && waited_ms < kLinkTimeoutMs;
         ++waited_ms) {
      usleep(1000);
    }
    DrainInterruptThread();
    ClosePairPort(generator_port_);
  }
  if (worker_port_up_) {
    ClosePairPort(worker_port_);
    DrainInterruptThread();
  }
  generator_port_up_ = false;
  worker_port_up_ = false;
  rte_mempool_free(pool_);  // accepts nullptr
  pool_ = nullptr;
}

}  // namespace clusterdns::bench
