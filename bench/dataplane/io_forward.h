// Plain forwarding on one lcore: the floor the per-core harness compares the DNS worker with
// (scripts/bench-dataplane.sh). The loop testpmd runs in its io or macswap forwarding mode, with
// the same measurement as the worker's (dataplane/worker.cc PollPort): rx_burst(32) on queue 0 of
// a port, swap the Ethernet addresses (macswap) or not (io), tx_burst on the same queue, free
// what TX refuses; TSC cycles from receive to transmit counted as busy, empty polls as idle.
// Nothing else: no table pointer, no RCU report, so it is the cheapest loop that moves the frames.
//
// Threads: ForwardMain runs on one EAL worker lcore (rte_eal_remote_launch); the counters have
// that lcore as their single writer and may be read by any thread with relaxed loads, as
// dataplane::PortQueueCounters. The config must outlive the lcore's run.
//
//   ForwardConfig fwd{port, /*swap_macs=*/false, &counters, &stop};
//   rte_eal_remote_launch(ForwardMain, &fwd, lcore);
//   ... stop.store(true); rte_eal_wait_lcore(lcore);
#pragma once

#include <atomic>
#include <cstdint>

namespace clusterdns::bench {

struct alignas(64) ForwardCounters {
  std::atomic<uint64_t> rx{0};
  std::atomic<uint64_t> tx{0};          // accepted by tx_burst
  std::atomic<uint64_t> tx_dropped{0};  // refused by tx_burst, freed
  std::atomic<uint64_t> busy_polls{0};  // rx_burst calls that returned frames
  std::atomic<uint64_t> idle_polls{0};
  std::atomic<uint64_t> busy_cycles{0};  // TSC cycles in busy polls (receive through transmit)
  std::atomic<uint64_t> idle_cycles{0};
};

struct ForwardConfig {
  uint16_t port_id = 0;
  bool swap_macs = false;  // false: testpmd io; true: testpmd macswap
  ForwardCounters* counters = nullptr;
  const std::atomic<bool>* stop = nullptr;
};

// rte_lcore_function_t: `arg` is a const ForwardConfig*. Polls until *stop. Returns 0.
int ForwardMain(void* arg) noexcept;

}  // namespace clusterdns::bench
