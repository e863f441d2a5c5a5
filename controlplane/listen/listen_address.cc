// --listen=ADDR:PORT parsing and printing.
#include "controlplane/listen/listen_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {
namespace {

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--listen \"", std::string(text), "\": ", std::string(why)));
}

}  // namespace

ListenAddress ListenAddress::FromSockaddr(const sockaddr* address, socklen_t length) {
  ListenAddress out;
  const socklen_t n = std::min<socklen_t>(length, sizeof(out.storage));
  std::memcpy(&out.storage, address, n);
  out.length = out.family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  return out;
}

uint16_t ListenAddress::port() const {
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

void ListenAddress::set_port(uint16_t port) {
  if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
  }
}

bool ListenAddress::is_wildcard() const {
  if (family() == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
    return IN6_IS_ADDR_UNSPECIFIED(&a);
  }
  return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr == htonl(INADDR_ANY);
}

std::string ListenAddress::ToString() const {
  char host[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, host,
              sizeof(host));
    return absl::StrCat("[", host, "]:", port());
  }
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, host,
              sizeof(host));
    return absl::StrCat(host, ":", port());
  }
  return "(unset)";
}

bool operator==(const ListenAddress& a, const ListenAddress& b) {
  if (a.family() != b.family() || a.port() != b.port()) return false;
  if (a.family() == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage);
    return std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
  }
  return reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr ==
         reinterpret_cast<const sockaddr_in*>(&b.storage)->sin_addr.s_addr;
}

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(text, "missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Bad(text, "expected ADDR:PORT, e.g. [2001:2::1]:53");
    }
    port_text = rest.substr(1);
    bracketed = true;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Bad(text, "expected ADDR:PORT, e.g. 198.18.0.1:53 or [2001:2::1]:53");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Bad(text, "an IPv6 address needs brackets, e.g. [2001:2::1]:53");
    }
  }
  if (host.empty()) return Bad(text, "missing address");
  uint32_t port = 0;
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(std::string(port_text), &port) || port > 65535) {
    return Bad(text, "port must be a number from 0 to 65535");
  }

  ListenAddress out;
  const std::string host_z(host);
  if (bracketed) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET6, host_z.c_str(), &sin6->sin6_addr) != 1) {
      return Bad(text, absl::StrCat("\"", host_z, "\" is not an IPv6 address"));
    }
    sin6->sin6_family = AF_INET6;
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    if (inet_pton(AF_INET, host_z.c_str(), &sin->sin_addr) != 1) {
      return Bad(text, absl::StrCat("\"", host_z, "\" is not an IPv4 address"));
    }
    sin->sin_family = AF_INET;
    out.length = sizeof(sockaddr_in);
  }
  out.set_port(static_cast<uint16_t>(port));
  return out;
}

}  // namespace clusterdns::controlplane
