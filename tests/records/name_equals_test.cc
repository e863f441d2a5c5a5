// NameEquals (records/answer_table.h), the key compare that ends every table lookup: every byte
// below the length counts, no byte past it does, and it reads no more than kNameReadSlack bytes
// past either name (the buffers here are exactly that long, so the sanitizer build checks it).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "records/answer_table.h"

namespace clusterdns::testing {
namespace {

using records::kNameReadSlack;
using records::NameEquals;

// Lengths around the vector and word sizes, up to the longest name.
const size_t kLengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 200, 255};

std::vector<uint8_t> Name(size_t len, uint8_t seed) {
  std::vector<uint8_t> name(len + kNameReadSlack);
  for (size_t i = 0; i < len; ++i) name[i] = static_cast<uint8_t>(seed + 7 * i);
  for (size_t i = len; i < name.size(); ++i) name[i] = static_cast<uint8_t>(0xA5 ^ i);
  return name;
}

TEST(NameEquals, EqualNamesAreEqualWhateverFollowsThem) {
  for (size_t len : kLengths) {
    const std::vector<uint8_t> a = Name(len, 3);
    std::vector<uint8_t> b = Name(len, 3);
    for (size_t i = len; i < b.size(); ++i) b[i] = static_cast<uint8_t>(~a[i]);
    EXPECT_TRUE(NameEquals(a.data(), b.data(), len)) << "length " << len;
    EXPECT_TRUE(NameEquals(b.data(), a.data(), len)) << "length " << len;
  }
}

TEST(NameEquals, EveryByteBelowTheLengthCounts) {
  for (size_t len : kLengths) {
    const std::vector<uint8_t> a = Name(len, 3);
    for (size_t at = 0; at < len; ++at) {
      std::vector<uint8_t> b = a;
      b[at] ^= 0x01;
      EXPECT_FALSE(NameEquals(a.data(), b.data(), len)) << "length " << len << ", byte " << at;
      b[at] = static_cast<uint8_t>(a[at] ^ 0x80);
      EXPECT_FALSE(NameEquals(b.data(), a.data(), len)) << "length " << len << ", byte " << at;
    }
  }
}

}  // namespace
}  // namespace clusterdns::testing
