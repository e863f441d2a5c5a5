// Two net_memif ports connected in loopback, for the per-core harness (port_pair.h,
// --link=memif): the worker's port is the memif server, the generator's the client, on one
// abstract unix socket of this process (/cdns-wbench-<pid>-<index>) and the same interface id,
// the loopback the DPDK memif guide describes. Nothing leaves the process.
//
//   generator port (client) ── copy ──▶ shared memory ring ── copy ──▶ worker port (server)
//   generator port (client) ◀── copy ── shared memory ring ◀── copy ── worker port (server)
//
// Unlike net_ring, every frame is copied on each side: rx_burst allocates mbufs and copies the
// frame out of shared memory, tx_burst copies it in and frees the mbuf. The worker thus reads
// frames its own core wrote, as it would read a NIC's (written to memory by DMA), and both the
// worker's figure and the forwarding floor include the copies and the mbuf traffic, as a NIC
// port's include its descriptors. Memif carries no mbuf flags across the link: checksums are
// always the worker's, in software (worker_bench rejects --nic-offloads with it).
//
// Each ring holds at least every frame in flight (rsize = log2 of in_flight rounded up, at most
// 2^14), so a send never waits on a ring the other lcore is not draining. The pool holds the
// frames the generator primes plus room for the bursts in progress and the per-lcore caches.
//
// Startup and teardown on the main thread, after the EAL is up (the EAL's interrupt thread
// carries memif's connection handshake; Create waits up to 5 s for both links). It starts no EAL
// and probes no device: the EAL is worker_bench.cc's (or memif_pair_test.cc's), started with
// --no-pci --no-huge and a file prefix of its own.
//
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<MemifPair> pair, MemifPair::Create(4096));
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/dataplane/port_pair.h"

namespace clusterdns::bench {

class MemifPair final : public PortPair {
 public:
  // The most frames in flight a memif ring can hold (rsize 14).
  static constexpr unsigned kMaxInFlight = 1u << 14;

  // `in_flight`: the frames the generator keeps in flight (at most kMaxInFlight). `index` names
  // the pool, socket and vdevs: pairs in one EAL need distinct indices.
  static absl::StatusOr<std::unique_ptr<MemifPair>> Create(unsigned in_flight,
                                                           unsigned index = 0);

  MemifPair() = default;
  MemifPair(const MemifPair&) = delete;
  MemifPair& operator=(const MemifPair&) = delete;
  ~MemifPair() override { Stop(); }

  const char* kind() const override { return "net_memif"; }
  uint16_t worker_port() const override { return worker_port_; }
  uint16_t generator_port() const override { return generator_port_; }
  rte_mempool* pool() const override { return pool_; }
  unsigned pool_size() const override { return pool_size_; }
  unsigned mbufs_in_pool() const override;
  // Frames left in the shared memory rings are copies, not mbufs: nothing to free.
  unsigned FreeUndelivered() override { return 0; }
  void Stop() override;

 private:
  unsigned pool_size_ = 0;
  rte_mempool* pool_ = nullptr;
  uint16_t worker_port_ = 0;
  uint16_t generator_port_ = 0;
  bool worker_port_up_ = false;
  bool generator_port_up_ = false;
};

}  // namespace clusterdns::bench
