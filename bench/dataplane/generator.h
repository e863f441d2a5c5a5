// The per-core harness's traffic generator (scripts/bench-dataplane.sh): keeps a fixed number of
// frames in flight through the generator port of a PortPair (port_pair.h), and recycles what
// comes back. On net_ring the frames are the mbufs themselves; on net_memif every send frees the
// mbuf into the pool (a copy travels) and every receive brings a fresh one from it.
//
// Per received frame:
//   ReturnMode::kReply      (the DNS worker answers): every reply passes CheapCheck (QR, ID,
//                           expected rcode), one in `deep_every` passes DeepCheck (every byte);
//                           then the mbuf is rewritten with the next query template (rte_memcpy,
//                           data_len/pkt_len reset) and sent again;
//   ReturnMode::kForwarded  (plain forwarding): the frame is the query it was, unchanged but
//                           for the MACs: QR clear on every frame, one in `deep_every` passes
//                           ForwardCheck (byte for byte); sent back as it is, not rewritten (so
//                           the generator costs as little as it can while it measures the floor).
//                           Flush(kReply) after the worker phase turns its replies back into
//                           queries first.
// With `nic_offloads` the generator also plays the part of a NIC with checksum offloads, which
// net_ring is not (memif cannot carry the flags: worker_bench refuses the two together): each
// query leaves marked RTE_MBUF_F_RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD (as a
// NIC that verified the checksums marks it), every reply must come back asking for
// RTE_MBUF_F_TX_UDP_CKSUM, and before DeepCheck the generator completes the UDP checksum from the
// pseudo-header sum the worker left in it (as the NIC would on the wire).
// No allocation in steady state: Prime() takes the mbufs once, Reclaim() returns them.
// It starts no EAL and probes no device: the port is one of worker_bench's two vdevs
// (port_pair.h), under the EAL that worker_bench starts with --no-pci and --no-huge.
//
// Threads: one lcore (the main one) calls everything; not thread-safe. counts() may be read by
// that lcore only. The frames and the table must outlive the Generator.
//
//   Generator gen(pair.generator_port(), pair.pool(), frames, *table, /*deep_every=*/1024);
//   CDNS_RETURN_IF_ERROR(gen.Prime(4096));
//   gen.Run(ReturnMode::kReply, rte_rdtsc() + rte_get_tsc_hz(), &interrupted);
//   gen.Reclaim();
//   pair->FreeUndelivered();
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/dataplane/query_frames.h"
#include "records/answer_table.h"

struct rte_mbuf;
struct rte_mempool;

namespace clusterdns::bench {

enum class ReturnMode : uint8_t { kReply, kForwarded };

struct GeneratorCounts {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t deep_checked = 0;
  uint64_t failures = 0;       // frames that failed a check
  std::string first_failure;  // what was wrong with the first one
};

class Generator {
 public:
  // `deep_every`: a power of two.
  Generator(uint16_t port, rte_mempool* pool, const QueryFrames& frames,
            const records::AnswerTable& table, uint64_t deep_every, bool nic_offloads);

  // Takes `in_flight` mbufs from the pool, writes the next queries into them and sends them.
  absl::Status Prime(unsigned in_flight);

  // Receives, checks, recycles and resends until rte_rdtsc() >= deadline_tsc or *interrupted.
  void Run(ReturnMode mode, uint64_t deadline_tsc, const std::atomic<bool>* interrupted);

  // Turns round what the port holds now (the lcore across the ring has stopped): every frame is
  // received, checked and resent as in Run, until a receive comes back empty.
  void Flush(ReturnMode mode);

  // Teardown, with every lcore stopped: receives everything the generator port holds and frees
  // it. Returns how many. (What the worker port never received is the PortPair's to free.)
  unsigned Reclaim();

  const GeneratorCounts& counts() const { return counts_; }
  unsigned in_flight() const { return in_flight_; }

 private:
  // Returns the frames received (0 when the port had none).
  uint16_t PollOnce(ReturnMode mode);
  void Fill(rte_mbuf* m);  // the next query template into m
  void Fail(std::string what);
  void SendAll(rte_mbuf** mbufs, uint16_t n);

  uint16_t port_;
  rte_mempool* pool_;
  const QueryFrames& frames_;
  const records::AnswerTable& table_;
  uint64_t deep_mask_;
  bool nic_offloads_;
  size_t next_ = 0;  // next query template
  unsigned in_flight_ = 0;
  GeneratorCounts counts_;
};

}  // namespace clusterdns::bench
