// The name hash (records/name_hash.h) that places every name in the AnswerTable: the length
// counts, and cluster-shaped names (which differ in a digit or two) spread over shards, slots and
// tags as random values would.
#include "records/name_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

std::string Wire(const std::string& dotted) {
  const std::vector<uint8_t> w = EncodeName(dotted);
  return std::string(w.begin(), w.end());
}

// 200k names shaped like a cluster's: Service i in one of 50 namespaces.
std::vector<uint64_t> ClusterHashes() {
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 200000; ++i) {
    hashes.push_back(records::HashName(
        Wire("svc-" + std::to_string(i) + ".ns-" + std::to_string(i % 50) + ".svc.cluster.local")));
  }
  return hashes;
}

TEST(NameHash, TrailingZeroBytesChangeTheHash) {
  // The padded words of "a" and "a\0" are equal: only the length tells them apart.
  const std::string one("a", 1);
  const std::string two("a\0", 2);
  EXPECT_NE(records::HashName(one), records::HashName(two));
  EXPECT_NE(records::HashName(std::string()), records::HashName(std::string(8, '\0')));
}

TEST(NameHash, ClusterNamesHaveFewEqualHashes) {
  const std::vector<uint64_t> hashes = ClusterHashes();
  const std::unordered_set<uint64_t> distinct(hashes.begin(), hashes.end());
  // With 32 bits of entropy, 200k names give about 4.7 equal pairs; a hash that lost bits to
  // the names' shape would give thousands.
  EXPECT_LE(hashes.size() - distinct.size(), 40u);
}

// Counts of `hashes` in 2^bits buckets chosen by `bucket`: the fullest bucket and the number of
// empty ones, which for random values are near mean + 5 sqrt(mean) and 2^bits e^-mean.
template <typename Bucket>
void ExpectSpreadLikeRandom(const std::vector<uint64_t>& hashes, int bits, Bucket bucket,
                            const char* what) {
  std::vector<uint32_t> counts(size_t{1} << bits);
  for (uint64_t h : hashes) ++counts[bucket(h) & (counts.size() - 1)];
  const double mean = static_cast<double>(hashes.size()) / static_cast<double>(counts.size());
  const uint32_t fullest = *std::max_element(counts.begin(), counts.end());
  const size_t empty = static_cast<size_t>(std::count(counts.begin(), counts.end(), 0u));
  EXPECT_LE(fullest, mean + 6 * std::sqrt(mean) + 6) << what;
  const double expected_empty = static_cast<double>(counts.size()) * std::exp(-mean);
  EXPECT_LE(static_cast<double>(empty), expected_empty * 1.1 + 50) << what;
}

TEST(NameHash, ClusterNamesSpreadOverShardsSlotsAndTags) {
  const std::vector<uint64_t> hashes = ClusterHashes();
  // Shards: the top bits (4096 shards of ≈ 49 names).
  ExpectSpreadLikeRandom(hashes, 12, [](uint64_t h) { return h >> 52; }, "shard");
  // Home lines: the bottom bits above the three of a slot within its line (AnswerTable::HomeSlot;
  // 2^15 lines of 8 slots for 200k names, a load of 0.76).
  ExpectSpreadLikeRandom(hashes, 15, [](uint64_t h) { return h >> 3; }, "home line");
  // Tags (bits 20 to 51) of the names that share a home line must differ, or every lookup of
  // them compares keys.
  std::unordered_map<uint64_t, std::unordered_set<uint32_t>> tags_by_line;
  size_t same_tag = 0;
  for (uint64_t h : hashes) {
    if (!tags_by_line[h & 0xfff8].insert(static_cast<uint32_t>(h >> 20)).second) ++same_tag;
  }
  EXPECT_LE(same_tag, 40u);
}

}  // namespace
}  // namespace clusterdns::testing
