// --upstream parsing and resolv.conf reading.
#include "controlplane/forward/upstream_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {
namespace {

absl::Status BadFlag(std::string_view entry, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--upstream \"", std::string(entry), "\": ", std::string(why)));
}

// Fills `out` from an address without brackets or port. False if it is neither family.
bool ParseHost(std::string_view host, uint16_t port, UpstreamAddress* out) {
  const std::string z(host);
  *out = UpstreamAddress{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (inet_pton(AF_INET, z.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    out->length = sizeof(sockaddr_in);
    out->set_port(port);
    return true;
  }
  *out = UpstreamAddress{};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (inet_pton(AF_INET6, z.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    out->length = sizeof(sockaddr_in6);
    out->set_port(port);
    return true;
  }
  return false;
}

absl::StatusOr<UpstreamAddress> ParseEntry(std::string_view entry) {
  if (entry.empty()) return BadFlag(entry, "empty entry (two commas, or a comma at an end)");
  std::string_view host = entry;
  std::string_view port_text;
  bool has_port = false;
  if (entry.front() == '[') {
    const size_t close = entry.find(']');
    if (close == std::string_view::npos) {
      return BadFlag(entry, "missing ']' after the IPv6 address");
    }
    host = entry.substr(1, close - 1);
    const std::string_view rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return BadFlag(entry, "expected [IPv6]:PORT, e.g. [2001:2::53]:53");
      port_text = rest.substr(1);
      has_port = true;
    }
    if (host.find(':') == std::string_view::npos) {
      return BadFlag(entry, absl::StrCat("\"", std::string(host), "\" is not an IPv6 address"));
    }
  } else {
    const size_t first = entry.find(':');
    // One colon: IPv4:PORT. Two or more: a bare IPv6 address (its own colons, no port).
    if (first != std::string_view::npos && entry.find(':', first + 1) == std::string_view::npos) {
      host = entry.substr(0, first);
      port_text = entry.substr(first + 1);
      has_port = true;
    }
  }
  if (host.empty()) return BadFlag(entry, "missing address");
  if (host.find('%') != std::string_view::npos) {
    return BadFlag(entry, "IPv6 zones (%IFACE) are not supported");
  }
  uint32_t port = kDefaultUpstreamPort;
  if (has_port) {
    if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string_view::npos ||
        !absl::SimpleAtoi(std::string(port_text), &port) || port == 0 || port > 65535) {
      return BadFlag(entry, "port must be a number from 1 to 65535");
    }
  }
  UpstreamAddress out;
  if (!ParseHost(host, static_cast<uint16_t>(port), &out)) {
    return BadFlag(entry,
                   absl::StrCat("\"", std::string(host), "\" is not an IPv4 or IPv6 address"));
  }
  return out;
}

// Splits on any of `separators`; empty pieces are kept only if `keep_empty`. (Debian's abseil
// StrSplit takes absl::string_view, which is not std::string_view there.)
std::vector<std::string_view> Split(std::string_view text, std::string_view separators,
                                    bool keep_empty) {
  std::vector<std::string_view> out;
  size_t begin = 0;
  for (;;) {
    const size_t end = text.find_first_of(separators, begin);
    const std::string_view piece =
        text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    if (keep_empty || !piece.empty()) out.push_back(piece);
    if (end == std::string_view::npos) return out;
    begin = end + 1;
  }
}

bool Contains(const std::vector<UpstreamAddress>& list, const UpstreamAddress& a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

}  // namespace

absl::StatusOr<UpstreamConfig> ParseUpstreamFlag(std::string_view text) {
  UpstreamConfig config;
  if (text == "none") {
    config.none = true;
    return config;
  }
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "--upstream \"\": empty; give IP[:PORT][,...] or none");
  }
  for (const std::string_view entry : Split(text, ",", /*keep_empty=*/true)) {
    if (entry == "none") return BadFlag(text, "\"none\" cannot be combined with addresses");
    auto address = ParseEntry(entry);
    if (!address.ok()) return address.status();
    if (Contains(config.upstreams, *address)) {
      return BadFlag(entry, "listed twice");
    }
    config.upstreams.push_back(*address);
  }
  return config;
}

absl::StatusOr<UpstreamConfig> ParseResolvConf(std::string_view text, std::string_view source) {
  UpstreamConfig config;
  int line_number = 0;
  for (std::string_view line : Split(text, "\n", /*keep_empty=*/true)) {
    ++line_number;
    const size_t comment = line.find_first_of("#;");
    if (comment != std::string_view::npos) line = line.substr(0, comment);
    const std::vector<std::string_view> words = Split(line, " \t\r", /*keep_empty=*/false);
    if (words.empty() || words[0] != "nameserver") continue;
    const std::string where = absl::StrCat(std::string(source), ":", line_number);
    if (words.size() < 2) {
      config.warnings.push_back(absl::StrCat(where, ": nameserver without an address; skipped"));
      continue;
    }
    const std::string_view host = words[1];
    if (host.find('%') != std::string_view::npos) {
      config.warnings.push_back(absl::StrCat(where, ": nameserver \"", std::string(host),
                                             "\" has an IPv6 zone, which is not supported; "
                                             "skipped"));
      continue;
    }
    UpstreamAddress address;
    if (!ParseHost(host, kDefaultUpstreamPort, &address)) {
      config.warnings.push_back(absl::StrCat(where, ": nameserver \"", std::string(host),
                                             "\" is not an IPv4 or IPv6 address; skipped"));
      continue;
    }
    if (Contains(config.upstreams, address)) continue;  // glibc would just ask it twice
    if (config.upstreams.size() == kMaxResolvConfNameservers) {
      config.warnings.push_back(absl::StrCat(where, ": nameserver \"", std::string(host),
                                             "\" is past the first ", kMaxResolvConfNameservers,
                                             "; skipped, as glibc does"));
      continue;
    }
    config.upstreams.push_back(address);
  }
  if (config.upstreams.empty()) {
    std::string message = absl::StrCat(std::string(source), ": no usable nameserver line");
    for (const std::string& w : config.warnings) absl::StrAppend(&message, " (", w, ")");
    return absl::InvalidArgumentError(message);
  }
  return config;
}

absl::StatusOr<UpstreamConfig> ReadResolvConfNameservers(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ParseResolvConf(text.str(), path);
}

}  // namespace clusterdns::controlplane
