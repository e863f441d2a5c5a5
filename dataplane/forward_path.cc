// The forward path: workers → ring → slow-path thread → forwarder → reply in the same mbuf →
// ring → worker 0 → data port. See forward_path.h.
#include "dataplane/forward_path.h"

#include <rte_branch_prediction.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "dataplane/packet/frame.h"
#include "dataplane/packet/reply.h"
#include "dataplane/worker_stats.h"
#include "records/dns_constants.h"
#include "records/wire_name.h"

namespace clusterdns::dataplane {
namespace {

constexpr auto kIdleSleep = std::chrono::microseconds(100);
// Flags that describe where an mbuf's buffer lives rather than its packet (worker.cc).
constexpr uint64_t kBufferFlags = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;

void FreeRing(rte_ring* ring) {
  if (ring == nullptr) return;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  rte_ring_free(ring);
}

uint64_t Load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

// The header and question of `reply` with TC set and no records: what a UDP client gets when the
// reply does not fit the mbuf (it asks again over TCP). 0 if the question cannot be read.
size_t WriteTruncated(std::span<const uint8_t> reply, uint8_t* out, size_t room) {
  size_t next = 0;
  if (reply.size() < records::kHeaderSize ||
      records::SkipName(reply.data(), reply.size(), records::kHeaderSize, &next) !=
          records::NameError::kOk ||
      next + 4 > reply.size() || next + 4 > room) {
    return 0;
  }
  std::memcpy(out, reply.data(), next + 4);
  out[2] |= static_cast<uint8_t>(records::kFlagTc >> 8);
  out[4] = 0, out[5] = 1;
  std::memset(out + 6, 0, 6);
  return next + 4;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ForwardPath>> ForwardPath::Create(const std::vector<PortInfo>& ports,
                                                                 size_t workers,
                                                                 const ServedAddresses& served,
                                                                 unsigned ring_size,
                                                                 unsigned waiting) {
  if (ports.empty() || workers == 0) return absl::InvalidArgumentError("no ports or no workers");
  std::unique_ptr<ForwardPath> fp(new ForwardPath());
  fp->ports_ = ports;
  fp->served_ = served;
  fp->workers_ = workers;
  fp->hook_counters_ = std::make_unique<HookCounters[]>(workers);
  fp->egress_ = std::make_unique<KernelEgressCounters[]>(ports.size());
  for (size_t i = 0; i < ports.size(); ++i) {
    if (ports[i].id >= fp->index_of_port_.size()) fp->index_of_port_.resize(ports[i].id + 1, -1);
    fp->index_of_port_[ports[i].id] = static_cast<int16_t>(i);
  }
  const int socket = static_cast<int>(rte_socket_id());
  fp->to_slow_ = rte_ring_create("cdns_fwd_in", ring_size, socket, RING_F_SC_DEQ);  // MP/SC
  if (fp->to_slow_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("forward path: ring of ", ring_size, ": ", rte_strerror(rte_errno)));
  }
  // No per-lcore cache: the slow-path thread (not an lcore) allocates, worker 0 frees.
  fp->pool_ = rte_pktmbuf_pool_create("cdns_fwd_pool", waiting, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      socket);
  if (fp->pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("forward path: pool of ", waiting,
                                                     " mbufs: ", rte_strerror(rte_errno)));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    const std::string name = absl::StrCat("cdns_fwd_out", i);
    rte_ring* ring =
        rte_ring_create(name.c_str(), ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("forward path: reply ring ", i, " of ",
                                                       ring_size, ": ", rte_strerror(rte_errno)));
    }
    fp->to_port_.push_back(ring);
  }
  return fp;
}

ForwardPath::~ForwardPath() {
  Stop();
  rte_mempool_free(pool_);  // after the ports: their TX rings may have held its mbufs
}

void ForwardPath::Hook(void* context, uint16_t /*port_id*/, uint16_t queue, rte_mbuf** mbufs,
                       uint16_t count) noexcept {
  auto* self = static_cast<ForwardPath*>(context);
  HookCounters& c = self->hook_counters_[queue];
  const unsigned queued =
      rte_ring_mp_enqueue_burst(self->to_slow_, reinterpret_cast<void**>(mbufs), count, nullptr);
  if (unlikely(queued < count)) {
    rte_pktmbuf_free_bulk(mbufs + queued, count - queued);
    Bump(c.ring_full, count - queued);
  }
  if (queued != 0) Bump(c.handed_over, queued);
}

void ForwardPath::Start(controlplane::QueryForwarder* forwarder) {
  if (thread_.joinable() || stopped_ || forwarder == nullptr) return;
  forwarder_ = forwarder;
  thread_ = std::thread([this] { Run(); });
}

void ForwardPath::Run() noexcept {
  rte_mbuf* burst[kBurstSize];
  while (!stop_.load(std::memory_order_relaxed)) {
    const unsigned n =
        rte_ring_sc_dequeue_burst(to_slow_, reinterpret_cast<void**>(burst), kBurstSize, nullptr);
    for (unsigned i = 0; i < n; ++i) Submit(burst[i]);
    if (n == 0) std::this_thread::sleep_for(kIdleSleep);
  }
}

