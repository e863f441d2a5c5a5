// checksum.h against the naive word-at-a-time reference in frame_builder.h: every length and
// alignment, carries at their worst, pseudo headers, and RFC 1624 updates against full recomputes.
#include "dataplane/packet/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/dataplane/packet/frame_builder.h"

namespace clusterdns::testing {
namespace {

using dataplane::ChecksumFromSum;
using dataplane::FoldSum;
using dataplane::OnesAdd;
using dataplane::kOnesSumSlack;
using dataplane::OnesSum;
using dataplane::OnesSumWithSlack;
using dataplane::PseudoHeaderSumV4;
using dataplane::PseudoHeaderSumV6;
using dataplane::UdpChecksumFromSum;
using dataplane::UpdateChecksum;

// The naive reference folds to 0xffff for a nonzero multiple of 0xffff and to 0 only for zero;
// OnesSum must agree exactly (not just modulo 0xffff), since callers compare against 0xffff.
TEST(Checksum, OnesSumMatchesNaiveAtEveryLengthAndAlignment) {
  std::mt19937 rng(1);
  Bytes buf(2100);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len <= 2048; ++len) {
      ASSERT_EQ(OnesSum(buf.data() + offset, len), NaiveFold(NaiveSum(buf.data() + offset, len)))
          << "offset " << offset << " len " << len;
    }
  }
}

// The slack variant reads up to kOnesSumSlack bytes past the data (each buffer here ends exactly
// there, so the sanitizer build checks it) and what it finds there does not count.
TEST(Checksum, OnesSumWithSlackMatchesOnesSum) {
  std::mt19937 rng(2);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len <= 300; ++len) {
      std::vector<uint8_t> buf(offset + len + kOnesSumSlack);
      for (auto& b : buf) b = static_cast<uint8_t>(rng());
      const uint16_t want = OnesSum(buf.data() + offset, len);
      ASSERT_EQ(OnesSumWithSlack(buf.data() + offset, len), want)
          << "offset " << offset << " len " << len;
      for (size_t i = offset + len; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(~buf[i]);
      ASSERT_EQ(OnesSumWithSlack(buf.data() + offset, len), want)
          << "offset " << offset << " len " << len << ", slack bytes flipped";
    }
  }
}

TEST(Checksum, AllOnesAndAllZeros) {
  const Bytes ones(1500, 0xff);
  const Bytes zeros(1500, 0);
  for (size_t len : {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 64, 1499, 1500}) {
    EXPECT_EQ(OnesSum(ones.data(), len), NaiveFold(NaiveSum(ones.data(), len))) << len;
    EXPECT_EQ(OnesSum(zeros.data(), len), 0) << len;
  }
  EXPECT_EQ(OnesSum(ones.data(), 2), 0xffff);
  EXPECT_EQ(OnesSum(ones.data(), 1), 0xff00);  // an odd byte is the high byte of its word
}

TEST(Checksum, WorstCaseCarriesOverLongBuffers) {
  // 64 KiB of 0xff: the widest accumulators any frame can build up.
  const Bytes ones(65536 + kOnesSumSlack, 0xff);
  const size_t len = 65536;
  EXPECT_EQ(OnesSum(ones.data(), len), 0xffff);
  EXPECT_EQ(OnesSum(ones.data(), len - 1), NaiveFold(NaiveSum(ones.data(), len - 1)));
  EXPECT_EQ(OnesSumWithSlack(ones.data(), len), 0xffff);
  EXPECT_EQ(OnesSumWithSlack(ones.data(), len - 1), NaiveFold(NaiveSum(ones.data(), len - 1)));
}

TEST(Checksum, FoldAndAdd) {
  EXPECT_EQ(FoldSum(0), 0);
  EXPECT_EQ(FoldSum(0xffff), 0xffff);
  EXPECT_EQ(FoldSum(0x10000), 1);
  EXPECT_EQ(FoldSum(0x1fffe), 0xffff);
  EXPECT_EQ(FoldSum(~uint64_t{0}), 0xffff);
  EXPECT_EQ(FoldSum(0x0001000000000000ull), 1);
  EXPECT_EQ(OnesAdd(0xffff, 1), 1);
  EXPECT_EQ(OnesAdd(0x8000, 0x8000), 1);
  EXPECT_EQ(OnesAdd(0x1234, 0), 0x1234);
}

