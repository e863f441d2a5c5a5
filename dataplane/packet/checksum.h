// The Internet checksum (RFC 1071) for IPv4 headers, UDP, ICMP and ICMPv6, its incremental update
// (RFC 1624), and the IPv4/IPv6 pseudo-header sums (RFC 768, RFC 8200 8.1).
//
// Every value here is a 16-bit ones' complement sum in HOST order: the sum of the data read as
// big-endian 16-bit words. OnesSum reads 8 bytes at a time in the machine's own byte order and
// swaps the folded result once; the ones' complement sum is byte-order independent
// (RFC 1071 2(B)), so that equals summing big-endian words one by one, and callers can add host
// values (lengths, protocol numbers) to it and store the result with StoreBe16.
//
//   uint16_t sum = OnesAdd(PseudoHeaderSumV4(src, dst, kProtoUdp, udp_len), OnesSum(udp, udp_len));
//   uint16_t checksum = UdpChecksumFromSum(sum);         // with the checksum field zero
//   bool ok = OnesSum(ip_header, 20) == 0xffff;           // verification: sums to all ones
//   checksum = UpdateChecksum(checksum, old_word, new_word);  // one word changed
//
// Hot path: inline, noexcept, no allocation. Thread-compatible pure functions.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/packet/byte_order.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace clusterdns::dataplane {

// Folds a wide accumulator of 16-bit words to 16 bits with end-around carries.
inline uint16_t FoldSum(uint64_t sum) noexcept {
  sum = (sum & 0xffffffff) + (sum >> 32);  // < 2^33
  sum = (sum & 0xffffffff) + (sum >> 32);  // <= 2^32
  sum = (sum & 0xffff) + (sum >> 16);      // <= 0x1fffe
  sum = (sum & 0xffff) + (sum >> 16);      // <= 0xffff
  return static_cast<uint16_t>(sum);
}

// a + b in ones' complement arithmetic.
inline uint16_t OnesAdd(uint16_t a, uint16_t b) noexcept {
  const uint32_t s = uint32_t{a} + b;
  return static_cast<uint16_t>((s & 0xffff) + (s >> 16));
}

// A mask of the low `n` bytes of a word, n ≤ 8, without a branch.
inline uint64_t LowBytesMask(size_t n) noexcept {
  const uint64_t below = (uint64_t{1} << (8 * n & 63)) - 1;  // n = 8 gives 0 here
  return n == 8 ? ~uint64_t{0} : below;
}

// Ones' complement sum of `len` bytes as big-endian 16-bit words, host order, folded. An odd
// final byte is the high byte of a word whose low byte is zero (RFC 1071). Data at any alignment;
// only the last piece of a checksummed range may have odd length.
// The whole 16-byte blocks of data into two accumulators of 32-bit halves: each step adds
// < 2^33, so neither overflows before 2^31 steps (16 GiB), and the additions carry no
// dependency on a carry flag. Leaves data and len at the last 0-15 bytes.
inline void SumBlocks(const uint8_t*& data, size_t& len, uint64_t& a, uint64_t& b) noexcept {
  while (len >= 16) {
    const uint64_t w0 = RawLoad64(data);
    const uint64_t w1 = RawLoad64(data + 8);
    a += (w0 & 0xffffffff) + (w0 >> 32);
    b += (w1 & 0xffffffff) + (w1 >> 32);
    data += 16;
    len -= 16;
  }
}

inline uint16_t OnesSum(const uint8_t* data, size_t len) noexcept {
  uint64_t a = 0;
  uint64_t b = 0;
  SumBlocks(data, len, a, b);
  if (len >= 8) {
    const uint64_t w = RawLoad64(data);
    a += (w & 0xffffffff) + (w >> 32);
    data += 8;
    len -= 8;
  }
  if (len >= 4) {
    b += RawLoad32(data);
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, data, 2);
    a += w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    // In memory order the lone byte sits at the word's first address, zero after it.
    uint8_t last[2] = {data[0], 0};
    uint16_t w;
    std::memcpy(&w, last, 2);
    b += w;
  }
  // The sum of memory-order words is the byte-swapped sum of big-endian words (RFC 1071 2(B)).
  return HostOrder16(FoldSum(a + b));
}

// Bytes OnesSumWithSlack may read past the end of its data: a whole 32-byte piece when the
// data ends on a 32-byte step.
inline constexpr size_t kOnesSumSlack = 32;

#if defined(__AVX2__)
// 32 bytes of all ones, then 32 of zeros: the 32 bytes at kTailMask + 32 - n keep the first n
// bytes of a 32-byte load, n ≤ 32.
alignas(64) inline constexpr uint8_t kTailMask[64] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Adds the 16 memory-order 16-bit words of v to the 8 32-bit lanes of acc. A lane gains at most
// 2 * 0xffff a step: no lane overflows before 2^15 steps (1 MiB).
inline __m256i AddWords(__m256i acc, __m256i v) noexcept {
  const __m256i low = _mm256_and_si256(v, _mm256_set1_epi32(0xffff));
  return _mm256_add_epi32(acc, _mm256_add_epi32(low, _mm256_srli_epi32(v, 16)));
}
#endif

