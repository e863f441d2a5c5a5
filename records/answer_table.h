// AnswerTable: the immutable table of precompiled answers that respond() reads. Built by
// TableBuilder on the control plane, published by TablePublisher, read by any number of threads
// without locks. Never modified after construction; shards are shared between successive tables
// so that a one-Service change rebuilds only the shards it touches.
//
// Layout (all of it read-only once built):
//   shard index = top `shard_bits` bits of HashFoldedName(name)
//   ShardRef    = one word per shard: the shard block's address and its slot count
//   shard block = slots (open addressing, linear probing; 0 = empty; see MakeSlot), then the
//                 arena
//   arena entry = EntryHeader, the folded name's labels above its zone's apex (the apex itself
//                 is the zone's: ZoneAnswerInfo::apex), TypeEntry[ntypes], then the bodies in
//                 the order of the type table, back to back (each starts where the last ends)
// An A answer reads 4 + key + 8 * ntypes + 16 bytes of its entry: at 100k Services every cache
// line of that is a DRAM miss, so nothing is padded and nothing is stored twice (15 bytes of
// every key in cluster.local would be the apex), and arena_packer.h places the entries so that
// those bytes do not cross a line boundary when they fit in one line.
// A body is everything after the question of a response message: answer, authority and
// additional records, whose names are compressed against the question at offset 12. Because
// respond() copies the client's question (same length as the folded key), a body is valid for
// every spelling of the name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <vector>

#include "records/name_hash.h"
#include "records/zone_config.h"

namespace clusterdns::records {

inline constexpr uint8_t kEntryFlagCname = 1;  // the CNAME body answers every qtype
inline constexpr uint8_t kEntryFlagAlias = 2;  // legacy name: answer as `alias target` (see below)

// Legacy kube2sky names (s.n.Z) are stored as alias entries: a key and no bodies. respond()
// looks the name up again with "svc" inserted before the zone (s.n.svc.Z) and answers with that
// entry's bodies, whose compression pointers only reach question suffixes that the two forms share.

struct EntryHeader {
  uint8_t key_len;  // bytes of the key stored here: the name without its zone's apex
  uint8_t ntypes;
  uint8_t zone;  // index into AnswerTable::zones()
  uint8_t flags;
};

// Stored unaligned (read with memcpy). An entry answers NOERROR with no authority records; its
// body's offset is the sum of the lengths before it.
struct TypeEntry {
  uint16_t qtype;
  uint16_t body_len;
  uint16_t ancount;
  uint16_t arcount;
};
static_assert(sizeof(TypeEntry) == 8);

// Compares a name stored in an arena with a folded key, both readable for kNameReadSlack bytes
// past `len` (their values do not matter): whole vectors or words instead of a memcmp call.
inline constexpr size_t kNameReadSlack = 31;
#if defined(__AVX2__)
inline bool NameEquals(const uint8_t* stored, const uint8_t* key, size_t len) noexcept {
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(stored + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(key + i));
    if (static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, b))) != ~uint32_t{0}) {
      return false;
    }
  }
  if (i == len) return true;
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(stored + i));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(key + i));
  const uint32_t differ = ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, b)));
  return _bzhi_u32(differ, static_cast<uint32_t>(len - i)) == 0;  // the bytes below len - i
}
#else
inline bool NameEquals(const uint8_t* stored, const uint8_t* key, size_t len) noexcept {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t a, b;
    std::memcpy(&a, stored + i, 8);
    std::memcpy(&b, key + i, 8);
    if (a != b) return false;
  }
  if (i == len) return true;
  uint64_t a, b;
  std::memcpy(&a, stored + i, 8);
  std::memcpy(&b, key + i, 8);
  const uint64_t mask = (uint64_t{1} << ((len - i) * 8)) - 1;  // little-endian: low bytes first
  return ((a ^ b) & mask) == 0;
}
#endif

inline size_t TypesOffset(size_t key_len) { return sizeof(EntryHeader) + key_len; }

