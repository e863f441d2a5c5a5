// The upstream nameservers the forwarder sends names outside the served zones to: the
// --upstream flag, and the host default read from resolv.conf.
//
//   --upstream=198.18.0.53                      IPv4, port 53
//   --upstream=198.18.0.53:5353,[2001:2::53]:53 several, tried in turn (see forwarder.h)
//   --upstream=2001:2::53                       bare IPv6 (no port: the whole text is the address)
//   --upstream=none                             no forwarding: REFUSED outside the zones
//
// resolv.conf: every `nameserver ADDR` line (glibc's syntax: keyword, whitespace, address; '#'
// and ';' start comments), at most kMaxResolvConfNameservers of them as glibc uses. A nameserver
// that cannot be used is skipped with a warning in UpstreamConfig::warnings, not an error:
//   - an IPv6 address with a zone ("fe80::1%eth0"): REJECTED (skipped). Stripping the zone would
//     leave a link-local address that no route reaches; scoped upstreams are not supported;
//   - text that is not an IPv4 or IPv6 address.
// A file with no usable nameserver is an error naming the file.
//
// Errors are absl::InvalidArgumentError naming the offending text: `--upstream "1.2.3.4:x": ...`,
// `/etc/resolv.conf: no usable nameserver line`. Pure functions; thread-compatible.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/listen/listen_address.h"

namespace clusterdns::controlplane {

// A socket address (IPv4 or IPv6, port in it): the same value type the listeners use.
using UpstreamAddress = ListenAddress;

inline constexpr uint16_t kDefaultUpstreamPort = 53;
// glibc's MAXNS: the resolver ignores nameserver lines after the third.
inline constexpr size_t kMaxResolvConfNameservers = 3;

struct UpstreamConfig {
  // --upstream=none: forwarding off (respond() answers REFUSED outside the zones).
  bool none = false;
  // In the order given; never empty unless `none`. No address appears twice.
  std::vector<UpstreamAddress> upstreams;
  // Entries that were skipped (resolv.conf only), one line each, for the log.
  std::vector<std::string> warnings;
};

// Parses the --upstream value: "none", or a comma-separated list of IP[:PORT], IPv6 either
// bracketed ("[2001:2::53]" or "[2001:2::53]:53") or bare ("2001:2::53", port 53). Port 1..65535.
absl::StatusOr<UpstreamConfig> ParseUpstreamFlag(std::string_view text);

// Reads the nameserver lines of a resolv.conf file (the host default is "/etc/resolv.conf").
// Port 53 for each. Errors: the file cannot be read, or it names no usable nameserver.
absl::StatusOr<UpstreamConfig> ReadResolvConfNameservers(const std::string& path);

// Same, from the file's text (for tests and for callers that read it themselves). `source` names
// the file in messages.
absl::StatusOr<UpstreamConfig> ParseResolvConf(std::string_view text, std::string_view source);

}  // namespace clusterdns::controlplane
