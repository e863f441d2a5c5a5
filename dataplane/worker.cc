// The worker loop and one burst on one port. Hot path: everything here runs per packet or per
// poll, so it allocates nothing, takes no lock, makes no syscall and logs nothing.
#include "dataplane/worker.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstddef>
#include <new>
#include <type_traits>

#include "dataplane/packet/frame.h"
#include "dataplane/packet/reply.h"
#include "records/answer_cache.h"

namespace clusterdns::dataplane {
namespace {

// Flags that describe where an mbuf's buffer lives rather than its packet: they must survive when
// the RX flags are cleared for the reply.
constexpr uint64_t kBufferFlags = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;

inline void SetReplyLength(rte_mbuf* m, size_t frame_len) noexcept {
  // Single segment, and the reply was written within the segment's data room (every reply builder
  // is bounded by the room it was given).
  m->data_len = static_cast<uint16_t>(frame_len);
  m->pkt_len = static_cast<uint32_t>(frame_len);
  m->ol_flags &= kBufferFlags;  // RX flags mean nothing on TX
}

inline RxChecks RxChecksOf(const rte_mbuf* m) noexcept {
  RxChecks checks;
  checks.ipv4_checksum_good =
      (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  checks.udp_checksum_good =
      (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  return checks;
}

inline void CountDrop(PortQueueCounters& c, WorkerDropReason reason) noexcept {
  Bump(c.drops[kFrameDropSlots + static_cast<size_t>(reason)]);
}

// Room for one burst of T that PollPort constructs slot by slot before it reads any: a plain
// array of a type with default member initializers (ParsedFrame, RespondJob) is initialised
// whole on every poll, a 1.3 KB memset and a 32-step loop a burst.
template <typename T>
class BurstSlots {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  T& Put(size_t i, const T& value) noexcept { return *new (storage_ + i * sizeof(T)) T(value); }
  T& operator[](size_t i) noexcept { return data()[i]; }
  // Valid over the slots constructed so far.
  T* data() noexcept { return std::launder(reinterpret_cast<T*>(storage_)); }

 private:
  alignas(T) std::byte storage_[kBurstSize * sizeof(T)];
};

// Per-burst tallies, stored to the shared counters once per burst.
struct Tally {
  uint64_t dns = 0;
  uint64_t arp = 0;
  uint64_t nd = 0;
  uint64_t echo = 0;
};

void PollPort(const WorkerConfig& config, const WorkerPort& port,
              const records::AnswerTable* table) noexcept {
  PortQueueCounters& counters = *port.counters;
  const uint64_t start_tsc = rte_rdtsc();
  rte_mbuf* rx[kBurstSize];
  const uint16_t received = rte_eth_rx_burst(port.port_id, port.queue, rx, kBurstSize);
  if (received == 0) {
    Bump(counters.idle_polls);
    Bump(counters.idle_cycles, rte_rdtsc() - start_tsc);
    return;
  }
  // Every mbuf header first, then the first two lines of each frame: Ethernet through the end
  // of a typical query's question (~100 bytes), which ClassifyFrame and the parse read and the
  // reply overwrites. The second line matters where the frames come from another core's cache
  // (an Intel mesh: +8% software checksums, +18% offloads, paired runs in the README); a plain
  // prefetch did better there than one for writing (PREFETCHW).
  for (uint16_t i = 0; i < received; ++i) rte_prefetch0(rx[i]);
  for (uint16_t i = 0; i < received; ++i) {
    const uint8_t* frame = rte_pktmbuf_mtod(rx[i], const uint8_t*);
    rte_prefetch0(frame);
    rte_prefetch0(frame + RTE_CACHE_LINE_SIZE);
  }

  rte_mbuf* tx[kBurstSize];
  rte_mbuf* dropped[kBurstSize];
  rte_mbuf* exceptions[kBurstSize];
  rte_mbuf* forwards[kBurstSize];
  uint16_t forward_count = 0;
  uint16_t tx_count = 0;
  uint16_t drop_count = 0;
  uint16_t exception_count = 0;
  BurstSlots<records::RespondJob> jobs;
  BurstSlots<ParsedFrame> job_frames;
  rte_mbuf* job_mbufs[kBurstSize];
  uint16_t job_count = 0;
  Tally tally;

  // Pass 1: classify; answer ARP / NS / echo at once; collect the DNS queries.
  for (uint16_t i = 0; i < received; ++i) {
    rte_mbuf* m = rx[i];
    if (unlikely(m->nb_segs != 1)) {
      CountDrop(counters, WorkerDropReason::kMultiSegment);
      dropped[drop_count++] = m;
      continue;
    }
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    // Writable bytes from frame[0]: the rest of the segment's data room.
    const size_t room = static_cast<size_t>(m->buf_len) - m->data_off;
    const ParsedFrame p =
        ClassifyFrame(frame, m->data_len, port.mac, config.served, RxChecksOf(m), room);
    switch (p.action) {
      case FrameAction::kDns: {
        if (unlikely(table == nullptr)) {
          CountDrop(counters, WorkerDropReason::kNoTable);
          dropped[drop_count++] = m;
          break;
        }
        // The response may be longer than the query: give respond() the room after the payload,
        // up to what a UDP response can use (never less than the query itself).
        const size_t payload_room = room - p.payload_offset;
        const size_t cap =
            std::min(payload_room, std::max<size_t>(p.payload_len, records::kUdpResponseRoom));
        records::RespondJob job;
        job.buf = frame + p.payload_offset;
        job.len = p.payload_len;
        job.cap = static_cast<uint16_t>(cap);
        jobs.Put(job_count, job);
        job_frames.Put(job_count, p);
        job_mbufs[job_count] = m;
        ++job_count;
        break;
      }
      case FrameAction::kArpRequest:
        SetReplyLength(m, AnswerArp(frame, p, port.mac));
        tx[tx_count++] = m;
        ++tally.arp;
        break;
      case FrameAction::kNeighborSolicit: {
        const size_t len = AnswerNeighborSolicit(frame, room, p, port.mac);
        if (unlikely(len == 0)) {
          CountDrop(counters, WorkerDropReason::kReplyFailed);
          dropped[drop_count++] = m;
          break;
        }
        SetReplyLength(m, len);
        tx[tx_count++] = m;
        ++tally.nd;
        break;
      }
      case FrameAction::kEchoRequest:
        SetReplyLength(m, AnswerEcho(frame, p));
        tx[tx_count++] = m;
        ++tally.echo;
        break;
      case FrameAction::kException:
        Bump(counters.exceptions[static_cast<size_t>(p.exception)]);
        exceptions[exception_count++] = m;
        break;
      case FrameAction::kDrop:
        Bump(counters.drops[static_cast<size_t>(p.drop)]);
        dropped[drop_count++] = m;
        break;
    }
  }

  // Pass 2: answer the DNS queries as one burst (parse + hash all, prefetch, then look up), then
  // finish each frame.
  if (job_count != 0) {
    records::RespondOptions respond = config.respond;
    if (respond.cache != nullptr) respond.now = records::CacheNow();  // vDSO: no system call
    records::RespondBurst(*table, jobs.data(), job_count, respond);
    const L4Checksum l4 =
        port.udp_tx_checksum_offload ? L4Checksum::kOffload : L4Checksum::kSoftware;
    for (uint16_t j = 0; j < job_count; ++j) {
      const records::RespondResult r = jobs[j].result;
      config.queries->Count(r);
      rte_mbuf* m = job_mbufs[j];
      switch (r.verdict) {
        case records::Verdict::kReply: {
          const ParsedFrame& p = job_frames[j];
          const size_t len = FinishDnsReply(rte_pktmbuf_mtod(m, uint8_t*), p, r.size, l4,
                                            static_cast<size_t>(m->buf_len) - m->data_off);
          if (unlikely(len == 0)) {
            CountDrop(counters, WorkerDropReason::kReplyFailed);
            dropped[drop_count++] = m;
            break;
          }
          SetReplyLength(m, len);
          if (l4 == L4Checksum::kOffload) {
            m->ol_flags |= (p.family == IpFamily::kV4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
                           RTE_MBUF_F_TX_UDP_CKSUM;
            m->l2_len = p.l3_offset;  // Ethernet header and VLAN tags
            m->l3_len = static_cast<uint16_t>(p.l4_offset - p.l3_offset);
          }
          tx[tx_count++] = m;
          ++tally.dns;
          break;
        }
        case records::Verdict::kDrop:  // counted in the QueryCounters by its reason
          dropped[drop_count++] = m;
          break;
        case records::Verdict::kForward:  // untouched: the slow path forwards it upstream
          if (config.forward_hook != nullptr) {
            forwards[forward_count++] = m;
          } else {
            Bump(counters.exceptions[kForwardExceptionSlot]);
            exceptions[exception_count++] = m;
          }
          break;
      }
    }
  }

  if (tx_count != 0) {
    const uint16_t sent = rte_eth_tx_burst(port.port_id, port.queue, tx, tx_count);
    if (unlikely(sent < tx_count)) {
      rte_pktmbuf_free_bulk(tx + sent, tx_count - sent);
      Bump(counters.tx_dropped, tx_count - sent);
    }
    Bump(counters.tx, sent);
  }
  if (exception_count != 0) {
    if (config.exception_hook != nullptr) {
      config.exception_hook(config.exception_context, port.port_id, port.queue, exceptions,
                            exception_count);
    } else {
      rte_pktmbuf_free_bulk(exceptions, exception_count);
    }
  }
  if (forward_count != 0) {
    config.forward_hook(config.forward_context, port.port_id, port.queue, forwards, forward_count);
  }
  if (drop_count != 0) rte_pktmbuf_free_bulk(dropped, drop_count);

  Bump(counters.rx, received);
  if (tally.dns != 0) Bump(counters.dns_replies, tally.dns);
  if (tally.arp != 0) Bump(counters.arp_replies, tally.arp);
  if (tally.nd != 0) Bump(counters.nd_replies, tally.nd);
  if (tally.echo != 0) Bump(counters.echo_replies, tally.echo);
  Bump(counters.busy_polls);
  Bump(counters.busy_cycles, rte_rdtsc() - start_tsc);
}

// Frames the slow path built (the kernel's, from the exception path; the forwarder's replies,
// from the forward path) out of this port on the worker's queue.
void SendRingFrames(const WorkerPort& port, rte_ring* ring, KernelEgressCounters* egress) noexcept {
  rte_mbuf* frames[kBurstSize];
  const unsigned n =
      rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(frames), kBurstSize, nullptr);
  if (likely(n == 0)) return;
  const uint16_t sent =
      rte_eth_tx_burst(port.port_id, port.queue, frames, static_cast<uint16_t>(n));
  if (unlikely(sent < n)) {
    rte_pktmbuf_free_bulk(frames + sent, n - sent);
    Bump(egress->tx_dropped, n - sent);
  }
  if (sent != 0) Bump(egress->tx, sent);
}

}  // namespace

int RunWorker(const WorkerConfig& config) noexcept {
  rte_rcu_qsbr* const qsbr = config.grace->qsbr();
  rte_rcu_qsbr_thread_online(qsbr, config.index);
  // relaxed: the flag only asks the loop to end; Dataplane::Stop waits for the lcore (which
  // synchronises) before touching anything the worker used.
  while (!config.stop->load(std::memory_order_relaxed)) {
    // acquire (inside Current): pairs with the publisher's release store, so the table is seen
    // fully built. Held until the quiescent report below, never across it.
    const records::AnswerTable* table = config.publisher->Current();
    for (const WorkerPort& port : config.ports) {
      PollPort(config, port, table);
      if (port.from_kernel != nullptr) SendRingFrames(port, port.from_kernel, port.kernel_egress);
      if (port.from_slow_path != nullptr) {
        SendRingFrames(port, port.from_slow_path, port.slow_path_egress);
      }
    }
    rte_rcu_qsbr_quiescent(qsbr, config.index);
  }
  rte_rcu_qsbr_thread_offline(qsbr, config.index);
  return 0;
}

int WorkerMain(void* arg) noexcept { return RunWorker(*static_cast<const WorkerConfig*>(arg)); }

}  // namespace clusterdns::dataplane