TEST(Checksum, PseudoHeadersMatchNaive) {
  std::mt19937 rng(2);
  for (int i = 0; i < 1000; ++i) {
    Ip4 s4, d4;
    Ip6 s6, d6;
    for (auto& b : s4) b = static_cast<uint8_t>(rng());
    for (auto& b : d4) b = static_cast<uint8_t>(rng());
    for (auto& b : s6) b = static_cast<uint8_t>(rng());
    for (auto& b : d6) b = static_cast<uint8_t>(rng());
    const uint16_t len = static_cast<uint16_t>(rng());
    EXPECT_EQ(PseudoHeaderSumV4(s4.data(), d4.data(), 17, len),
              NaiveFold(NaivePseudoV4(s4, d4, 17, len)));
    Bytes header(s6.begin(), s6.end());
    header.insert(header.end(), d6.begin(), d6.end());
    const uint32_t len32 = static_cast<uint32_t>(rng()) & 0x1ffff;
    EXPECT_EQ(PseudoHeaderSumV6(header.data(), len32, 58),
              NaiveFold(NaivePseudoV6(s6, d6, 58, len32)));
  }
}

TEST(Checksum, UdpZeroIsSentAsAllOnes) {
  EXPECT_EQ(UdpChecksumFromSum(0xffff), 0xffff);
  EXPECT_EQ(ChecksumFromSum(0xffff), 0);
  EXPECT_EQ(UdpChecksumFromSum(0x1234), static_cast<uint16_t>(~0x1234));
}

// A random 20-byte IPv4 header with its checksum; every 7th all ones (carries everywhere).
Bytes RandomHeader(std::mt19937& rng, int i) {
  Bytes h(20);
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  if (i % 7 == 0) std::fill(h.begin(), h.end(), 0xff);
  PutU16(h, 10, 0);
  PutU16(h, 10, NaiveChecksum(h.data(), h.size()));
  return h;
}

// RFC 1624: an IPv4 header checksum updated word by word equals the checksum computed afresh.
TEST(Checksum, IncrementalUpdateMatchesFullRecompute) {
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    Bytes h = RandomHeader(rng, i);
    const size_t word = (rng() % 10) * 2;
    if (word == 10) continue;  // the checksum itself
    const uint16_t old_word = GetU16(h, word);
    const uint16_t new_word =
        i % 5 == 0 ? static_cast<uint16_t>(~old_word) : static_cast<uint16_t>(rng());
    PutU16(h, word, new_word);
    const uint16_t updated = UpdateChecksum(GetU16(h, 10), old_word, new_word);
    PutU16(h, 10, 0);
    ASSERT_EQ(updated, NaiveChecksum(h.data(), h.size())) << "iteration " << i;
  }
}

TEST(Checksum, ThreeWordsUpdatedAtOnceMatchARecompute) {
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    Bytes h = RandomHeader(rng, i);
    dataplane::WordChange changes[3];
    for (size_t k = 0; k < 3; ++k) {  // words 0, 2 and 8, as RewriteIpv4 changes them
      const size_t word = k == 0 ? 0 : k == 1 ? 2 : 8;
      changes[k].old_word = GetU16(h, word);
      changes[k].new_word = i % 5 == 0 ? static_cast<uint16_t>(~changes[k].old_word)
                                       : static_cast<uint16_t>(rng());
      PutU16(h, word, changes[k].new_word);
    }
    const uint16_t updated = UpdateChecksum(GetU16(h, 10), changes);
    PutU16(h, 10, 0);
    ASSERT_EQ(updated, NaiveChecksum(h.data(), h.size())) << "iteration " << i;
  }
}

}  // namespace
}  // namespace clusterdns::testing