void ForwardPath::Submit(rte_mbuf* m) noexcept {
  const int16_t index = m->port < index_of_port_.size() ? index_of_port_[m->port] : -1;
  // The frame moves to an mbuf of our own pool; the port's goes back to its RX queue's pool.
  rte_mbuf* copy = index < 0 ? nullptr : rte_pktmbuf_alloc(pool_);
  if (copy != nullptr && m->data_len <= rte_pktmbuf_tailroom(copy)) {
    std::memcpy(rte_pktmbuf_mtod(copy, uint8_t*), rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    copy->data_len = m->data_len;
    copy->pkt_len = m->data_len;
  } else if (copy != nullptr) {
    rte_pktmbuf_free(copy);
    copy = nullptr;
  }
  rte_pktmbuf_free(m);
  if (copy == nullptr) {
    Bump(thread_counters_.not_submitted);
    return;
  }
  // Classified once, on the copy: the parse (offsets, and pointers into the copy) stays valid
  // until the reply is written over it.
  const uint8_t* frame = rte_pktmbuf_mtod(copy, const uint8_t*);
  const ParsedFrame p = ClassifyFrame(frame, copy->data_len, ports_[index].mac, served_);
  if (p.action != FrameAction::kDns) {
    rte_pktmbuf_free(copy);
    Bump(thread_counters_.not_submitted);
    return;
  }
  std::vector<uint8_t> query(frame + p.payload_offset, frame + p.payload_offset + p.payload_len);
  const bool taken = forwarder_->Forward(
      std::move(query), records::Transport::kUdp,
      [this, copy, p, index](std::span<const uint8_t> reply) {
        OnReply(copy, p, static_cast<size_t>(index), reply);
      });
  if (!taken) {
    rte_pktmbuf_free(copy);
    Bump(thread_counters_.not_submitted);
    return;
  }
  Bump(thread_counters_.submitted);
}

void ForwardPath::OnReply(rte_mbuf* m, const ParsedFrame& p, size_t port_index,
                          std::span<const uint8_t> reply) noexcept {
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const size_t room = static_cast<size_t>(m->buf_len) - m->data_off;
  size_t dns_len = 0;
  if (room > p.payload_offset) {
    uint8_t* payload = frame + p.payload_offset;
    const size_t payload_room = room - p.payload_offset;
    if (reply.size() <= payload_room) {
      std::memcpy(payload, reply.data(), reply.size());
      dns_len = reply.size();
    } else {
      dns_len = WriteTruncated(reply, payload, payload_room);
      if (dns_len != 0) Bump(reply_counters_.truncated);
    }
  }
  const size_t frame_len = dns_len == 0 ? 0 : FinishDnsReply(frame, p, dns_len, L4Checksum::kSoftware);
  if (frame_len == 0) {
    rte_pktmbuf_free(m);
    Bump(reply_counters_.dropped);
    return;
  }
  m->data_len = static_cast<uint16_t>(frame_len);
  m->pkt_len = static_cast<uint32_t>(frame_len);
  m->ol_flags &= kBufferFlags;
  const PortInfo& port = ports_[port_index];
  if (port.slow_path_tx_queue >= 0) {
    // Our own queue on this port: sent from here (the forwarder's thread, its only user).
    Bump(reply_counters_.replied);
    if (rte_eth_tx_burst(port.id, static_cast<uint16_t>(port.slow_path_tx_queue), &m, 1) == 1) {
      Bump(egress_[port_index].tx);
    } else {
      rte_pktmbuf_free(m);
      Bump(egress_[port_index].tx_dropped);
    }
    return;
  }
  if (rte_ring_sp_enqueue(to_port_[port_index], m) != 0) {
    rte_pktmbuf_free(m);
    Bump(reply_counters_.dropped);
    return;
  }
  Bump(reply_counters_.replied);
}

void ForwardPath::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  FreeRing(to_slow_);
  to_slow_ = nullptr;
  for (rte_ring*& ring : to_port_) {
    FreeRing(ring);
    ring = nullptr;
  }
}

controlplane::ForwardPathSnapshot ForwardPath::SnapshotForwardPath() const {
  controlplane::ForwardPathSnapshot out;
  for (size_t w = 0; w < workers_; ++w) {
    out.handed_over += Load(hook_counters_[w].handed_over);
    out.ring_full += Load(hook_counters_[w].ring_full);
  }
  out.submitted = Load(thread_counters_.submitted);
  out.not_submitted = Load(thread_counters_.not_submitted);
  out.replied = Load(reply_counters_.replied);
  out.truncated = Load(reply_counters_.truncated);
  out.reply_dropped = Load(reply_counters_.dropped);
  for (size_t i = 0; i < ports_.size(); ++i) {
    out.tx += Load(egress_[i].tx);
    out.tx_dropped += Load(egress_[i].tx_dropped);
  }
  return out;
}

}  // namespace clusterdns::dataplane
