// IpAddress parsing and formatting. inet_pton/inet_ntop do the RFC work; we add the strictness
// Kubernetes applies (no leading zeros in IPv4 octets) and the reverse/dashed name forms.
#include "records/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace clusterdns::records {

IpAddress IpAddress::V4(const uint8_t bytes[4]) {
  IpAddress ip;
  ip.family_ = Family::kV4;
  std::memcpy(ip.bytes_.data(), bytes, 4);
  return ip;
}

IpAddress IpAddress::V6(const uint8_t bytes[16]) {
  IpAddress ip;
  ip.family_ = Family::kV6;
  std::memcpy(ip.bytes_.data(), bytes, 16);
  return ip;
}

namespace {

// inet_pton accepts "010.1.1.1" on some libcs as decimal, on others not at all; Kubernetes
// (Go's netip) rejects leading zeros. Check the shape ourselves first.
bool IsStrictDottedQuad(std::string_view text) {
  int octets = 0;
  size_t i = 0;
  while (i <= text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    size_t digits = i - start;
    if (digits == 0 || digits > 3) return false;
    if (digits > 1 && text[start] == '0') return false;
    ++octets;
    if (i == text.size()) break;
    if (text[i] != '.') return false;
    ++i;
  }
  return octets == 4;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t bytes[16];
  if (text.find(':') == std::string_view::npos) {
    if (!IsStrictDottedQuad(text) || inet_pton(AF_INET, buf, bytes) != 1) return std::nullopt;
    return V4(bytes);
  }
  if (inet_pton(AF_INET6, buf, bytes) != 1) return std::nullopt;
  return V6(bytes);
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

std::string IpAddress::ReverseName() const {
  std::string out;
  if (is_v4()) {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(bytes_[i]);
      out += '.';
    }
    out += "in-addr.arpa";
    return out;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(72);
  for (int i = 15; i >= 0; --i) {
    out += kHex[bytes_[i] & 0xf];
    out += '.';
    out += kHex[bytes_[i] >> 4];
    out += '.';
  }
  out += "ip6.arpa";
  return out;
}

std::string IpAddress::DashedName() const {
  std::string text = ToString();
  for (char& c : text) {
    if (c == '.' || c == ':') c = '-';
  }
  if (text.back() == '-') text.push_back('0');
  return text;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = IpAddress::Parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  std::string_view len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  int len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  if (len_text.size() > 1 && len_text[0] == '0') return std::nullopt;
  int max = ip->is_v4() ? 32 : 128;
  if (len > max) return std::nullopt;
  IpPrefix prefix{*ip, len};
  // Host bits must be zero.
  for (int bit = len; bit < max; ++bit) {
    if (ip->bytes()[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return prefix;
}

bool IpPrefix::Contains(const IpAddress& ip) const {
  if (ip.family() != address.family()) return false;
  int full = length / 8;
  if (std::memcmp(ip.bytes(), address.bytes(), full) != 0) return false;
  int rest = length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes()[full] & mask) == (address.bytes()[full] & mask);
}

std::string IpPrefix::ToString() const { return address.ToString() + "/" + std::to_string(length); }

}  // namespace clusterdns::records
