// ServedAddresses: validation at startup, and the multicast-group lookups used only by neighbour
// discovery (rare next to DNS, so out of line).
#include "dataplane/packet/served_addresses.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::dataplane {
namespace {

// Why an address cannot be served on a wire, or nullptr if it can.
const char* UnservableV4(const uint8_t* b) {
  if (b[0] == 0) return "is in 0.0.0.0/8 (this network)";
  if (b[0] == 127) return "is a loopback address";
  if (b[0] >= 224 && b[0] < 240) return "is a multicast address";
  if (b[0] >= 240) return "is reserved or the broadcast address";
  return nullptr;
}

const char* UnservableV6(const uint8_t* b) {
  static constexpr uint8_t kZero[16] = {};
  if (b[0] == 0xff) return "is a multicast address";
  if (std::memcmp(b, kZero, 15) == 0) {
    if (b[15] == 0) return "is the unspecified address";
    if (b[15] == 1) return "is the loopback address";
  }
  return nullptr;
}

// ff02::1:ff00:0/104: the first 13 bytes of every solicited-node group.
constexpr uint8_t kSolicitedNodePrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

}  // namespace

absl::StatusOr<ServedAddresses> ServedAddresses::Create(
    const std::vector<records::IpAddress>& addresses) {
  ServedAddresses out;
  for (const records::IpAddress& ip : addresses) {
    if (ip.is_v4()) {
      if (const char* why = UnservableV4(ip.bytes())) {
        return absl::InvalidArgumentError(absl::StrCat("served address ", ip.ToString(), " ", why));
      }
      if (out.HasV4(ip.bytes())) continue;
      if (out.v4_count_ == kMaxPerFamily) {
        return absl::InvalidArgumentError(absl::StrCat("too many served IPv4 addresses at ",
                                                       ip.ToString(), ": at most ", kMaxPerFamily));
      }
      out.v4_raw_[out.v4_count_++] = RawLoad32(ip.bytes());
    } else {
      if (const char* why = UnservableV6(ip.bytes())) {
        return absl::InvalidArgumentError(absl::StrCat("served address ", ip.ToString(), " ", why));
      }
      if (out.HasV6(ip.bytes())) continue;
      if (out.v6_count_ == kMaxPerFamily) {
        return absl::InvalidArgumentError(absl::StrCat("too many served IPv6 addresses at ",
                                                       ip.ToString(), ": at most ", kMaxPerFamily));
      }
      out.v6_raw_[out.v6_count_++] = {RawLoad64(ip.bytes()), RawLoad64(ip.bytes() + 8)};
    }
  }
  return out;
}

bool ServedAddresses::HasLow24(const uint8_t* low3) const noexcept {
  for (size_t i = 0; i < v6_count_; ++i) {
    uint8_t served[8];
    std::memcpy(served, &v6_raw_[i].lo, sizeof(served));
    if (std::memcmp(served + 5, low3, 3) == 0) return true;
  }
  return false;
}

bool ServedAddresses::IsSolicitedNodeGroup(const uint8_t* addr) const noexcept {
  return std::memcmp(addr, kSolicitedNodePrefix, sizeof(kSolicitedNodePrefix)) == 0 &&
         HasLow24(addr + 13);
}

bool ServedAddresses::IsSolicitedNodeMac(const uint8_t* mac) const noexcept {
  return mac[0] == 0x33 && mac[1] == 0x33 && mac[2] == 0xff && HasLow24(mac + 3);
}

std::vector<records::IpAddress> ServedAddresses::List() const {
  std::vector<records::IpAddress> out;
  for (size_t i = 0; i < v4_count_; ++i) {
    uint8_t b[4];
    std::memcpy(b, &v4_raw_[i], sizeof(b));
    out.push_back(records::IpAddress::V4(b));
  }
  for (size_t i = 0; i < v6_count_; ++i) {
    uint8_t b[16];
    std::memcpy(b, &v6_raw_[i].hi, 8);
    std::memcpy(b + 8, &v6_raw_[i].lo, 8);
    out.push_back(records::IpAddress::V6(b));
  }
  return out;
}

}  // namespace clusterdns::dataplane
