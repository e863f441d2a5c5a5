// MacAddress: a 48-bit Ethernet address as its 6 wire bytes, and the few tests the packet layer
// asks of a destination address. Value type, any thread.
//
//   std::optional<MacAddress> mac = MacAddress::Parse("02:00:00:00:00:01");
//   mac->Equals(frame + eth::kDst);   // hot path: compares 6 bytes in two loads
//   mac->ToString();                  // "02:00:00:00:00:01"
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace clusterdns::dataplane {

class MacAddress {
 public:
  static constexpr size_t kLen = 6;

  MacAddress() = default;  // 00:00:00:00:00:00
  explicit MacAddress(const uint8_t bytes[kLen]) noexcept {
    std::memcpy(bytes_.data(), bytes, kLen);
  }

  // Six hex pairs separated by ':' (or '-'), any case: "02:00:5e:10:00:01". nullopt otherwise.
  static std::optional<MacAddress> Parse(std::string_view text);

  const uint8_t* bytes() const noexcept { return bytes_.data(); }
  std::string ToString() const;  // lower-case, ':'-separated

  // `wire` points at 6 bytes of a frame.
  bool Equals(const uint8_t* wire) const noexcept {
    return std::memcmp(bytes_.data(), wire, kLen) == 0;
  }
  void CopyTo(uint8_t* wire) const noexcept { std::memcpy(wire, bytes_.data(), kLen); }

  friend bool operator==(const MacAddress& a, const MacAddress& b) { return a.bytes_ == b.bytes_; }

 private:
  std::array<uint8_t, kLen> bytes_{};
};

// The I/G bit: group (multicast or broadcast) rather than one station.
inline bool IsGroupMac(const uint8_t* wire) noexcept { return (wire[0] & 0x01) != 0; }
inline bool IsBroadcastMac(const uint8_t* wire) noexcept {
  static constexpr uint8_t kBroadcast[MacAddress::kLen] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return std::memcmp(wire, kBroadcast, MacAddress::kLen) == 0;
}
// 33:33:xx:xx:xx:xx, the group address of IPv6 multicast ff..:xxxx:xxxx (RFC 2464 7).
inline bool IsIpv6MulticastMac(const uint8_t* wire) noexcept {
  return wire[0] == 0x33 && wire[1] == 0x33;
}

}  // namespace clusterdns::dataplane