// What respond() needs of a zone for a negative answer: the SOA record in the authority section,
// owner = the zone apex as a pointer into the question.
struct ZoneAnswerInfo {
  uint8_t apex[256 + kNameReadSlack];  // folded wire name; NameEquals reads past its end
  uint8_t apex_len = 0;
  uint64_t apex_tail = 0;  // the apex's last 8 bytes when it has at least 8 (a quick reject)
  ZoneKind kind = ZoneKind::kCluster;
  bool pod_records = false;
  bool legacy_names = false;
  uint32_t ttl = 0;
  std::string_view apex_name() const {
    return std::string_view(reinterpret_cast<const char*>(apex), apex_len);
  }
  uint8_t soa_body[600];  // the SOA RR, with compression pointers to patch
  uint16_t soa_body_len = 0;
  uint8_t soa_pointer_count = 0;  // pointers to the apex inside soa_body (1 to 3)
  uint16_t soa_pointer_pos[3] = {};  // where they are; unused ones repeat the first
};

// The hot-path handle of a shard: one word, so the array of them (8 bytes a shard) stays in L2.
// It packs the address of the shard's block (slots, then arena) with log2 of the slot count.
struct ShardRef {
  uint64_t packed;

  static constexpr uint64_t kAddressMask = (uint64_t{1} << 56) - 1;
  const uint64_t* slots() const noexcept {
    return reinterpret_cast<const uint64_t*>(packed & kAddressMask);
  }
  uint64_t mask() const noexcept { return (uint64_t{1} << (packed >> 56)) - 1; }
  const uint8_t* arena() const noexcept {
    return reinterpret_cast<const uint8_t*>(slots() + mask() + 1);
  }
};
static_assert(sizeof(ShardRef) == 8);

// One shard's memory: a power-of-two array of slots followed by the arena, in one block. Built by
// TableBuilder; immutable and shared by every table that did not rebuild it.
class Shard {
 public:
  // Copies `slots` (size a power of two) and `arena` into one block that starts on a cache
  // line, so that the arena does too when there is a line of slots or more (the packing of
  // arena_packer.h counts lines from the arena's start).
  static std::shared_ptr<const Shard> Make(const std::vector<uint64_t>& slots,
                                           std::string_view arena, uint32_t names);
  ShardRef ref() const;
  uint32_t names() const { return names_; }
  size_t bytes() const { return capacity_ * sizeof(uint64_t) + arena_size_; }

 private:
  struct AlignedDelete {
    void operator()(uint64_t* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<uint64_t[], AlignedDelete> block_;
  size_t capacity_ = 0;
  size_t arena_size_ = 0;
  uint32_t names_ = 0;
};

class AnswerTable {
 public:
  AnswerTable(int shard_bits, std::vector<std::shared_ptr<const Shard>> shards,
              std::vector<ZoneAnswerInfo> zones, uint64_t generation);

