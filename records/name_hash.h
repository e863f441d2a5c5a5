// The hash of a folded wire name: the AnswerTable's shard, slot and tag all come from it.
// Hot path: inline, no allocation. The input must be readable (and zero) up to the next multiple
// of 8 bytes past `len`; NameKey below provides that for the control plane.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace clusterdns::records {

// Zero-padded room for any name: 255 bytes rounded up to a multiple of 8, plus one word.
inline constexpr size_t kNameKeyBufferSize = 264;

inline uint64_t HashFoldedName(const uint8_t* padded, size_t len) noexcept {
  // A multiply-xorshift mix per 8-byte word (the finalizer of splitmix64): one multiply of
  // latency per word, and every input bit reaches the top and bottom bits used for shard/slot.
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t w;
    std::memcpy(&w, padded + i, 8);
    h ^= w;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 29;
  return h;
}

// The same hash for a name that is not padded (control plane): whole words read in place, the
// last partial word through a zeroed copy.
inline uint64_t HashName(std::string_view wire) noexcept {
  const size_t len = wire.size();
  const size_t whole = len & ~size_t{7};
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);
  auto mix = [&h](uint64_t w) {
    h ^= w;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  };
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t w;
    std::memcpy(&w, wire.data() + i, 8);
    mix(w);
  }
  if (whole != len) {
    uint64_t w = 0;
    std::memcpy(&w, wire.data() + whole, len - whole);
    mix(w);
  }
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 29;
  return h;
}

// A copy of a name in a zero-padded buffer, with its hash. Control plane and tests.
struct NameKey {
  uint8_t bytes[kNameKeyBufferSize];
  size_t len;
  uint64_t hash;

  explicit NameKey(std::string_view wire) {
    len = wire.size() < 256 ? wire.size() : 255;
    std::memset(bytes, 0, sizeof(bytes));
    std::memcpy(bytes, wire.data(), len);
    hash = HashFoldedName(bytes, len);
  }
};

}  // namespace clusterdns::records
