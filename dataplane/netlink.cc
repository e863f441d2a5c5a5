// rtnetlink requests: build one message (header + family header + attributes), send it with
// NLM_F_ACK, read the NLMSG_ERROR that answers it.
#include "dataplane/netlink.h"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace clusterdns::dataplane::netlink {
namespace {

// One request under construction: the nlmsghdr, then `T` (ifinfomsg, ifaddrmsg, rtmsg,
// fib_rule_hdr), then attributes, each 4-byte aligned.
class Request {
 public:
  Request(uint16_t type, uint16_t flags, const void* header, size_t header_len) {
    buf_.resize(NLMSG_LENGTH(header_len));
    auto* nh = reinterpret_cast<nlmsghdr*>(buf_.data());
    nh->nlmsg_type = type;
    nh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    nh->nlmsg_seq = 1;
    std::memcpy(buf_.data() + NLMSG_HDRLEN, header, header_len);
    Align();
  }

  void Attr(uint16_t type, const void* data, size_t len) {
    const size_t at = buf_.size();
    buf_.resize(at + RTA_LENGTH(len));
    rtattr attr{};
    attr.rta_type = type;
    attr.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    std::memcpy(buf_.data() + at, &attr, sizeof(attr));
    std::memcpy(buf_.data() + at + RTA_LENGTH(0), data, len);
    Align();
  }
  void Attr32(uint16_t type, uint32_t value) { Attr(type, &value, sizeof(value)); }

  // Sends and waits for the acknowledgement: 0 or the kernel's negative errno.
  int Send() {
    auto* nh = reinterpret_cast<nlmsghdr*>(buf_.data());
    nh->nlmsg_len = static_cast<uint32_t>(buf_.size());
    const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    int result = 0;
    if (sendto(fd, buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
      result = -errno;
    } else {
      alignas(nlmsghdr) char reply[8192];
      const ssize_t n = recv(fd, reply, sizeof(reply), 0);
      if (n < 0) {
        result = -errno;
      } else {
        auto* r = reinterpret_cast<nlmsghdr*>(reply);
        if (static_cast<size_t>(n) >= NLMSG_LENGTH(sizeof(nlmsgerr)) &&
            r->nlmsg_type == NLMSG_ERROR) {
          result = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(r))->error;
        } else {
          result = -EPROTO;
        }
      }
    }
    close(fd);
    return result;
  }

 private:
  void Align() { buf_.resize(NLMSG_ALIGN(buf_.size())); }
  std::vector<unsigned char> buf_;
};

std::string ErrnoText(int negative_errno) { return std::strerror(-negative_errno); }

unsigned char FamilyOf(records::IpAddress::Family family) {
  return family == records::IpAddress::Family::kV4 ? AF_INET : AF_INET6;
}

Request RuleRequest(uint16_t type, uint16_t flags, const records::IpAddress& address,
                    uint32_t table, uint32_t priority) {
  fib_rule_hdr rule{};
  rule.family = address.is_v4() ? AF_INET : AF_INET6;
  rule.src_len = static_cast<uint8_t>(address.size() * 8);
  rule.table = static_cast<uint8_t>(table < 256 ? table : RT_TABLE_UNSPEC);
  rule.action = FR_ACT_TO_TBL;
  Request req(type, flags, &rule, sizeof(rule));
  req.Attr(FRA_SRC, address.bytes(), address.size());
  req.Attr32(FRA_TABLE, table);
  req.Attr32(FRA_PRIORITY, priority);
  return req;
}

}  // namespace

absl::StatusOr<int> InterfaceIndex(const std::string& name) {
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) {
    return absl::NotFoundError(
        absl::StrCat("no network interface ", name, ": ", std::strerror(errno)));
  }
  return static_cast<int>(index);
}

absl::Status SetLinkUp(int ifindex, uint32_t mtu) {
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_index = ifindex;
  link.ifi_flags = IFF_UP;
  link.ifi_change = IFF_UP;
  Request req(RTM_NEWLINK, 0, &link, sizeof(link));
  req.Attr32(IFLA_MTU, mtu);
  if (int rc = req.Send(); rc != 0) {
    return absl::InternalError(absl::StrCat("interface index ", ifindex,
                                            ": cannot set up with mtu ", mtu, ": ", ErrnoText(rc)));
  }
  return absl::OkStatus();
}

absl::Status AddAddress(int ifindex, const records::IpAddress& address) {
  ifaddrmsg ifa{};
  ifa.ifa_family = address.is_v4() ? AF_INET : AF_INET6;
  ifa.ifa_prefixlen = static_cast<unsigned char>(address.size() * 8);
  ifa.ifa_flags = IFA_F_NODAD;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<unsigned>(ifindex);
  Request req(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
  req.Attr(IFA_LOCAL, address.bytes(), address.size());
  req.Attr(IFA_ADDRESS, address.bytes(), address.size());
  req.Attr32(IFA_FLAGS, IFA_F_NODAD);
  if (int rc = req.Send(); rc != 0) {
    return absl::InternalError(absl::StrCat("cannot add address ", address.ToString(),
                                            " to interface index ", ifindex, ": ", ErrnoText(rc)));
  }
  return absl::OkStatus();
}

absl::Status AddDefaultRoute(int ifindex, records::IpAddress::Family family, uint32_t table) {
  rtmsg rt{};
  rt.rtm_family = FamilyOf(family);
  rt.rtm_dst_len = 0;
  rt.rtm_table = static_cast<unsigned char>(table < 256 ? table : RT_TABLE_UNSPEC);
  rt.rtm_protocol = RTPROT_STATIC;
  rt.rtm_scope = RT_SCOPE_LINK;
  rt.rtm_type = RTN_UNICAST;
  Request req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof(rt));
  req.Attr32(RTA_TABLE, table);
  req.Attr32(RTA_OIF, static_cast<uint32_t>(ifindex));
  if (int rc = req.Send(); rc != 0) {
    return absl::InternalError(absl::StrCat(
        "cannot add a default ", family == records::IpAddress::Family::kV4 ? "IPv4" : "IPv6",
        " route through interface index ", ifindex, " in table ", table, ": ", ErrnoText(rc)));
  }
  return absl::OkStatus();
}

absl::Status AddSourceRule(const records::IpAddress& address, uint32_t table, uint32_t priority) {
  // An identical rule left behind is removed first; -ENOENT (none) is the usual answer.
  DeleteSourceRule(address, table, priority).IgnoreError();
  Request req = RuleRequest(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, address, table, priority);
  if (int rc = req.Send(); rc != 0) {
    return absl::InternalError(absl::StrCat("cannot add the rule from ", address.ToString(),
                                            " lookup ", table, ": ", ErrnoText(rc)));
  }
  return absl::OkStatus();
}

absl::Status DeleteSourceRule(const records::IpAddress& address, uint32_t table,
                              uint32_t priority) {
  Request req = RuleRequest(RTM_DELRULE, 0, address, table, priority);
  if (int rc = req.Send(); rc != 0) {
    return absl::InternalError(absl::StrCat("cannot delete the rule from ", address.ToString(),
                                            " lookup ", table, ": ", ErrnoText(rc)));
  }
  return absl::OkStatus();
}

}  // namespace clusterdns::dataplane::netlink
