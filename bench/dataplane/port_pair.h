// The two ethdevs of one generator/worker pair of the per-core harness (worker_bench.cc), and
// their mbuf pool: the worker polls worker_port() exactly as production polls a NIC port (queue
// 0, rte_eth_rx_burst / rte_eth_tx_burst); the generator drives generator_port(). Two kinds:
//
//   RingPair  (ring_pair.h,  --link=ring):  two rte_rings between the ports; mbuf pointers move,
//             the frames stay where the generator wrote them;
//   MemifPair (memif_pair.h, --link=memif): two net_memif ports connected in loopback over an
//             abstract unix socket; every frame is copied into and out of shared memory on each
//             side, and each receive allocates mbufs, each transmit frees them, as a NIC's
//             driver does.
//
// Cold path only (setup and teardown on the main lcore): the virtual calls never run per packet.
// No kind starts an EAL or probes a device: they create vdevs under the EAL that worker_bench.cc
// (or memif_pair_test.cc) started with --no-pci --no-huge and a file prefix of its own.
#pragma once

#include <cstdint>

#include "absl/status/status.h"

struct rte_mempool;

namespace clusterdns::bench {

class PortPair {
 public:
  virtual ~PortPair() = default;

  virtual const char* kind() const = 0;  // "net_ring" or "net_memif"
  virtual uint16_t worker_port() const = 0;
  virtual uint16_t generator_port() const = 0;
  virtual rte_mempool* pool() const = 0;
  // How many mbufs the pool holds when every one is back (the leak check at teardown).
  virtual unsigned pool_size() const = 0;
  virtual unsigned mbufs_in_pool() const = 0;
  // Teardown, with every lcore stopped and the generator port drained: frees the mbufs the
  // worker port never received and returns how many (none where frames travel as copies).
  virtual unsigned FreeUndelivered() = 0;
  // Stops and closes both ports, removes their vdevs, frees the pool. Idempotent.
  virtual void Stop() = 0;
};

// For the kinds: one RX and one TX queue (queue 0) on `port`, receiving into `pool`, and the port
// started. The error names the port.
absl::Status StartPairPort(uint16_t port, rte_mempool* pool);
// Stops and closes `port` and removes the vdev behind it.
void ClosePairPort(uint16_t port);

}  // namespace clusterdns::bench
