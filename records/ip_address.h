// IpAddress: an IPv4 or IPv6 address as raw network-order bytes, with parsing and formatting in
// the textual forms Kubernetes uses (RFC 4291 / RFC 5952), and the reverse-lookup names used for
// PTR records (in-addr.arpa, nibble ip6.arpa). Value type, cheap to copy, usable from any thread.
//
//   auto ip = IpAddress::Parse("10.254.0.3");   // std::optional<IpAddress>
//   ip->ReverseName();                           // "3.0.254.10.in-addr.arpa"
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clusterdns::records {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  IpAddress() = default;
  static IpAddress V4(const uint8_t bytes[4]);
  static IpAddress V6(const uint8_t bytes[16]);

  // Strict parse: dotted quad without leading zeros, or any RFC 4291 IPv6 text form (including
  // an embedded dotted quad). No zone index, no surrounding brackets. nullopt on anything else.
  static std::optional<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // 4 bytes for IPv4, 16 for IPv6, network order.
  const uint8_t* bytes() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }

  std::string ToString() const;  // canonical text (RFC 5952 for IPv6)
  // "d.c.b.a.in-addr.arpa" or the 32 nibbles of "…ip6.arpa", without a trailing dot.
  std::string ReverseName() const;
  // Dashed form used for headless endpoint names: "10-244-1-5"; IPv6 with ':' → '-' of the
  // canonical text ("2001-db8--1"), and a '0' after a trailing '-' ("fd00--0" for fd00::), as
  // CoreDNS names them (a hostname label does not end in a hyphen, RFC 952).
  std::string DashedName() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.bytes_ == b.bytes_;
  }
  friend bool operator<(const IpAddress& a, const IpAddress& b) {
    if (a.family_ != b.family_) return a.family_ < b.family_;
    return a.bytes_ < b.bytes_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& ip) {
    return H::combine(std::move(h), ip.family_, ip.bytes_);
  }

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// An address range, for --service-cidr and --pod-cidr.
struct IpPrefix {
  IpAddress address;  // host bits are zero
  int length = 0;     // 0..32 or 0..128

  // "10.254.0.0/16", "fd00:10:96::/112". Host bits set → error (nullopt), as kube-apiserver does.
  static std::optional<IpPrefix> Parse(std::string_view text);
  bool Contains(const IpAddress& ip) const;
  std::string ToString() const;
};

}  // namespace clusterdns::records
