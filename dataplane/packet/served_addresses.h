// ServedAddresses: the IPv4 and IPv6 addresses the appliance answers on (--ip), in the form the
// packet classifier looks them up: raw wire words compared for equality, a linear scan over a
// handful of entries (a ClusterIP or two per family: one or two cache lines, no hashing).
//
// Built once at startup (Create validates), then read-only: any number of worker threads may call
// the const methods concurrently. The address arguments point at wire bytes in a frame (4 bytes
// for IPv4, 16 for IPv6, network order) at any alignment.
//
//   auto served = ServedAddresses::Create({*IpAddress::Parse("10.254.0.3"),
//                                          *IpAddress::Parse("fd00:10:254::a")});
//   if (served->HasV4(ip_header + ipv4::kDst)) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/packet/byte_order.h"
#include "records/ip_address.h"

namespace clusterdns::dataplane {

class ServedAddresses {
 public:
  // Per family. --ip names the DNS ClusterIP(s); 16 leaves room for a few extra service
  // addresses while a miss (the common case for foreign traffic) stays a scan of 64 bytes.
  static constexpr size_t kMaxPerFamily = 16;

  ServedAddresses() = default;  // serves nothing

  // Every address must be one a unicast packet can be sent to: not unspecified, loopback,
  // multicast, or (IPv4) 240.0.0.0/4 and broadcast. Duplicates are merged. More than
  // kMaxPerFamily of one family is an error. Errors name the offending address.
  static absl::StatusOr<ServedAddresses> Create(const std::vector<records::IpAddress>& addresses);

  bool HasV4(const uint8_t* addr) const noexcept {
    const uint32_t word = RawLoad32(addr);
    for (size_t i = 0; i < v4_count_; ++i) {
      if (v4_raw_[i] == word) return true;
    }
    return false;
  }

  // An IPv4 header's source and destination (8 bytes at `src`) in one pass over the addresses:
  // kDestinationServed | kSourceServed as they are.
  static constexpr uint32_t kDestinationServed = 1;
  static constexpr uint32_t kSourceServed = 2;
  uint32_t V4SourceAndDestination(const uint8_t* src) const noexcept {
    const uint32_t s = RawLoad32(src);
    const uint32_t d = RawLoad32(src + 4);
    uint32_t found = 0;
    for (size_t i = 0; i < v4_count_; ++i) {
      found |= (v4_raw_[i] == d ? kDestinationServed : 0) | (v4_raw_[i] == s ? kSourceServed : 0);
    }
    return found;
  }

  bool HasV6(const uint8_t* addr) const noexcept {
    const uint64_t hi = RawLoad64(addr);
    const uint64_t lo = RawLoad64(addr + 8);
    for (size_t i = 0; i < v6_count_; ++i) {
      if (v6_raw_[i].lo == lo && v6_raw_[i].hi == hi) return true;
    }
    return false;
  }

  // True for the solicited-node multicast group ff02::1:ffXX:XXXX (RFC 4291 2.7.1) of a served
  // IPv6 address: its low 24 bits are XX:XXXX.
  bool IsSolicitedNodeGroup(const uint8_t* addr) const noexcept;

  // True for the Ethernet group 33:33:ff:XX:XX:XX of such a group (RFC 2464 7). `mac`: 6 bytes.
  bool IsSolicitedNodeMac(const uint8_t* mac) const noexcept;

  size_t v4_count() const noexcept { return v4_count_; }
  size_t v6_count() const noexcept { return v6_count_; }
  // The addresses, IPv4 first, in the order given (for logs and tests).
  std::vector<records::IpAddress> List() const;

 private:
  bool HasLow24(const uint8_t* low3) const noexcept;

  struct V6Words {
    uint64_t hi;  // the first 8 bytes as they lie in memory (equality only)
    uint64_t lo;
  };
  size_t v4_count_ = 0;
  size_t v6_count_ = 0;
  uint32_t v4_raw_[kMaxPerFamily] = {};  // the 4 wire bytes as they lie in memory (equality only)
  V6Words v6_raw_[kMaxPerFamily] = {};
};

}  // namespace clusterdns::dataplane