// OnesSum for data that is followed by at least kOnesSumSlack readable bytes (an mbuf's unused
// data room): the last 0-31 bytes are read as one 32-byte piece with the bytes past the end
// masked off, where OnesSum takes a branch for each of 8, 4, 2 and 1 that follows the length (two
// mispredictions a packet, in a mix of answer sizes). With AVX2, 32 bytes a step in 4
// instructions: a 100-byte DNS reply in 4 steps, where the 16-byte scalar loop takes 7 of 8.
inline uint16_t OnesSumWithSlack(const uint8_t* data, size_t len) noexcept {
  if constexpr (std::endian::native != std::endian::little) {
    return OnesSum(data, len);
  } else {
#if defined(__AVX2__)
    if (len < (size_t{1} << 20)) {
      __m256i acc = _mm256_setzero_si256();
      while (len >= 32) {
        acc = AddWords(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data)));
        data += 32;
        len -= 32;
      }
      const __m256i mask =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 32 - len));
      acc = AddWords(acc, _mm256_and_si256(
                              mask, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data))));
      // 8 lanes of < 2^32 each into 4, then two 64-bit halves: an exact sum, folded once.
      const __m128i four = _mm_add_epi64(
          _mm_and_si128(_mm256_castsi256_si128(acc), _mm_set1_epi64x(0xffffffff)),
          _mm_srli_epi64(_mm256_castsi256_si128(acc), 32));
      const __m128i high = _mm256_extracti128_si256(acc, 1);
      const __m128i all = _mm_add_epi64(
          four, _mm_add_epi64(_mm_and_si128(high, _mm_set1_epi64x(0xffffffff)),
                              _mm_srli_epi64(high, 32)));
      const uint64_t total =
          static_cast<uint64_t>(_mm_cvtsi128_si64(all)) +
          static_cast<uint64_t>(_mm_extract_epi64(all, 1));
      return HostOrder16(FoldSum(total));
    }
#endif
    uint64_t a = 0;
    uint64_t b = 0;
    SumBlocks(data, len, a, b);
    // The last 0-15 bytes: the first `len` bytes in memory are the low bytes of a little-endian
    // word.
    const size_t low_bytes = len < 8 ? len : 8;
    const size_t high_bytes = len - low_bytes;
    const uint64_t w0 = RawLoad64(data) & LowBytesMask(low_bytes);
    const uint64_t w1 = RawLoad64(data + 8) & LowBytesMask(high_bytes);
    a += (w0 & 0xffffffff) + (w0 >> 32);
    b += (w1 & 0xffffffff) + (w1 >> 32);
    return HostOrder16(FoldSum(a + b));
  }
}

// OnesSum of `len` bytes at `data`, of which `readable` bytes may be read (at least `len`):
// OnesSumWithSlack when the slack is there.
inline uint16_t OnesSumOf(const uint8_t* data, size_t len, size_t readable) noexcept {
  return readable >= len + kOnesSumSlack ? OnesSumWithSlack(data, len) : OnesSum(data, len);
}

// Sum of the IPv4 pseudo header (RFC 768): source, destination, zero+protocol, L4 length.
// `src` and `dst` point at the 4 address bytes in the frame.
inline uint16_t PseudoHeaderSumV4(const uint8_t* src, const uint8_t* dst, uint8_t protocol,
                                  uint16_t l4_len) noexcept {
  const uint64_t sum = uint64_t{LoadBe16(src)} + LoadBe16(src + 2) + LoadBe16(dst) +
                       LoadBe16(dst + 2) + protocol + l4_len;
  return FoldSum(sum);
}

// Sum of the IPv6 pseudo header (RFC 8200 8.1): source, destination, 32-bit upper-layer length,
// zero+next header. `addresses` points at the source address, which the destination follows in
// the IPv6 header (32 contiguous bytes).
inline uint16_t PseudoHeaderSumV6(const uint8_t* addresses, uint32_t l4_len,
                                  uint8_t next_header) noexcept {
  const uint64_t sum =
      uint64_t{OnesSum(addresses, 32)} + (l4_len >> 16) + (l4_len & 0xffff) + next_header;
  return FoldSum(sum);
}

// The checksum field value for data whose ones' complement sum (checksum field taken as zero)
// is `sum`.
inline uint16_t ChecksumFromSum(uint16_t sum) noexcept { return static_cast<uint16_t>(~sum); }

// UDP: a computed checksum of zero is sent as all ones, because zero on the wire means "no
// checksum" (RFC 768).
inline uint16_t UdpChecksumFromSum(uint16_t sum) noexcept {
  const uint16_t c = ChecksumFromSum(sum);
  return c == 0 ? 0xffff : c;
}

// RFC 1624 equation 3: the checksum after one 16-bit word of the covered data changed from
// `old_word` to `new_word` (host order): HC' = ~(~HC + ~m + m').
inline uint16_t UpdateChecksum(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept {
  const uint64_t sum =
      uint64_t{static_cast<uint16_t>(~checksum)} + static_cast<uint16_t>(~old_word) + new_word;
  return static_cast<uint16_t>(~FoldSum(sum));
}

// The same for several words changed at once, with one fold: HC' = ~(~HC + Σ (~m + m')).
struct WordChange {
  uint16_t old_word;
  uint16_t new_word;
};
template <size_t N>
inline uint16_t UpdateChecksum(uint16_t checksum, const WordChange (&changes)[N]) noexcept {
  uint64_t sum = static_cast<uint16_t>(~checksum);
  for (const WordChange& c : changes) {
    sum += uint64_t{static_cast<uint16_t>(~c.old_word)} + c.new_word;
  }
  return static_cast<uint16_t>(~FoldSum(sum));
}

}  // namespace clusterdns::dataplane
