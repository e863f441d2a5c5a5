// RespondBurst keeps what its prefetch pass found in a name's first cache line of slots and
// answers from it without probing again. These tests rebuild one shard of a real table by hand
// so that the two cases the shortcut must not trust do happen: a slot with the name's tag that
// belongs to another name, and a probe that runs past the first cache line. Each burst must give
// the bytes Respond() gives, and the name's own answer.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "records/answer_table.h"
#include "records/name_hash.h"
#include "records/respond.h"
#include "records/wire_name.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

constexpr char kName[] = "redis-master.default.svc.cluster.local";
constexpr size_t kSlots = 64;  // 8 cache lines of slots

QueryOptions EdnsOptions() {
  QueryOptions options;
  options.edns = true;
  return options;
}

struct Placed {
  uint64_t hash;
  uint32_t offset;
};

// Inserts (tag of `hash`, offset) by linear probing from the home slot (the first of its line).
void Insert(std::vector<uint64_t>& slots, uint64_t hash, uint32_t offset) {
  size_t i = records::AnswerTable::HomeSlot(hash, slots.size() - 1);
  while (slots[i] != 0) i = (i + 1) & (slots.size() - 1);
  slots[i] = records::AnswerTable::MakeSlot(records::AnswerTable::TagOf(hash), offset, 0);
}

// `table` with the shard of kName rebuilt: kSlots slots; first `fillers` slots from kName's home
// on that hold other tags, then `twin` (if set) a slot with kName's tag that points to a copy of
// kName's entry under another name and with other addresses, then the shard's real names.
std::shared_ptr<const records::AnswerTable> Rebuilt(const records::AnswerTable& table,
                                                    int fillers, bool twin) {
  const std::string wire = *records::FoldedWireFromText(kName);
  const uint64_t hash = records::HashName(wire);
  const size_t index = table.ShardIndex(hash);
  const records::ShardRef ref = table.shard_ref(index);
  const size_t old_slots = ref.mask() + 1;
  std::string arena(reinterpret_cast<const char*>(ref.arena()),
                    table.shard(index)->bytes() - old_slots * sizeof(uint64_t));

  std::vector<Placed> names;
  uint32_t own_offset = 0;
  for (size_t i = 0; i < old_slots; ++i) {
    if (ref.slots()[i] == 0) continue;
    const records::EntryView view{ref.arena() + static_cast<uint32_t>(ref.slots()[i])};
    const std::string name = records::EntryName(table, view);
    names.push_back({records::HashName(name), static_cast<uint32_t>(ref.slots()[i])});
    if (name == wire) own_offset = static_cast<uint32_t>(ref.slots()[i]);
  }
  EXPECT_NE(names.size(), 0u);

  // The twin: kName's entry with one letter of its key changed and the last byte of each body
  // (an address's last octet for an A answer) flipped, appended to the arena.
  const records::EntryView own{reinterpret_cast<const uint8_t*>(arena.data()) + own_offset};
  std::string copy(reinterpret_cast<const char*>(own.base), records::EntrySize(own.base));
  copy[sizeof(records::EntryHeader) + 1] = 'x';  // first letter of "redis-master"
  for (size_t t = 0; t < own.header()->ntypes; ++t) {
    copy[own.body_offset(t) + own.type(t).body_len - 1] ^= 0x5a;
  }
  while (arena.size() % 8 != 0) arena.push_back('\0');
  const uint32_t twin_offset = static_cast<uint32_t>(arena.size());
  arena += copy;
  arena.append(64, '\0');  // the hot path reads whole chunks past an entry

  std::vector<uint64_t> slots(kSlots, 0);
  const size_t home = records::AnswerTable::HomeSlot(hash, kSlots - 1);
  for (int f = 0; f < fillers; ++f) {
    // Tags that are not kName's, pointing at the twin (never compared: the tag differs).
    slots[(home + f) & (kSlots - 1)] =
        records::AnswerTable::MakeSlot(records::AnswerTable::TagOf(hash) ^ (0x1000u + f), twin_offset, 0);
  }
  if (twin) Insert(slots, hash, twin_offset);
  for (const Placed& p : names) Insert(slots, p.hash, p.offset);

  std::vector<std::shared_ptr<const records::Shard>> shards;
  for (size_t s = 0; s < table.shard_count(); ++s) shards.push_back(table.shard(s));
  shards[index] = records::Shard::Make(slots, arena, static_cast<uint32_t>(names.size() + 1));
  return std::make_shared<const records::AnswerTable>(table.shard_bits(), std::move(shards),
                                                      table.zones(), table.generation() + 1);
}

// Asks kName A (and a name that is not there) in one burst and compares with Respond().
void ExpectBurstMatchesRespond(const records::AnswerTable& table, const std::string& answer) {
  const std::vector<std::vector<uint8_t>> queries = {
      BuildQuery(kName, records::kTypeA), BuildQuery("nope.default.svc.cluster.local", records::kTypeA),
      BuildQuery(kName, records::kTypeA, EdnsOptions())};
  std::vector<std::vector<uint8_t>> bufs(queries.size());
  std::vector<records::RespondJob> jobs(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    bufs[i] = queries[i];
    bufs[i].resize(records::kUdpResponseRoom, 0);
    jobs[i] = records::RespondJob{bufs[i].data(), static_cast<uint16_t>(queries[i].size()),
                                  static_cast<uint16_t>(bufs[i].size()), {}};
  }
  records::RespondBurst(table, jobs.data(), jobs.size(), records::RespondOptions{});
  for (size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(i);
    const Asked single = AskBytes(table, queries[i]);
    ASSERT_EQ(jobs[i].result.verdict, records::Verdict::kReply);
    ASSERT_EQ(jobs[i].result.size, single.result.size);
    EXPECT_EQ(jobs[i].result.rcode, single.result.rcode);
    EXPECT_TRUE(std::equal(single.bytes.begin(), single.bytes.end(), bufs[i].begin()));
  }
  const Asked own = AskBytes(table, queries[0]);
  EXPECT_EQ(AnswerTexts(own.message), std::vector<std::string>{answer});
  EXPECT_EQ(AskBytes(table, queries[1]).result.rcode, records::kRcodeNxDomain);
}

class RespondBurstProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = KubeDnsBuilder()->Build();
    const Asked asked = Ask(*original_, kName, records::kTypeA);
    ASSERT_EQ(asked.message.answer.size(), 1u);
    answer_ = RecordToText(asked.message.answer[0]);
  }
  std::shared_ptr<const records::AnswerTable> original_;
  std::string answer_;  // kName's A record
};

TEST_F(RespondBurstProbe, UnchangedTable) { ExpectBurstMatchesRespond(*original_, answer_); }

TEST_F(RespondBurstProbe, SlotWithTheSameTagForAnotherNameIsNotTrusted) {
  ExpectBurstMatchesRespond(*Rebuilt(*original_, 0, /*twin=*/true), answer_);
}

TEST_F(RespondBurstProbe, ProbeThatLeavesTheFirstCacheLineIsFinished) {
  ExpectBurstMatchesRespond(*Rebuilt(*original_, 8, /*twin=*/false), answer_);
}

TEST_F(RespondBurstProbe, TwinInTheNextCacheLine) {
  ExpectBurstMatchesRespond(*Rebuilt(*original_, 8, /*twin=*/true), answer_);
}

TEST_F(RespondBurstProbe, TwinAfterFillers) {
  ExpectBurstMatchesRespond(*Rebuilt(*original_, 3, /*twin=*/true), answer_);
}

}  // namespace
}  // namespace clusterdns::testing