  // Hot path. `key` is a folded wire name, zero-padded to a multiple of 8; `hash` its
  // HashFoldedName. Returns the entry, or nullptr.
  const uint8_t* Find(uint64_t hash, const uint8_t* key, size_t key_len) const noexcept {
    return FindInShard(refs_[ShardIndex(hash)], hash, key, key_len);
  }
  // The top shard_bits bits of the hash. shard_shift_ is 64 - shard_bits, 1 to 64: shifting in
  // two steps gives 0 for one shard without a compare (a shift by 64 is undefined, and x86
  // would take it as a shift by 0).
  size_t ShardIndex(uint64_t hash) const noexcept {
    return static_cast<size_t>((hash >> 1) >> (shard_shift_ - 1));
  }
  const ShardRef& shard_ref(size_t index) const noexcept { return refs_[index]; }
  // Where the probe for `hash` starts in a shard of mask + 1 slots: the first slot of a cache
  // line (8 slots), not a slot within it. A name is stored in the first free slot from there on,
  // so a lookup reads its home line from the start, and needs the next line only when every slot
  // of its own holds another name. A probe that started within the line, as it did before, left
  // the line in 11% of the benchmark's lookups: a dependent load of the next line of slots, and
  // of an entry that nothing had prefetched.
  static size_t HomeSlot(uint64_t hash, uint64_t mask) noexcept {
    return static_cast<size_t>(hash & mask & ~uint64_t{7});
  }
  static const uint64_t* SlotFor(const ShardRef& shard, uint64_t hash) noexcept {
    return &shard.slots()[HomeSlot(hash, shard.mask())];
  }
  // A slot: 30 bits of tag (hash bits that neither the shard nor the home slot used), 2 bits of
  // how many cache lines past its first one the entry's hot bytes reach (arena_packer.h; what
  // RespondBurst prefetches), 32 bits of entry offset in the arena (never 0).
  static constexpr int kSlotTagShift = 34;
  static constexpr unsigned kMaxMoreLines = 3;
  static uint32_t TagOf(uint64_t hash) noexcept {
    return static_cast<uint32_t>(hash >> 22) & ((uint32_t{1} << 30) - 1);
  }
  static uint64_t MakeSlot(uint32_t tag, uint32_t offset, unsigned more_lines) noexcept {
    return uint64_t{tag} << kSlotTagShift | uint64_t{more_lines} << 32 | offset;
  }
  static uint32_t SlotTag(uint64_t slot) noexcept {
    return static_cast<uint32_t>(slot >> kSlotTagShift);
  }
  static unsigned SlotMoreLines(uint64_t slot) noexcept {
    return static_cast<unsigned>(slot >> 32) & kMaxMoreLines;
  }
  static uint32_t SlotOffset(uint64_t slot) noexcept { return static_cast<uint32_t>(slot); }
  // Whether `entry` is the entry of `key` (folded, zero-padded as for Find): its stored labels
  // and then its zone's apex spell the key.
  bool EntryIs(const uint8_t* entry, const uint8_t* key, size_t key_len) const noexcept {
    const ZoneAnswerInfo& zone = zones_[entry[2]];
    const size_t stored = entry[0];
    return stored + zone.apex_len == key_len &&
           NameEquals(entry + sizeof(EntryHeader), key, stored) &&
           NameEquals(zone.apex, key + stored, zone.apex_len);
  }
#if defined(__AVX2__)
  // Bit k set: slot k of the line (8 slots) holds `tag`, or, with `empty`, is empty.
  static uint32_t SlotLineMatches(const uint64_t* line, uint32_t tag, bool empty) noexcept {
    const __m256i lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(line));
    const __m256i hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(line + 4));
    const __m256i want = empty ? _mm256_setzero_si256() : _mm256_set1_epi64x(tag);
    const int shift = empty ? 0 : kSlotTagShift;
    const __m256i a = _mm256_cmpeq_epi64(_mm256_srli_epi64(lo, shift), want);
    const __m256i b = _mm256_cmpeq_epi64(_mm256_srli_epi64(hi, shift), want);
    return static_cast<uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(a))) |
           static_cast<uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(b))) << 4;
  }
