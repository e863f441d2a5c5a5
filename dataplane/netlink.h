// A minimal rtnetlink client for the exception path's kernel interface (exception_path.h): link
// up and MTU, addresses, and the policy routing that sends the kernel's replies from a served
// address out of the TAP. No rte_*.h; plain Linux sockets (NETLINK_ROUTE, AF_INET ioctl).
//
// Start-up and shutdown only (cold path): every call opens its own socket, sends one request,
// waits for the kernel's acknowledgement and closes. Errors name the interface / address and the
// kernel's errno text. Any thread; acts on the calling thread's network namespace.
//
//   CDNS_ASSIGN_OR_RETURN(int ifindex, netlink::InterfaceIndex("cdns-tap0"));
//   CDNS_RETURN_IF_ERROR(netlink::SetLinkUp(ifindex, 1500));
//   CDNS_RETURN_IF_ERROR(netlink::AddAddress(ifindex, ip));             // /32 or /128, no DAD
//   CDNS_RETURN_IF_ERROR(netlink::AddDefaultRoute(ifindex, family, table));  // on-link, in table
//   CDNS_RETURN_IF_ERROR(netlink::AddSourceRule(ip, table, priority));  // from ip lookup table
//   netlink::DeleteSourceRule(ip, table, priority);                     // at shutdown
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "records/ip_address.h"

namespace clusterdns::dataplane::netlink {

absl::StatusOr<int> InterfaceIndex(const std::string& name);

// IFF_UP and the MTU (bytes of IP packet), one RTM_NEWLINK.
absl::Status SetLinkUp(int ifindex, uint32_t mtu);

// The address as a host address (/32, /128), IFA_F_NODAD so that it can be bound at once.
absl::Status AddAddress(int ifindex, const records::IpAddress& address);

// A default route (0.0.0.0/0 or ::/0) through `ifindex`, scope link (the kernel resolves every
// destination's MAC on that link), in routing table `table`.
absl::Status AddDefaultRoute(int ifindex, records::IpAddress::Family family, uint32_t table);

// Policy rule "from <address> lookup <table>" at `priority`. AddSourceRule first deletes an
// identical rule (left by a process that did not stop cleanly), so rules never pile up.
absl::Status AddSourceRule(const records::IpAddress& address, uint32_t table, uint32_t priority);
absl::Status DeleteSourceRule(const records::IpAddress& address, uint32_t table, uint32_t priority);

}  // namespace clusterdns::dataplane::netlink
