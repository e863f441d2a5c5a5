// Big-endian (network order) loads and stores of 16- and 32-bit wire fields, at any alignment.
// Values are host order on the C++ side and network order only in the frame: callers compute in
// host order and convert once, here (STYLE.md "Names"). Comparing raw bytes for equality
// (addresses) needs no conversion and uses the Raw* loads, whose results must never be used in
// arithmetic.
//
// Hot path: inline, noexcept, no branches; memcpy compiles to one unaligned load (x86 movbe or
// load+bswap).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace clusterdns::dataplane {

inline uint16_t HostOrder16(uint16_t memory_word) noexcept {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap16(memory_word);
  return memory_word;
}
inline uint32_t HostOrder32(uint32_t memory_word) noexcept {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(memory_word);
  return memory_word;
}

inline uint16_t LoadBe16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return HostOrder16(v);
}
inline uint32_t LoadBe32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return HostOrder32(v);
}
inline void StoreBe16(uint8_t* p, uint16_t host) noexcept {
  const uint16_t v = HostOrder16(host);  // the swap is its own inverse
  std::memcpy(p, &v, sizeof(v));
}
inline void StoreBe32(uint8_t* p, uint32_t host) noexcept {
  const uint32_t v = HostOrder32(host);
  std::memcpy(p, &v, sizeof(v));
}

// The bytes as they lie in memory, for equality tests only (address lookups).
inline uint32_t RawLoad32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline uint64_t RawLoad64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Exchanges two non-overlapping fields of N bytes (addresses, ports) in place.
template <size_t N>
inline void SwapBytes(uint8_t* a, uint8_t* b) noexcept {
  uint8_t t[N];
  std::memcpy(t, a, N);
  std::memcpy(a, b, N);
  std::memcpy(b, t, N);
}

}  // namespace clusterdns::dataplane
