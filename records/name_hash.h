// The hash of a folded wire name: the AnswerTable's shard, slot and tag all come from it.
// Hot path: inline, no allocation. The input must be readable (and zero) up to the next multiple
// of 8 bytes past `len`; NameKey below provides that for the control plane.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

namespace clusterdns::records {

// Room for any name: 255 bytes rounded up to a multiple of 8 and zero-padded (the hash reads
// whole words), and 32 bytes to spare for the vector reads of NameEquals (answer_table.h).
inline constexpr size_t kNameKeyBufferSize = 288;

#if defined(__SSE4_2__)
// One hardware CRC32C step a word (one instruction of throughput 1, against four for a
// multiply-xorshift), then a multiply-xorshift of the 32-bit CRC and the length, so that every
// bit reaches the top (shard), middle (tag) and bottom (slot) bits. The CRC leaves 32 bits of
// entropy: names whose CRCs are equal share their slot and tag, and the key compare that every
// lookup ends with tells them apart, as it does any other collision.
inline uint64_t HashWord(uint64_t h, uint64_t w) noexcept { return _mm_crc32_u64(h, w); }
inline uint64_t HashFinish(uint64_t h, size_t len) noexcept {
  h = (h | uint64_t{len} << 32) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}
inline constexpr uint64_t kHashSeed = 0xffffffffULL;
#else
// Without SSE4.2: a multiply-xorshift mix a word (the finalizer of splitmix64).
inline uint64_t HashWord(uint64_t h, uint64_t w) noexcept {
  h ^= w;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 31);
}
inline uint64_t HashFinish(uint64_t h, size_t len) noexcept {
  h ^= len * 0xff51afd7ed558ccdULL;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 29);
}
inline constexpr uint64_t kHashSeed = 0x9e3779b97f4a7c15ULL;
#endif

// A name shorter than this many bytes hashes as if zero-padded to it: the hash of a name that
// fits takes a fixed 8 words, without a loop whose exit depends on the name (a branch
// mispredicted on every other name of a mix of lengths).
inline constexpr size_t kHashMinBytes = 64;

// `padded` holds the name, then zeros up to max(kHashMinBytes, len rounded up to 8).
inline uint64_t HashFoldedName(const uint8_t* padded, size_t len) noexcept {
  uint64_t h = kHashSeed;
  for (size_t i = 0; i < kHashMinBytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, padded + i, 8);
    h = HashWord(h, w);
  }
  for (size_t i = kHashMinBytes; i < len; i += 8) {
    uint64_t w;
    std::memcpy(&w, padded + i, 8);
    h = HashWord(h, w);
  }
  return HashFinish(h, len);
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

// The same hash for a name that is not padded (control plane).
inline uint64_t HashName(std::string_view wire) noexcept { return NameKey(wire).hash; }

}  // namespace clusterdns::records
