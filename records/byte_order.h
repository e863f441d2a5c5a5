// Big-endian (network order) reads and writes of 16- and 32-bit wire fields. Values in host
// order on one side, bytes on the wire on the other: no arithmetic on network-order values.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace clusterdns::records {

inline uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t LoadBe32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
static_assert(std::endian::native == std::endian::little ||
              std::endian::native == std::endian::big);
// One store each (movbe where the CPU has it); GCC does not merge the byte stores of a 32-bit
// value whose bytes are computed separately.
inline void StoreBe32(uint8_t* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
// Four 16-bit fields at once: the answer's flags and counts.
inline void StoreBe64(uint8_t* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// Appending to and patching a message being built in a std::string (control plane).
inline void PutBe16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
inline void PutBe32(std::string* out, uint32_t v) {
  PutBe16(out, static_cast<uint16_t>(v >> 16));
  PutBe16(out, static_cast<uint16_t>(v & 0xffff));
}
inline void SetBe16(std::string* out, size_t pos, uint16_t v) {
  (*out)[pos] = static_cast<char>(v >> 8);
  (*out)[pos + 1] = static_cast<char>(v & 0xff);
}

}  // namespace clusterdns::records
