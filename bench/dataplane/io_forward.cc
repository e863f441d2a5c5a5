// The forwarding loop, io or macswap (io_forward.h). Hot path: no allocation, no syscall, no
// logging.
#include "bench/dataplane/io_forward.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/worker.h"
#include "dataplane/worker_stats.h"

namespace clusterdns::bench {
namespace {

using dataplane::Bump;
using dataplane::kBurstSize;

inline void SwapMacs(rte_mbuf* m) noexcept {
  uint8_t* eth = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t tmp[6];
  std::memcpy(tmp, eth, 6);
  std::memcpy(eth, eth + 6, 6);
  std::memcpy(eth + 6, tmp, 6);
}

}  // namespace

int ForwardMain(void* arg) noexcept {
  const ForwardConfig& config = *static_cast<const ForwardConfig*>(arg);
  ForwardCounters& c = *config.counters;
  // relaxed: the flag only asks the loop to end; rte_eal_wait_lcore orders the rest.
  while (!config.stop->load(std::memory_order_relaxed)) {
    const uint64_t start_tsc = rte_rdtsc();
    rte_mbuf* mbufs[kBurstSize];
    const uint16_t n = rte_eth_rx_burst(config.port_id, 0, mbufs, kBurstSize);
    if (n == 0) {
      Bump(c.idle_polls);
      Bump(c.idle_cycles, rte_rdtsc() - start_tsc);
      continue;
    }
    if (config.swap_macs) {
      for (uint16_t i = 0; i < n; ++i) SwapMacs(mbufs[i]);
    }
    const uint16_t sent = rte_eth_tx_burst(config.port_id, 0, mbufs, n);
    if (unlikely(sent < n)) {
      rte_pktmbuf_free_bulk(mbufs + sent, n - sent);
      Bump(c.tx_dropped, n - sent);
    }
    Bump(c.rx, n);
    Bump(c.tx, sent);
    Bump(c.busy_polls);
    Bump(c.busy_cycles, rte_rdtsc() - start_tsc);
  }
  return 0;
}

}  // namespace clusterdns::bench
