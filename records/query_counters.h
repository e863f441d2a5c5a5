// QueryCounters: what one answering thread did with its queries, by rcode, qtype, verdict and drop
// reason. Every answering thread (a dataplane worker, a kernel-socket listener) owns one block and
// is its only writer; the metrics exporter reads any block at any time with relaxed loads.
//
// No atomic read-modify-write on the hot path: the single writer does a relaxed load and a relaxed
// store (a plain add on x86), and the exporter may see a count a few queries old, never a torn one.
//
//   QueryCounters& mine = ...;                 // one per thread, cache-line aligned
//   RespondResult r = Respond(...);
//   mine.Count(r);                             // hot path
//   uint64_t nx = other.rcode(kRcodeNxDomain); // exporter, any thread
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "records/dns_constants.h"
#include "records/respond.h"

namespace clusterdns::records {

// The qtypes counted by name; every other type counts as kQtypeOther. Order is the label order.
enum class QtypeSlot : uint8_t { kA, kAaaa, kSrv, kPtr, kTxt, kSoa, kNs, kCname, kAny, kOther, kCount };

// A table, not a switch: the switch compiles to a chain of compares whose exits follow the
// mix of query types, a misprediction on many queries of a burst.
inline constexpr std::array<QtypeSlot, 256> kQtypeSlots = [] {
  std::array<QtypeSlot, 256> slots{};
  slots.fill(QtypeSlot::kOther);
  slots[kTypeA] = QtypeSlot::kA;
  slots[kTypeAaaa] = QtypeSlot::kAaaa;
  slots[kTypeSrv] = QtypeSlot::kSrv;
  slots[kTypePtr] = QtypeSlot::kPtr;
  slots[kTypeTxt] = QtypeSlot::kTxt;
  slots[kTypeSoa] = QtypeSlot::kSoa;
  slots[kTypeNs] = QtypeSlot::kNs;
  slots[kTypeCname] = QtypeSlot::kCname;
  slots[kTypeAny] = QtypeSlot::kAny;
  return slots;
}();

inline constexpr QtypeSlot QtypeSlotOf(uint16_t qtype) noexcept {
  return kQtypeSlots[qtype < kQtypeSlots.size() ? qtype : 0];  // type 0 is "other" too
}

// Prometheus label values ("A", "AAAA", ..., "other").
std::string_view QtypeSlotName(QtypeSlot slot);
// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", else the number.
std::string RcodeName(uint8_t rcode);
// "short_header", "response", "no_room".
std::string_view DropReasonName(DropReason reason);

// Rcodes 0..23 are counted one by one (BADVERS is 16); anything larger lands in the last slot.
inline constexpr size_t kRcodeSlots = 24;

struct alignas(64) QueryCounters {
  std::array<std::atomic<uint64_t>, kRcodeSlots> by_rcode{};  // replies, by full rcode
  std::array<std::atomic<uint64_t>, static_cast<size_t>(QtypeSlot::kCount)> by_qtype{};  // replies
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DropReason::kCount)> drops{};
  std::atomic<uint64_t> truncated{0};  // replies with TC set
  std::atomic<uint64_t> forwarded{0};  // Verdict::kForward
  std::atomic<uint64_t> cache_hits{0};  // replies from the answer cache (counted above too)

  // Single writer only.
  void Count(const RespondResult& r) noexcept {
    switch (r.verdict) {
      case Verdict::kReply:
        Bump(by_rcode[r.rcode < kRcodeSlots ? r.rcode : kRcodeSlots - 1]);
        Bump(by_qtype[static_cast<size_t>(QtypeSlotOf(r.qtype))]);
        if (r.truncated) Bump(truncated);
        if (r.cached) Bump(cache_hits);
        break;
      case Verdict::kDrop:
        Bump(drops[static_cast<size_t>(r.drop)]);
        break;
      case Verdict::kForward:
        Bump(forwarded);
        break;
    }
  }

  uint64_t rcode(uint8_t code) const noexcept {
    return by_rcode[code < kRcodeSlots ? code : kRcodeSlots - 1].load(std::memory_order_relaxed);
  }
  uint64_t qtype(QtypeSlot slot) const noexcept {
    return by_qtype[static_cast<size_t>(slot)].load(std::memory_order_relaxed);
  }
  uint64_t replies() const noexcept {
    uint64_t sum = 0;
    for (const auto& c : by_rcode) sum += c.load(std::memory_order_relaxed);
    return sum;
  }

  // relaxed: one writer per block; readers need no ordering with anything else, only untorn words.
  static void Bump(std::atomic<uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

}  // namespace clusterdns::records
