// RingPair: the pool, the two rings and the two ring ethdevs of the per-core harness.
#include "bench/dataplane/ring_pair.h"

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace clusterdns::bench {

absl::StatusOr<std::unique_ptr<RingPair>> RingPair::Create(unsigned mbufs, unsigned index) {
  auto owned = std::make_unique<RingPair>();  // its destructor undoes a failed Create
  RingPair& pair = *owned;
  pair.mbufs_ = mbufs;
  // No per-lcore cache: the generator takes every mbuf once at the start and nobody allocates
  // afterwards, and an exact count in the pool is the leak check.
  const int socket = static_cast<int>(rte_socket_id());
  // Names carry the pair's index: every pair of a --pairs run has its own pool, rings and ports.
  const auto name = [index](const char* what) { return absl::StrCat("wbench_", what, index); };
  pair.pool_ = rte_pktmbuf_pool_create(name("pool").c_str(), mbufs, 0, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (pair.pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "mbuf pool of ", mbufs, " mbufs: ", rte_strerror(rte_errno), " (raise -m)"));
  }
  // A ring of 2^k slots holds 2^k - 1: room for every mbuf.
  const unsigned ring_size = rte_align32pow2(mbufs + 1);
  const unsigned flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
  pair.to_worker_ = rte_ring_create(name("a").c_str(), ring_size, socket, flags);
  pair.to_generator_ = rte_ring_create(name("b").c_str(), ring_size, socket, flags);
  if (pair.to_worker_ == nullptr || pair.to_generator_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rings of ", ring_size, " slots: ", rte_strerror(rte_errno)));
  }
  const int worker = rte_eth_from_rings(name("worker").c_str(), &pair.to_worker_, 1,
                                        &pair.to_generator_, 1, rte_socket_id());
  if (worker < 0) {
    return absl::InternalError(
        absl::StrCat("rte_eth_from_rings (worker port): ", rte_strerror(rte_errno)));
  }
  pair.worker_port_ = static_cast<uint16_t>(worker);
  pair.worker_port_up_ = true;
  const int generator = rte_eth_from_rings(name("gen").c_str(), &pair.to_generator_, 1,
                                           &pair.to_worker_, 1, rte_socket_id());
  if (generator < 0) {
    return absl::InternalError(
        absl::StrCat("rte_eth_from_rings (generator port): ", rte_strerror(rte_errno)));
  }
  pair.generator_port_ = static_cast<uint16_t>(generator);
  pair.generator_port_up_ = true;
  if (absl::Status s = StartPairPort(pair.worker_port_, pair.pool_); !s.ok()) return s;
  if (absl::Status s = StartPairPort(pair.generator_port_, pair.pool_); !s.ok()) return s;
  return owned;
}

unsigned RingPair::mbufs_in_pool() const {
  return pool_ == nullptr ? 0 : rte_mempool_avail_count(pool_);
}

unsigned RingPair::FreeUndelivered() {
  if (to_worker_ == nullptr) return 0;
  unsigned freed = 0;
  void* mbufs[64];
  for (;;) {
    const unsigned n = rte_ring_dequeue_burst(to_worker_, mbufs, 64, nullptr);
    if (n == 0) break;
    rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(mbufs), n);
    freed += n;
  }
  return freed;
}

void RingPair::Stop() {
  if (worker_port_up_) ClosePairPort(worker_port_);
  if (generator_port_up_) ClosePairPort(generator_port_);
  worker_port_up_ = false;
  generator_port_up_ = false;
  rte_ring_free(to_worker_);  // accepts nullptr
  rte_ring_free(to_generator_);
  rte_mempool_free(pool_);
  to_worker_ = nullptr;
  to_generator_ = nullptr;
  pool_ = nullptr;
}

}  // namespace clusterdns::bench
