// Counters of the upstream forwarder, for /metrics: per upstream (health), answers dropped by
// reason, SERVFAIL by cause, and the in-flight gauge.
//
// Same discipline as listener_stats.h: the forwarder thread is the only writer of every field
// (relaxed load + relaxed store, no read-modify-write); any thread may read at any time with
// relaxed loads (ReadCounter) and sees values a few events old, never torn ones. The blocks live
// as long as the Forwarder (allocated in its constructor, readable before Start and after Stop).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controlplane/listen/listener_stats.h"

namespace clusterdns::controlplane {

// Why an upstream datagram was not taken as the answer to a query. Order is the label order.
enum class ForwardDropReason : uint8_t {
  kSpoofedId,         // no query in flight to that upstream with that ID (forged, or too late:
                      // its query already finished)
  kSpoofedQuestion,   // the ID matches but the question (qname, qtype, qclass) does not
  kUnexpectedSource,  // not from the exact address and port of any upstream
  kMalformed,         // shorter than a header, QR clear, QDCOUNT != 1, unreadable question;
                      // over TCP also a frame shorter than a header
  kCount,
};

// "spoofed_id", "spoofed_question", "unexpected_source", "malformed".
inline std::string_view ForwardDropReasonName(ForwardDropReason reason) {
  switch (reason) {
    case ForwardDropReason::kSpoofedId: return "spoofed_id";
    case ForwardDropReason::kSpoofedQuestion: return "spoofed_question";
    case ForwardDropReason::kUnexpectedSource: return "unexpected_source";
    case ForwardDropReason::kMalformed: return "malformed";
    case ForwardDropReason::kCount: break;
  }
  return "unknown";
}

// Why the forwarder answered SERVFAIL itself. Order is the label order.
enum class ServfailCause : uint8_t {
  kDeadline,     // no usable answer within ForwarderOptions::deadline
  kCap,          // max_in_flight queries were already in flight: refused at once
  kUnreachable,  // every upstream failed hard for this query (ICMP unreachable, send error,
                 // TCP failure) before the deadline
  kStopped,      // in flight or queued when the forwarder stopped
  kCount,
};

// "deadline", "cap", "unreachable", "stopped".
inline std::string_view ServfailCauseName(ServfailCause cause) {
  switch (cause) {
    case ServfailCause::kDeadline: return "deadline";
    case ServfailCause::kCap: return "cap";
    case ServfailCause::kUnreachable: return "unreachable";
    case ServfailCause::kStopped: return "stopped";
    case ServfailCause::kCount: break;
  }
  return "unknown";
}

// One upstream's health.
struct alignas(64) UpstreamStats {
  std::atomic<uint64_t> queries_sent{0};  // UDP datagrams sent to it (one per try)
  std::atomic<uint64_t> answers{0};       // accepted answers from it: UDP (TC included) or TCP
  std::atomic<uint64_t> timeouts{0};      // tries (UDP or TCP) that got no answer in try_timeout
  std::atomic<uint64_t> tcp_retries{0};   // TCP tries after a truncated (TC) answer from it
  // Tries that failed at once: ICMP unreachable, sendto failure, TCP connect/read failure or a
  // bad TCP answer, no free query ID.
  std::atomic<uint64_t> errors{0};
  // Timeouts and errors since its last accepted answer (a gauge; 0 = healthy).
  std::atomic<uint64_t> consecutive_failures{0};
};

struct alignas(64) ForwarderStats {
  std::atomic<uint64_t> requests{0};  // Submit()s taken by the forwarder thread
  std::atomic<uint64_t> relayed{0};   // replies that were an upstream's answer (relayed/truncated)
  // Relayed answers larger than the client's limit, sent as a truncated reply instead.
  std::atomic<uint64_t> truncated_for_client{0};
  std::atomic<uint64_t> formerr{0};   // submitted queries that could not be parsed (FORMERR)
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ServfailCause::kCount)> servfail{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ForwardDropReason::kCount)> dropped{};
  std::atomic<uint64_t> in_flight{0};        // queries held now, waiting for upstreams (a gauge)
  std::atomic<uint64_t> callback_errors{0};  // reply callbacks that threw (caught)

  uint64_t servfail_for(ServfailCause cause) const noexcept {
    return ReadCounter(servfail[static_cast<size_t>(cause)]);
  }
  uint64_t dropped_for(ForwardDropReason reason) const noexcept {
    return ReadCounter(dropped[static_cast<size_t>(reason)]);
  }
};

}  // namespace clusterdns::controlplane
