// WorkerStats: allocation, labels and the exporter's snapshots.
#include "dataplane/worker_stats.h"

#include "absl/strings/str_cat.h"

namespace clusterdns::dataplane {

const char* WorkerDropReasonName(WorkerDropReason reason) noexcept {
  switch (reason) {
    case WorkerDropReason::kNoTable: return "no_table";
    case WorkerDropReason::kReplyFailed: return "reply_failed";
    case WorkerDropReason::kMultiSegment: return "multi_segment";
    case WorkerDropReason::kCount: break;
  }
  return "?";
}

const char* DropSlotName(size_t slot) noexcept {
  if (slot == 0) return "";
  if (slot < kFrameDropSlots) return DropReasonName(static_cast<DropReason>(slot));
  if (slot < kDropSlots) {
    return WorkerDropReasonName(static_cast<WorkerDropReason>(slot - kFrameDropSlots));
  }
  return "?";
}

const char* ExceptionSlotName(size_t slot) noexcept {
  if (slot == 0) return "";
  if (slot == kForwardExceptionSlot) return "forward";
  if (slot < kExceptionSlots) return ExceptionReasonName(static_cast<ExceptionReason>(slot));
  return "?";
}

uint64_t PortQueueCounters::TotalDrops() const noexcept {
  uint64_t sum = 0;
  for (const auto& c : drops) sum += Load(c);
  return sum;
}

uint64_t PortQueueCounters::TotalExceptions() const noexcept {
  uint64_t sum = 0;
  for (const auto& c : exceptions) sum += Load(c);
  return sum;
}

WorkerStats::WorkerStats(std::vector<unsigned> lcores, std::vector<uint16_t> port_ids)
    : lcores_(std::move(lcores)),
      port_ids_(std::move(port_ids)),
      blocks_(new PortQueueCounters[lcores_.size() * port_ids_.size()]),
      queries_(new records::QueryCounters[lcores_.size()]) {}

std::vector<controlplane::WorkerCounterSnapshot> WorkerStats::SnapshotWorkers() const {
  std::vector<controlplane::WorkerCounterSnapshot> out;
  out.reserve(workers() * ports());
  for (size_t w = 0; w < workers(); ++w) {
    for (size_t p = 0; p < ports(); ++p) {
      const PortQueueCounters& c = port(w, p);
      controlplane::WorkerCounterSnapshot s;
      s.lcore = lcores_[w];
      s.port = port_ids_[p];
      s.queue = static_cast<unsigned>(w);
      s.rx_packets = c.Load(c.rx);
      s.tx_packets = c.Load(c.tx);
      s.tx_dropped = c.Load(c.tx_dropped);
      s.exceptions = c.TotalExceptions();
      s.busy_polls = c.Load(c.busy_polls);
      s.idle_polls = c.Load(c.idle_polls);
      s.busy_cycles = c.Load(c.busy_cycles);
      s.idle_cycles = c.Load(c.idle_cycles);
      for (size_t slot = 1; slot < kDropSlots; ++slot) {
        s.drops_by_reason.emplace_back(DropSlotName(slot), c.Load(c.drops[slot]));
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string WorkerStats::Summary() const {
  std::string out;
  for (size_t w = 0; w < workers(); ++w) {
    for (size_t p = 0; p < ports(); ++p) {
      const PortQueueCounters& c = port(w, p);
      absl::StrAppend(&out, "worker lcore=", lcores_[w], " port=", port_ids_[p], " queue=", w,
                      " rx=", c.Load(c.rx), " tx=", c.Load(c.tx),
                      " tx_dropped=", c.Load(c.tx_dropped), " dns=", c.Load(c.dns_replies),
                      " arp=", c.Load(c.arp_replies), " nd=", c.Load(c.nd_replies),
                      " echo=", c.Load(c.echo_replies), " drops=", c.TotalDrops(),
                      " exceptions=", c.TotalExceptions(), " busy_polls=", c.Load(c.busy_polls),
                      " idle_polls=", c.Load(c.idle_polls));
      for (size_t slot = 1; slot < kDropSlots; ++slot) {
        if (uint64_t n = c.Load(c.drops[slot]); n != 0) {
          absl::StrAppend(&out, " drop.", DropSlotName(slot), "=", n);
        }
      }
      for (size_t slot = 1; slot < kExceptionSlots; ++slot) {
        if (uint64_t n = c.Load(c.exceptions[slot]); n != 0) {
          absl::StrAppend(&out, " exception.", ExceptionSlotName(slot), "=", n);
        }
      }
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

}  // namespace clusterdns::dataplane
