// ListenAddress: one --listen=ADDR:PORT value, an IPv4 or IPv6 socket address.
//
//   "198.18.0.1:53"      IPv4
//   "[2001:2::1]:5353"   IPv6, always in brackets
//   "127.0.0.1:0"        port 0: the kernel picks one at bind time (tests); see DnsListeners::bound()
//
// Parse errors are absl::InvalidArgumentError naming the value: `--listen "x": ...`.
// A plain value type; thread-compatible.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace clusterdns::controlplane {

struct ListenAddress {
  sockaddr_storage storage{};  // sockaddr_in or sockaddr_in6; ports in network order, as the kernel wants
  socklen_t length = 0;        // sizeof(sockaddr_in) or sizeof(sockaddr_in6)

  // From a sockaddr the kernel filled in (getsockname, recvfrom). Only AF_INET and AF_INET6.
  static ListenAddress FromSockaddr(const sockaddr* address, socklen_t length);

  int family() const { return storage.ss_family; }  // AF_INET or AF_INET6
  uint16_t port() const;                              // host order
  void set_port(uint16_t port);                       // host order
  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  // 0.0.0.0 or ::: the socket receives on every local address.
  bool is_wildcard() const;

  // "198.18.0.1:53" or "[2001:2::1]:5353": the form ParseListenAddress reads.
  std::string ToString() const;

  friend bool operator==(const ListenAddress& a, const ListenAddress& b);
};

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace clusterdns::controlplane
