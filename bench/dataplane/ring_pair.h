// Two ring ethdevs (net_ring, rte_eth_from_rings) back to back, for the per-core harness
// (port_pair.h, --link=ring, the default):
//
//   generator port ── tx ──▶ ring A ── rx ──▶ worker port
//   generator port ◀── rx ── ring B ◀── tx ── worker port
//
// Each ring has one producer lcore and one consumer lcore (RING_F_SP_ENQ | RING_F_SC_DEQ, so the
// PMD also counts without atomics), and holds every mbuf of the pool at once: a tx_burst into
// either ring never fails for want of room. The worker uses its port exactly as production uses
// a NIC port: one RX and one TX queue (queue 0), rte_eth_rx_burst / rte_eth_tx_burst.
//
// Startup and teardown on the main thread, after InitEal; Stop() only when no lcore polls either
// port. The EAL must be up already: worker_bench.cc starts it with --no-pci --no-huge and a
// file prefix of its own, so its ring ports are the only ethdevs. Stop() stops and closes both
// ports, removes their vdevs, frees the rings and the pool
// (every mbuf must be back in it: rte_mempool_free does not care, but the harness checks
// mbufs_in_pool() first to report a leak).
//
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<RingPair> pair, RingPair::Create(8192));
//   rte_eth_rx_burst(pair->worker_port(), 0, ...);   // on the worker lcore
//   pair->Stop();
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "bench/dataplane/port_pair.h"

struct rte_ring;

namespace clusterdns::bench {

class RingPair final : public PortPair {
 public:
  // `mbufs`: the pool size, all of it in flight at once if the generator likes. `index` names
  // the pool, rings and ports (wbench_pool<index>, ...): pairs in one EAL need distinct indices.
  static absl::StatusOr<std::unique_ptr<RingPair>> Create(unsigned mbufs, unsigned index = 0);

  RingPair() = default;
  RingPair(const RingPair&) = delete;
  RingPair& operator=(const RingPair&) = delete;
  ~RingPair() override { Stop(); }

  const char* kind() const override { return "net_ring"; }
  uint16_t worker_port() const override { return worker_port_; }
  uint16_t generator_port() const override { return generator_port_; }
  rte_mempool* pool() const override { return pool_; }
  unsigned pool_size() const override { return mbufs_; }
  unsigned mbufs_in_pool() const override;
  // Drains ring A, what the worker port never received.
  unsigned FreeUndelivered() override;
  void Stop() override;

 private:
  unsigned mbufs_ = 0;
  rte_mempool* pool_ = nullptr;
  rte_ring* to_worker_ = nullptr;    // ring A
  rte_ring* to_generator_ = nullptr;  // ring B
  uint16_t worker_port_ = 0;
  uint16_t generator_port_ = 0;
  bool worker_port_up_ = false;
  bool generator_port_up_ = false;
};

}  // namespace clusterdns::bench
