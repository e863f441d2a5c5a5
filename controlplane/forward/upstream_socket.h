// UpstreamSocket: the forwarder's UDP socket for one address family, shared by every upstream of
// that family. Unconnected, so answers from any source reach us and are checked (and counted)
// by the forwarder rather than filtered silently by the kernel.
//
// Bound to the wildcard address and port 0: the kernel picks a random ephemeral port (from
// ip_local_port_range) once, for the socket's life. IP_RECVERR / IPV6_RECVERR queue ICMP errors
// (port or host unreachable) with the destination and the start of the datagram they answer, so
// the forwarder can fail that one try at once instead of waiting for its timeout.
//
// Threads: used by the forwarder thread only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "controlplane/forward/upstream_list.h"
#include "controlplane/listen/unique_fd.h"

namespace clusterdns::controlplane {

// Receive buffer asked for: room for ~1000 answers of 1 KiB queued while the thread is busy.
inline constexpr int kUpstreamReceiveBufferBytes = 1 << 20;

class UpstreamSocket {
 public:
  // AF_INET or AF_INET6 (IPV6_V6ONLY: IPv4 upstreams use the AF_INET socket). Non-blocking,
  // close-on-exec. Errors name the family and the step.
  static absl::StatusOr<UpstreamSocket> Open(int family);

  int fd() const { return fd_.get(); }
  int family() const { return family_; }
  // The address the kernel bound (wildcard, random port).
  const UpstreamAddress& local() const { return local_; }

  // Sends one datagram. 0, or the errno of the failure (EAGAIN: the socket buffer is full).
  int Send(const UpstreamAddress& to, std::span<const uint8_t> message);

  // One waiting datagram into buf[0, cap): its length, and its source in *from; -1 when none is
  // waiting (or on an error other than a reported ICMP error, which is skipped: ReadError has it).
  ssize_t Receive(uint8_t* buf, size_t cap, UpstreamAddress* from);

  struct QueuedError {
    UpstreamAddress destination;  // where the failed datagram was going
    int error = 0;                // ECONNREFUSED, EHOSTUNREACH, ...
    bool has_id = false;          // the kernel quoted at least the datagram's first two bytes
    uint16_t id = 0;              // its DNS ID
  };
  // One entry of the error queue; false when it is empty.
  bool ReadError(QueuedError* out);

 private:
  UpstreamSocket(UniqueFd fd, int family, UpstreamAddress local)
      : fd_(std::move(fd)), family_(family), local_(local) {}

  UniqueFd fd_;
  int family_ = 0;
  UpstreamAddress local_;
};

}  // namespace clusterdns::controlplane
