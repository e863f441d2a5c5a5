// Generator: the harness's side of the port pair (generator.h). Runs on the main lcore; its cost
// per frame is one receive, one check of a few bytes, one template copy and one send. It starts
// no EAL and probes no device: its port is one of worker_bench's vdevs, under an EAL started
// with --no-pci.
#include "bench/dataplane/generator.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "dataplane/packet/byte_order.h"
#include "dataplane/packet/checksum.h"

namespace clusterdns::bench {
namespace {

// The worker's burst (dataplane/worker.h kBurstSize): the generator receives and sends as much.
constexpr uint16_t kGeneratorBurst = 32;

constexpr size_t kUdpOffset = 14 + 20;  // the templates: Ethernet, IPv4 without options

// What a NIC's UDP checksum offload does on transmit: the checksum field holds the pseudo-header
// sum; the NIC sums the whole datagram over it and writes the complement. False when the frame
// is too short to hold the datagram its UDP length says.
bool CompleteUdpChecksum(uint8_t* frame, size_t len) {
  if (len < kUdpOffset + 8) return false;
  uint8_t* udp = frame + kUdpOffset;
  const size_t udp_len = dataplane::LoadBe16(udp + 4);
  if (udp_len < 8 || udp_len > len - kUdpOffset) return false;
  dataplane::StoreBe16(udp + 6, dataplane::UdpChecksumFromSum(dataplane::OnesSum(udp, udp_len)));
  return true;
}

}  // namespace

Generator::Generator(uint16_t port, rte_mempool* pool, const QueryFrames& frames,
                     const records::AnswerTable& table, uint64_t deep_every, bool nic_offloads)
    : port_(port),
      pool_(pool),
      frames_(frames),
      table_(table),
      deep_mask_(deep_every - 1),
      nic_offloads_(nic_offloads) {}

void Generator::Fail(std::string what) {
  if (counts_.failures++ == 0) counts_.first_failure = std::move(what);
}

void Generator::Fill(rte_mbuf* m) {
  const size_t i = next_;
  next_ = next_ + 1 == frames_.size() ? 0 : next_ + 1;
  const uint16_t len = frames_.len(i);
  m->data_off = RTE_PKTMBUF_HEADROOM;
  rte_memcpy(rte_pktmbuf_mtod(m, void*), frames_.frame(i), len);
  m->data_len = len;
  m->pkt_len = len;
  // A NIC that verified both checksums on receive says so; net_ring and net_memif say nothing.
  m->ol_flags = nic_offloads_ ? RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
}

void Generator::SendAll(rte_mbuf** mbufs, uint16_t n) {
  // Either kind's rings hold every frame in flight (port_pair.h), so a send only comes up short
  // while the other lcore is mid-dequeue; retry rather than drop, so the number in flight stays
  // fixed.
  uint16_t sent = 0;
  while (sent < n) sent += rte_eth_tx_burst(port_, 0, mbufs + sent, n - sent);
  counts_.sent += n;
}

absl::Status Generator::Prime(unsigned in_flight) {
  std::vector<rte_mbuf*> mbufs(in_flight);
  if (rte_pktmbuf_alloc_bulk(pool_, mbufs.data(), in_flight) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("generator: cannot take ", in_flight, " mbufs from the pool"));
  }
  for (rte_mbuf* m : mbufs) Fill(m);
  for (unsigned i = 0; i < in_flight; i += kGeneratorBurst) {
    const uint16_t n = static_cast<uint16_t>(std::min<unsigned>(kGeneratorBurst, in_flight - i));
    SendAll(mbufs.data() + i, n);
  }
  in_flight_ = in_flight;
  return absl::OkStatus();
}

uint16_t Generator::PollOnce(ReturnMode mode) {
  rte_mbuf* mbufs[kGeneratorBurst];
  const uint16_t n = rte_eth_rx_burst(port_, 0, mbufs, kGeneratorBurst);
  if (n == 0) return 0;
  for (uint16_t k = 0; k < n; ++k) {
    rte_mbuf* m = mbufs[k];
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const size_t len = m->data_len;
    const bool deep = (counts_.received++ & deep_mask_) == 0;
    if (mode == ReturnMode::kReply) {
      if (unlikely(CheapCheck(frames_, data, len) < 0)) {
        Fail(absl::StrCat("reply failed the QR/ID/rcode check (", len, " bytes)"));
      } else if (unlikely(nic_offloads_ && !(m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM))) {
        Fail("reply does not ask for the UDP checksum offload");
      } else if (unlikely(deep)) {
        ++counts_.deep_checked;
        if (nic_offloads_ && !CompleteUdpChecksum(rte_pktmbuf_mtod(m, uint8_t*), len)) {
          Fail(absl::StrCat("reply of ", len, " bytes holds no whole UDP datagram"));
        } else if (std::string error = DeepCheck(frames_, table_, data, len); !error.empty()) {
          Fail(std::move(error));
        }
      }
      Fill(m);
    } else {
      if (unlikely(len < kDnsOffset + 12 || (data[kDnsOffset + 2] & 0x80) != 0)) {
        Fail("forwarded frame is not a query");
        Fill(m);
      } else if (unlikely(deep)) {
        ++counts_.deep_checked;
        if (std::string error = ForwardCheck(frames_, data, len); !error.empty()) {
          Fail(std::move(error));
        }
      }
    }
  }
  SendAll(mbufs, n);
  return n;
}

void Generator::Run(ReturnMode mode, uint64_t deadline_tsc, const std::atomic<bool>* interrupted) {
  // The deadline and the interrupt flag are read every 64 polls: an rdtsc per poll would be a
  // visible share of a forwarding-speed loop. relaxed: the flag only asks the loop to end.
  for (unsigned polls = 0;; ++polls) {
    PollOnce(mode);
    if ((polls & 63) == 0 &&
        (rte_rdtsc() >= deadline_tsc || interrupted->load(std::memory_order_relaxed))) {
      return;
    }
  }
}

void Generator::Flush(ReturnMode mode) {
  while (PollOnce(mode) != 0) {
  }
}

unsigned Generator::Reclaim() {
  unsigned reclaimed = 0;
  rte_mbuf* mbufs[kGeneratorBurst];
  for (;;) {
    const uint16_t n = rte_eth_rx_burst(port_, 0, mbufs, kGeneratorBurst);
    if (n == 0) break;
    rte_pktmbuf_free_bulk(mbufs, n);
    reclaimed += n;
  }
  in_flight_ = 0;
  return reclaimed;
}

}  // namespace clusterdns::bench