#endif
  const uint8_t* FindInShard(const ShardRef& shard, uint64_t hash, const uint8_t* key,
                             size_t key_len) const noexcept {
    const uint32_t tag = TagOf(hash);
    const uint64_t* slots = shard.slots();
    const uint64_t mask = shard.mask();
    const uint8_t* arena = reinterpret_cast<const uint8_t*>(slots + mask + 1);
#if defined(__AVX2__)
    // A line at a time (probes start on a line, HomeSlot): the slots with the tag before the
    // line's first empty one, then the next line only when the line has no empty slot.
    for (size_t line = HomeSlot(hash, mask);; line = (line + 8) & mask) {
      const uint32_t empties = SlotLineMatches(slots + line, tag, /*empty=*/true);
      // The slots below the first empty one (blsmsk sets it and those below); all 8 if none.
      const uint32_t before = empties == 0 ? 0xff : _blsmsk_u32(empties) >> 1;
      for (uint32_t hits = SlotLineMatches(slots + line, tag, /*empty=*/false) & before;
           hits != 0; hits &= hits - 1) {
        const uint8_t* entry = arena + SlotOffset(slots[line + _tzcnt_u32(hits)]);
        if (EntryIs(entry, key, key_len)) return entry;
      }
      if (empties != 0) return nullptr;
    }
#else
    size_t i = HomeSlot(hash, mask);
    while (true) {
      const uint64_t slot = slots[i];
      if (slot == 0) return nullptr;
      if (SlotTag(slot) == tag) {
        const uint8_t* entry = arena + SlotOffset(slot);
        if (EntryIs(entry, key, key_len)) return entry;
      }
      i = (i + 1) & mask;
    }
#endif
  }

  size_t zone_count() const { return zones_.size(); }
  // Zones grouped by the last eight bytes of their apex, each group longest apex first; zones
  // with apexes shorter than eight bytes in `short_zones`, longest first. A name's zone is the
  // first match in the group with its own tail (then among the short zones): one compare per
  // group instead of one per zone (a /12 Service CIDR alone serves 16 reverse zones).
  struct ZoneGroup {
    uint64_t tail;
    std::vector<uint8_t> zones;
  };
  const std::vector<ZoneGroup>& zone_groups() const { return zone_groups_; }
  const std::vector<uint8_t>& short_zones() const { return short_zones_; }
  const ZoneAnswerInfo& zone(size_t i) const { return zones_[i]; }
  const std::vector<ZoneAnswerInfo>& zones() const { return zones_; }

  int shard_bits() const { return shard_bits_; }
  size_t shard_count() const { return refs_.size(); }
  const std::shared_ptr<const Shard>& shard(size_t i) const { return shards_[i]; }
  uint64_t generation() const { return generation_; }
  size_t name_count() const { return names_; }
  size_t bytes() const { return bytes_; }

 private:
  int shard_bits_;
  int shard_shift_;
  std::vector<ShardRef> refs_;
  std::vector<std::shared_ptr<const Shard>> shards_;
  std::vector<ZoneAnswerInfo> zones_;
  std::vector<ZoneGroup> zone_groups_;
  std::vector<uint8_t> short_zones_;
  uint64_t generation_;
  size_t names_ = 0;
  size_t bytes_ = 0;
};

// Decoded view of an entry, for the control plane, the zone dumper and tests.
struct EntryView {
  const uint8_t* base;
  const EntryHeader* header() const { return reinterpret_cast<const EntryHeader*>(base); }
  // The stored part of the name: its labels above the zone's apex.
  std::string_view stored_key() const {
    return std::string_view(reinterpret_cast<const char*>(base + sizeof(EntryHeader)), base[0]);
  }
  // The whole folded name, given the apex of the entry's zone (header()->zone).
  std::string key(std::string_view apex) const {
    std::string name(stored_key());
    name.append(apex);
    return name;
  }
  TypeEntry type(size_t i) const {
    TypeEntry t;
    std::memcpy(&t, base + TypesOffset(base[0]) + i * sizeof(TypeEntry), sizeof(t));
    return t;
  }
  // Where type i's body starts, from the start of the entry.
  size_t body_offset(size_t i) const {
    size_t offset = TypesOffset(base[0]) + header()->ntypes * sizeof(TypeEntry);
    for (size_t j = 0; j < i; ++j) offset += type(j).body_len;
    return offset;
  }
};

// Bytes an entry takes in its arena: header, key, type table and bodies.
inline size_t EntrySize(const uint8_t* entry) {
  const EntryView view{entry};
  return view.body_offset(view.header()->ntypes);
}

// The whole folded name of an entry of `table`.
inline std::string EntryName(const AnswerTable& table, const EntryView& e) {
  return e.key(table.zone(e.header()->zone).apex_name());
}

// Calls fn(EntryView) for every entry of every shard (control plane; order unspecified).
template <typename Fn>
void ForEachEntry(const AnswerTable& table, Fn&& fn) {
  for (size_t s = 0; s < table.shard_count(); ++s) {
    const ShardRef ref = table.shard_ref(s);
    for (size_t i = 0; i <= ref.mask(); ++i) {
      if (ref.slots()[i] != 0) fn(EntryView{ref.arena() + static_cast<uint32_t>(ref.slots()[i])});
    }
  }
}

}  // namespace clusterdns::records
