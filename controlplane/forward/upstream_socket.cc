// The forwarder's UDP sockets: open, send, receive, read ICMP errors.
#include "controlplane/forward/upstream_socket.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "records/byte_order.h"

namespace clusterdns::controlplane {
namespace {

absl::Status Failed(int family, std::string_view step) {
  return absl::InternalError(absl::StrCat("forwarder ", family == AF_INET6 ? "IPv6" : "IPv4",
                                          " UDP socket: ", std::string(step), ": ",
                                          strerror(errno)));
}

// Errors an earlier ICMP message left pending on the socket (IP_RECVERR sets sk_err too): the
// next send or receive reports them once. They belong to another datagram, not this call.
bool IsReportedIcmpError(int error) {
  return error == ECONNREFUSED || error == EHOSTUNREACH || error == ENETUNREACH ||
         error == EHOSTDOWN || error == EPROTO;
}

}  // namespace

absl::StatusOr<UpstreamSocket> UpstreamSocket::Open(int family) {
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return Failed(family, "socket");
  const int one = 1;
  const int rcvbuf = kUpstreamReceiveBufferBytes;
  // Best effort: the kernel caps it at net.core.rmem_max.
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  UpstreamAddress any;
  any.storage.ss_family = static_cast<sa_family_t>(family);
  if (family == AF_INET6) {
    if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
      return Failed(family, "IPV6_V6ONLY");
    }
    if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)) != 0) {
      return Failed(family, "IPV6_RECVERR");
    }
    any.length = sizeof(sockaddr_in6);
  } else {
    if (setsockopt(fd.get(), IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) != 0) {
      return Failed(family, "IP_RECVERR");
    }
    any.length = sizeof(sockaddr_in);
  }
  if (::bind(fd.get(), any.sockaddr_ptr(), any.length) != 0) return Failed(family, "bind");
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return Failed(family, "getsockname");
  }
  return UpstreamSocket(std::move(fd), family,
                        UpstreamAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&bound),
                                                      bound_len));
}

int UpstreamSocket::Send(const UpstreamAddress& to, std::span<const uint8_t> message) {
  bool retried_pending = false;
  for (;;) {
    const ssize_t n = ::sendto(fd_.get(), message.data(), message.size(), MSG_DONTWAIT,
                               to.sockaddr_ptr(), to.length);
    if (n >= 0) return 0;
    if (errno == EINTR) continue;
    // The first such error may be an earlier datagram's ICMP error, reported (and cleared) by
    // this call: send once more; a second one is this send's own.
    if (IsReportedIcmpError(errno) && !retried_pending) {
      retried_pending = true;
      continue;
    }
    return errno;
  }
}

ssize_t UpstreamSocket::Receive(uint8_t* buf, size_t cap, UpstreamAddress* from) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    const ssize_t n = ::recvfrom(fd_.get(), buf, cap, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (n >= 0) {
      *from = UpstreamAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer), peer_len);
      return n;
    }
    if (errno == EINTR || IsReportedIcmpError(errno)) continue;
    return -1;
  }
}

bool UpstreamSocket::ReadError(QueuedError* out) {
  uint8_t payload[2];
  iovec iov{payload, sizeof(payload)};
  sockaddr_storage dest{};
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(sock_extended_err) + sizeof(sockaddr_in6))];
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = sizeof(dest);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(fd_.get(), &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  *out = QueuedError{};
  out->destination =
      UpstreamAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&dest), msg.msg_namelen);
  // MSG_TRUNC: the quoted datagram was longer than the 2 bytes asked for; n is still 2.
  if (n >= 2) {
    out->has_id = true;
    out->id = records::LoadBe16(payload);
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
    const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    sock_extended_err err;
    std::memcpy(&err, CMSG_DATA(c), sizeof(err));
    out->error = static_cast<int>(err.ee_errno);
  }
  return true;
}

}  // namespace clusterdns::controlplane
