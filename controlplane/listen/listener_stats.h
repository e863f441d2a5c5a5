// Counters of the kernel-socket listeners beyond what QueryCounters (records/query_counters.h)
// counts per query: datagrams and batches, queries dropped by the listener itself, and TCP
// connections by how they ended.
//
// Same discipline as QueryCounters: one block per listener thread, which is its only writer
// (relaxed load + relaxed store, no read-modify-write); the metrics exporter reads any block at any
// time with relaxed loads and may see values a few events old, never torn ones.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace clusterdns::controlplane {

// relaxed: single writer per counter; readers need untorn words only.
inline void BumpCounter(std::atomic<uint64_t>& c, uint64_t by = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
inline uint64_t ReadCounter(const std::atomic<uint64_t>& c) noexcept {
  return c.load(std::memory_order_relaxed);
}

struct alignas(64) UdpListenerStats {
  std::atomic<uint64_t> datagrams{0};  // received, whatever became of them
  std::atomic<uint64_t> batches{0};    // recvmmsg calls that returned at least one datagram
  // Larger than records::kUdpResponseRoom: the kernel cut it (MSG_TRUNC); dropped unanswered.
  std::atomic<uint64_t> oversize{0};
  // No table published yet: dropped unanswered (the client retries; SERVFAIL would make it give
  // up on us, and the listener only starts serving once the process has a table anyway).
  std::atomic<uint64_t> no_table{0};
  // Verdict::kForward: handed to the forwarder, or dropped (no forwarder, or it is stopping).
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> forward_dropped{0};
  std::atomic<uint64_t> replies_sent{0};
  std::atomic<uint64_t> send_errors{0};  // replies sendmmsg refused (buffer full, unreachable)
};

// Why a TCP connection ended. Order is the label order.
enum class TcpCloseReason : uint8_t {
  kPeerClosed,    // the client closed (after its queries were answered)
  kIdle,          // no query within tcp_idle_timeout
  kReadTimeout,   // a partial frame did not complete within tcp_read_timeout
  kWriteStalled,  // responses could not be written for tcp_idle_timeout (client not reading)
  kBadFrame,      // a frame shorter than a DNS header (length 0..11)
  kCap,           // accepted beyond max_tcp_connections and closed at once
  kError,         // read/write error (reset by peer, ...)
  kStopped,       // open when the listener stopped
  kCount,
};

// "peer_closed", "idle", "read_timeout", "write_stalled", "bad_frame", "cap", "error", "stopped".
inline std::string_view TcpCloseReasonName(TcpCloseReason reason) {
  switch (reason) {
    case TcpCloseReason::kPeerClosed: return "peer_closed";
    case TcpCloseReason::kIdle: return "idle";
    case TcpCloseReason::kReadTimeout: return "read_timeout";
    case TcpCloseReason::kWriteStalled: return "write_stalled";
    case TcpCloseReason::kBadFrame: return "bad_frame";
    case TcpCloseReason::kCap: return "cap";
    case TcpCloseReason::kError: return "error";
    case TcpCloseReason::kStopped: return "stopped";
    case TcpCloseReason::kCount: break;
  }
  return "unknown";
}

struct alignas(64) TcpListenerStats {
  std::atomic<uint64_t> accepted{0};      // connections accepted (including those closed for kCap)
  std::atomic<uint64_t> open{0};          // connections open now (a gauge)
  std::array<std::atomic<uint64_t>, static_cast<size_t>(TcpCloseReason::kCount)> closed{};
  std::atomic<uint64_t> accept_errors{0};  // accept4 failures (EMFILE, ...): accepting pauses briefly
  std::atomic<uint64_t> queries{0};        // complete frames handed to respond()
  std::atomic<uint64_t> no_table{0};       // dropped: no table published yet (see UdpListenerStats)
  std::atomic<uint64_t> forwarded{0};      // see UdpListenerStats
  std::atomic<uint64_t> forward_dropped{0};
  std::atomic<uint64_t> forwarded_replies{0};  // forwarder replies queued on their connection
  std::atomic<uint64_t> forwarded_orphans{0};  // ... whose connection had closed: dropped
  // Times a connection stopped being read because its unsent responses reached the high-water
  // mark (a client that sends but does not read).
  std::atomic<uint64_t> read_pauses{0};
  // Largest number of unsent response bytes any connection held (a gauge of the worst case).
  std::atomic<uint64_t> max_write_queue_bytes{0};

  uint64_t closed_for(TcpCloseReason reason) const noexcept {
    return ReadCounter(closed[static_cast<size_t>(reason)]);
  }
};

}  // namespace clusterdns::controlplane
