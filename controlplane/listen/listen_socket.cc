// Socket setup for --listen addresses.
#include "controlplane/listen/listen_socket.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {
namespace {

// Port 0: the kernel picks a free UDP port; the same TCP port may be taken, so try again.
constexpr int kEphemeralAttempts = 16;

absl::Status Errno(const ListenAddress& address, std::string_view step, int err) {
  const std::string message =
      absl::StrCat("--listen ", address.ToString(), ": ", std::string(step), ": ", strerror(err));
  return err == EADDRINUSE || err == EACCES ? absl::FailedPreconditionError(message)
                                            : absl::InternalError(message);
}

absl::StatusOr<UniqueFd> Open(const ListenAddress& address, int type) {
  UniqueFd fd(::socket(address.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno(address, "socket", errno);
  const int one = 1;
  // TCP only: on Linux, UDP sockets that all set SO_REUSEADDR may share a port, so a second
  // process would bind "successfully" and steal queries. UDP has no TIME_WAIT to skip anyway.
  if (type == SOCK_STREAM &&
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Errno(address, "setsockopt SO_REUSEADDR", errno);
  }
  if (type == SOCK_DGRAM) {
    // Best effort (the kernel caps it at net.core.rmem_max): absorbs a burst of queries while
    // the thread is descheduled, instead of dropping them.
    const int bytes = kUdpReceiveBufferBytes;
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  if (address.family() == AF_INET6 &&
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return Errno(address, "setsockopt IPV6_V6ONLY", errno);
  }
  return fd;
}

// One attempt at binding both sockets on `address` (its port may be 0 for UDP only).
absl::StatusOr<BoundSockets> TryBind(const ListenAddress& address, bool* retry) {
  *retry = false;
  BoundSockets out;
  auto udp = Open(address, SOCK_DGRAM);
  if (!udp.ok()) return udp.status();
  out.udp = std::move(*udp);
  if (::bind(out.udp.get(), address.sockaddr_ptr(), address.length) != 0) {
    return Errno(address, "bind udp", errno);
  }
  sockaddr_storage actual{};
  socklen_t actual_length = sizeof(actual);
  if (getsockname(out.udp.get(), reinterpret_cast<sockaddr*>(&actual), &actual_length) != 0) {
    return Errno(address, "getsockname", errno);
  }
  out.bound = ListenAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&actual), actual_length);

  auto tcp = Open(address, SOCK_STREAM);
  if (!tcp.ok()) return tcp.status();
  out.tcp = std::move(*tcp);
  if (::bind(out.tcp.get(), out.bound.sockaddr_ptr(), out.bound.length) != 0) {
    const int err = errno;
    *retry = address.port() == 0 && err == EADDRINUSE;
    return Errno(address, "bind tcp", err);
  }
  if (::listen(out.tcp.get(), kTcpListenBacklog) != 0) return Errno(address, "listen", errno);

  if (address.is_wildcard()) {
    const int one = 1;
    const int rc = address.family() == AF_INET6
                       ? setsockopt(out.udp.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
                       : setsockopt(out.udp.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    if (rc != 0) return Errno(address, "setsockopt PKTINFO", errno);
    out.udp_pktinfo = true;
  }
  return out;
}

}  // namespace

absl::StatusOr<BoundSockets> BindListenSockets(const ListenAddress& address) {
  if (address.family() != AF_INET && address.family() != AF_INET6) {
    return absl::InvalidArgumentError("--listen: address family is neither IPv4 nor IPv6");
  }
  absl::Status last;
  for (int attempt = 0; attempt < kEphemeralAttempts; ++attempt) {
    bool retry = false;
    auto bound = TryBind(address, &retry);
    if (bound.ok() || !retry) return bound;
    last = bound.status();
  }
  return last;
}

}  // namespace clusterdns::controlplane
