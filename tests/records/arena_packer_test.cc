// PackArena: every entry is copied byte for byte, the bytes an answer reads of an entry lie in
// as few cache lines as they can (in the packed arena and at their real addresses in a built
// table), and small entries fill the gaps that this leaves.
#include "records/arena_packer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "records/answer_table.h"
#include "records/table_builder.h"
#include "tests/records/kube_dns_cluster.h"

namespace clusterdns::testing {
namespace {

// An entry with a stored key of `key_len` bytes and one body per element of `bodies` (its
// length); every byte after the header is drawn from `rng`, so copies can be told apart.
std::string MakeEntry(size_t key_len, const std::vector<uint16_t>& bodies, std::mt19937& rng) {
  std::string e;
  records::EntryHeader header{static_cast<uint8_t>(key_len), static_cast<uint8_t>(bodies.size()),
                              0, 0};
  e.append(reinterpret_cast<const char*>(&header), sizeof(header));
  for (size_t i = 0; i < key_len; ++i) e.push_back(static_cast<char>(rng()));
  size_t total = 0;
  for (uint16_t len : bodies) {
    records::TypeEntry t{1, len, 1, 0};
    e.append(reinterpret_cast<const char*>(&t), sizeof(t));
    total += len;
  }
  for (size_t i = 0; i < total; ++i) e.push_back(static_cast<char>(rng()));
  return e;
}

size_t LinesTouched(uintptr_t start, size_t len) {
  return (start + len - 1) / records::kCacheLine - start / records::kCacheLine + 1;
}
size_t FewestLines(size_t len) { return (len + records::kCacheLine - 1) / records::kCacheLine; }

struct Arena {
  std::string bytes;
  std::vector<uint32_t> offsets;
  size_t entry_bytes = 0;
};

// Entries shaped like a cluster's: Service names (hot bytes 40-64 and a second body), headless
// ones (hot bytes over a line), and small aliases and empty names, with bytes that no offset
// names (superseded renderings) between some of them.
Arena ClusterShapedArena(size_t n, std::mt19937& rng) {
  Arena a;
  a.bytes.assign(4, '\0');
  for (size_t i = 0; i < n; ++i) {
    std::string e;
    switch (i % 4) {
      case 0:
        e = MakeEntry(12 + rng() % 12, {16, static_cast<uint16_t>(20 + rng() % 30)}, rng);
        break;
      case 1:
        e = MakeEntry(20 + rng() % 10, {static_cast<uint16_t>(16 * (3 + rng() % 6))}, rng);
        break;
      case 2:
        e = MakeEntry(8 + rng() % 20, {}, rng);
        break;
      default:
        e = MakeEntry(4 + rng() % 8, {static_cast<uint16_t>(20 + rng() % 24)}, rng);
        break;
    }
    if (i % 7 == 3) a.bytes.append(1 + rng() % 50, '\x5a');  // not an entry
    a.offsets.push_back(static_cast<uint32_t>(a.bytes.size()));
    a.bytes += e;
    a.entry_bytes += e.size();
  }
  std::shuffle(a.offsets.begin(), a.offsets.end(), rng);  // slot order, not arena order
  return a;
}

TEST(ArenaPacker, CopiesEveryEntryWholeAndWithoutOverlap) {
  std::mt19937 rng(7);
  const Arena a = ClusterShapedArena(2000, rng);
  std::vector<uint32_t> moved;
  const std::string out = records::PackArena(a.bytes, a.offsets, 4, &moved);
  ASSERT_EQ(moved.size(), a.offsets.size());
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // new offset, size
  for (size_t i = 0; i < a.offsets.size(); ++i) {
    const auto* old_entry = reinterpret_cast<const uint8_t*>(a.bytes.data()) + a.offsets[i];
    const size_t size = records::EntrySize(old_entry);
    ASSERT_GE(moved[i], 4u) << i;  // offset 0 would read as an empty slot
    ASSERT_LE(moved[i] + size, out.size()) << i;
    EXPECT_EQ(out.compare(moved[i], size, a.bytes, a.offsets[i], size), 0) << i;
    spans.emplace_back(moved[i], static_cast<uint32_t>(size));
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_LE(spans[i - 1].first + spans[i - 1].second, spans[i].first) << i;
  }
  // The bytes no offset named are gone.
  EXPECT_LT(out.size(), a.bytes.size());
}

TEST(ArenaPacker, HotBytesLieInAsFewLinesAsTheyCan) {
  std::mt19937 rng(11);
  const Arena a = ClusterShapedArena(4000, rng);
  std::vector<uint32_t> moved;
  const std::string out = records::PackArena(a.bytes, a.offsets, 4, &moved);
  size_t over_a_line = 0;
  for (size_t i = 0; i < moved.size(); ++i) {
    const size_t hot =
        records::EntryHotBytes(reinterpret_cast<const uint8_t*>(out.data()) + moved[i]);
    over_a_line += hot > records::kCacheLine;
    EXPECT_EQ(LinesTouched(moved[i], hot), FewestLines(hot)) << i << " hot " << hot;
  }
  EXPECT_GT(over_a_line, 0u);  // the case of more than one line is exercised
}

// The gaps before line boundaries take the small entries: the packed arena is hardly larger
// than its entries. Without fillers, the same large entries leave far more padding.
TEST(ArenaPacker, SmallEntriesFillTheGaps) {
  std::mt19937 rng(13);
  const Arena mixed = ClusterShapedArena(4000, rng);
  std::vector<uint32_t> moved;
  const size_t packed = records::PackArena(mixed.bytes, mixed.offsets, 4, &moved).size();
  EXPECT_LT(packed, mixed.entry_bytes + mixed.entry_bytes / 25 + 64)
      << "entries " << mixed.entry_bytes << " packed " << packed;

  Arena large;
  large.bytes.assign(4, '\0');
  for (int i = 0; i < 1000; ++i) {
    large.offsets.push_back(static_cast<uint32_t>(large.bytes.size()));
    const std::string e = MakeEntry(20, {16, 40}, rng);  // hot 56: 8 bytes of slack
    large.bytes += e;
    large.entry_bytes += e.size();
  }
  const size_t padded = records::PackArena(large.bytes, large.offsets, 4, &moved).size();
  EXPECT_GT(padded, large.entry_bytes + large.entry_bytes / 10);
}

// In a built table, at the entries' real addresses: the shard blocks start on a line, so the
// packing's lines are the machine's, and each slot says how many lines past the entry's first
// its hot bytes reach (what RespondBurst prefetches). Headless Services with up to 16 endpoints
// give entries of one to four lines.
TEST(ArenaPacker, BuiltTableEntriesSitInTheFewestLinesTheirSlotsName) {
  auto builder = std::move(*records::TableBuilder::Create(KubeDnsConfig(), 4));
  for (int i = 0; i < 3000; ++i) {
    uint8_t b[4] = {10, 254, static_cast<uint8_t>(100 + i / 250), static_cast<uint8_t>(i % 250)};
    builder->UpsertService(ClusterIpService("ns", ("svc-" + std::to_string(i)).c_str(),
                                            {records::IpAddress::V4(b)},
                                            {{"http", records::Protocol::kTcp, 80}}));
  }
  for (int i = 1; i <= 16; ++i) {
    records::Service headless;
    headless.ns = "ns";
    headless.name = "headless-" + std::to_string(i);
    headless.headless = true;
    headless.ports = {{"http", records::Protocol::kTcp, 80}};
    builder->UpsertService(headless);
    records::EndpointSlice slice;
    slice.ns = "ns";
    slice.name = headless.name + "-abcde";
    slice.service_name = headless.name;
    for (int e = 0; e < i; ++e) {
      records::Endpoint endpoint;
      uint8_t b[4] = {10, 244, static_cast<uint8_t>(i), static_cast<uint8_t>(e + 1)};
      endpoint.addresses = {records::IpAddress::V4(b)};
      endpoint.ready = true;
      slice.endpoints.push_back(endpoint);
    }
    slice.ports = {{"http", records::Protocol::kTcp, 80}};
    builder->UpsertSlice(slice);
  }
  const auto table = builder->Build();
  size_t entries = 0;
  size_t badly_placed = 0;
  size_t wrong_hint = 0;
  std::vector<size_t> by_more_lines(records::AnswerTable::kMaxMoreLines + 1, 0);
  for (size_t s = 0; s < table->shard_count(); ++s) {
    const records::ShardRef ref = table->shard_ref(s);
    for (size_t i = 0; i <= ref.mask(); ++i) {
      const uint64_t slot = ref.slots()[i];
      if (slot == 0) continue;
      const uint8_t* entry = ref.arena() + records::AnswerTable::SlotOffset(slot);
      const size_t hot = records::EntryHotBytes(entry);
      const size_t lines = LinesTouched(reinterpret_cast<uintptr_t>(entry), hot);
      ++entries;
      badly_placed += lines != FewestLines(hot);
      const size_t more = std::min<size_t>(lines - 1, records::AnswerTable::kMaxMoreLines);
      wrong_hint += records::AnswerTable::SlotMoreLines(slot) != more;
      ++by_more_lines[more];
    }
  }
  EXPECT_GT(entries, 9000u);
  EXPECT_EQ(badly_placed, 0u);
  EXPECT_EQ(wrong_hint, 0u);
  for (size_t more = 0; more < by_more_lines.size(); ++more) {
    EXPECT_GT(by_more_lines[more], 0u) << "no entry spans " << more + 1 << " lines";
  }
}

}  // namespace
}  // namespace clusterdns::testing
