// Binding the UDP and TCP sockets of one --listen address. Startup only.
//
// Both sockets are non-blocking and close-on-exec and, for IPv6, IPV6_V6ONLY (an IPv6 address
// never captures IPv4 traffic, so "0.0.0.0:53" and "[::]:53" can both be listed). TCP has
// SO_REUSEADDR (a restart does not wait out TIME_WAIT); UDP does not, since on Linux that would let
// a second process share the port silently. Port 0 picks one free port for both sockets.
// A wildcard UDP socket also asks for the destination address of each datagram (IP_PKTINFO /
// IPV6_RECVPKTINFO) so replies leave from the address the client asked.
//
// Errors name the address and the step: `--listen 198.18.0.1:53: bind: Address already in use`.
#pragma once

#include "absl/status/statusor.h"
#include "controlplane/listen/listen_address.h"
#include "controlplane/listen/unique_fd.h"

namespace clusterdns::controlplane {

struct BoundSockets {
  UniqueFd udp;
  UniqueFd tcp;          // listening
  ListenAddress bound;   // with the actual port
  bool udp_pktinfo = false;  // the UDP socket delivers IP(V6)_PKTINFO control messages
};

// TCP listen backlog: connections the kernel completes before we accept them.
inline constexpr int kTcpListenBacklog = 1024;
// UDP receive buffer asked for: ~4 MiB holds thousands of queued queries.
inline constexpr int kUdpReceiveBufferBytes = 4 << 20;

absl::StatusOr<BoundSockets> BindListenSockets(const ListenAddress& address);

}  // namespace clusterdns::controlplane
