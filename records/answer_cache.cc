// AnswerCache: checking and storing upstream answers, the CLOCK eviction, and reclamation after a
// grace period. See answer_cache.h for the rules.
#include "records/answer_cache.h"

#include <time.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/name_hash.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

inline constexpr uint16_t kTypeDname = 39;
inline constexpr uint16_t kTypeMx = 15;

// The offsets at which a label of an already checked name starts: the only places a
// compression pointer may lead (what strict decoders, ours in tests/support among them, accept).
// A pointer into the rdata of a type whose rdata holds no name would decode as garbage.
class LabelStarts {
 public:
  void Reset(size_t size) { bits_.assign((size + 63) / 64, 0); }
  void Mark(size_t at) { bits_[at >> 6] |= uint64_t{1} << (at & 63); }
  bool Marked(size_t at) const { return (bits_[at >> 6] >> (at & 63)) & 1; }

  // Checks the name at `pos` (within m[0, end)) and, with `mark`, makes its literal labels
  // pointer targets; *next is the offset after it.
  bool Name(const uint8_t* m, size_t end, size_t pos, size_t* next, bool mark = true) {
    size_t length = 1;  // the root
    bool jumped = false;
    for (int hops = 0; hops < 128; ) {
      if (pos >= end) return false;
      const uint8_t l = m[pos];
      if ((l & 0xC0) == 0xC0) {
        if (pos + 2 > end) return false;
        const size_t target = ((l & 0x3F) << 8) | m[pos + 1];
        if (target >= pos || !Marked(target)) return false;
        if (!jumped) *next = pos + 2;
        jumped = true;
        pos = target;
        ++hops;
        continue;
      }
      if (l > kMaxLabelLength) return false;
      if (l == 0) {
        if (!jumped) *next = pos + 1;
        return true;
      }
      length += 1 + l;
      if (length > kMaxNameWireLength || pos + 1 + l > end) return false;
      if (!jumped && mark) Mark(pos);
      pos += 1 + l;
    }
    return false;
  }

 private:
  std::vector<uint64_t> bits_;
};

// The rdata of the types we know is what the type says: the names inside the types RFC 1035
// lets compress (and SRV, which some servers compress anyway) decode, addresses have their size,
// character-strings fill the rdata. A client must not get a broken message from our cache.
bool RdataWellFormed(LabelStarts& starts, const uint8_t* m, uint16_t type, size_t rdata,
                     size_t rdlen) {
  const size_t end = rdata + rdlen;
  size_t next = 0;
  // Names in the rdata of MX and DNAME are checked but are no pointer targets: a client that
  // reads them as opaque (DNAME is younger than many resolvers; our strict test decoder knows
  // neither) could not follow a pointer into them.
  const bool target = type != kTypeMx && type != kTypeDname;
  auto name_at = [&](size_t at) { return at < end && starts.Name(m, end, at, &next, target); };
  // Character-strings from rdata to the end; how many.
  auto strings = [&]() {
    size_t count = 0;
    size_t at = rdata;
    while (at < end) {
      at += 1 + m[at];
      ++count;
    }
    return at == end ? count : size_t{0};
  };
  switch (type) {
    case kTypeA:
      return rdlen == 4;
    case kTypeAaaa:
      return rdlen == 16;
    case kTypeTxt:
      return strings() >= 1;
    case kTypeHinfo:
      return strings() == 2;
    case kTypeCname:
    case kTypeNs:
    case kTypePtr:
    case kTypeDname:
      return name_at(rdata) && next == end;
    case kTypeMx:
      return name_at(rdata + 2) && next == end;
    case kTypeSrv:
      return name_at(rdata + 6) && next == end;
    case kTypeSoa:
      return name_at(rdata) && name_at(next) && next + 20 == end;
    default:
      return true;
  }
}

// Stats have one writer (the cache's): a relaxed load and store, no read-modify-write.
void Bump(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

bool Uncacheable(uint16_t qtype) {
  switch (qtype) {
    case kTypeAny:
    case kTypeAxfr:
    case kTypeIxfr:
    case kTypeOpt:
    case kTypeTsig:
    case kTypeTkey:
    case kTypeMaila:
    case kTypeMailb:
      return true;
    default:
      return false;
  }
}

}  // namespace

const char* CacheSkipName(CacheSkip skip) {
  switch (skip) {
    case CacheSkip::kNone: return "none";
    case CacheSkip::kMalformed: return "malformed";
    case CacheSkip::kUncacheable: return "uncacheable";
    case CacheSkip::kNoSoa: return "no_soa";
    case CacheSkip::kZeroTtl: return "zero_ttl";
    case CacheSkip::kOptNotLast: return "opt_not_last";
    case CacheSkip::kTooBig: return "too_big";
    case CacheSkip::kDisabled: return "disabled";
    case CacheSkip::kCount: break;
  }
  return "unknown";
}

const char* CacheEvictionName(CacheEviction eviction) {
  switch (eviction) {
    case CacheEviction::kCapacity: return "capacity";
    case CacheEviction::kExpired: return "expired";
    case CacheEviction::kReplaced: return "replaced";
    case CacheEviction::kBucketFull: return "bucket_full";
    case CacheEviction::kCount: break;
  }
  return "unknown";
}

uint32_t CacheNow() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint32_t>(ts.tv_sec);
}

AnswerCache::AnswerCache(AnswerCacheOptions options, GracePeriod* grace)
    : options_(options), grace_(grace) {
  // Load factor at most 1 when full; at least 16 buckets.
  const size_t buckets = std::bit_ceil(std::max<size_t>(options_.max_entries, 16));
  mask_ = buckets - 1;
  buckets_.reset(new std::atomic<const CachedAnswer*>[buckets]);
  for (size_t i = 0; i < buckets; ++i) buckets_[i].store(nullptr, std::memory_order_relaxed);
}

AnswerCache::~AnswerCache() {
  for (CachedAnswer* e : ring_) retired_.push_back(e);
  for (CachedAnswer* e : retired_) {
    e->~CachedAnswer();
    std::free(e);
  }
}

CacheSkip AnswerCache::Offer(std::span<const uint8_t> answer, uint32_t now) {
  CacheSkip skip = CacheSkip::kNone;
  auto fail = [&](CacheSkip why) {
    Bump(stats_.skipped[static_cast<size_t>(why)]);
    return why;
  };
  if (options_.max_entries == 0) return fail(CacheSkip::kDisabled);
  const uint8_t* m = answer.data();
  const size_t len = answer.size();
  if (len < kHeaderSize) return fail(CacheSkip::kMalformed);
  const uint16_t flags = LoadBe16(m + 2);
  if (!(flags & kFlagQr) || LoadBe16(m + 4) != 1) return fail(CacheSkip::kMalformed);
  const uint8_t rcode = flags & kRcodeMask;
  if ((flags & (kOpcodeMask | kFlagTc | kFlagCd)) != 0 ||
      (rcode != kRcodeNoError && rcode != kRcodeNxDomain)) {
    return fail(CacheSkip::kUncacheable);
  }
  const uint16_t ancount = LoadBe16(m + 6);
  const uint16_t nscount = LoadBe16(m + 8);
  const uint16_t arcount = LoadBe16(m + 10);

  // The question: the key.
  thread_local LabelStarts starts;
  starts.Reset(len);
  uint8_t key[kNameKeyBufferSize] = {};
  size_t key_len = 0;
  size_t pos = 0;
  if (ReadName(m, len, kHeaderSize, key, &key_len, &pos) != NameError::kOk || pos + 4 > len ||
      pos - kHeaderSize != key_len || !starts.Name(m, len, kHeaderSize, &pos)) {
    return fail(CacheSkip::kMalformed);  // a compressed question cannot be echoed
  }
  FoldName(key, key_len);
  const uint16_t qtype = LoadBe16(m + pos);
  if (LoadBe16(m + pos + 2) != kClassIn) return fail(CacheSkip::kMalformed);
  if (Uncacheable(qtype)) return fail(CacheSkip::kUncacheable);
  const size_t question_end = pos + 4;

  // The records: TTL positions, the lifetime, the OPT.
  thread_local std::vector<uint16_t> ttl_offsets;
  ttl_offsets.clear();
  uint32_t min_ttl = UINT32_MAX;
  uint32_t soa_ttl = UINT32_MAX;  // min(SOA TTL, MINIMUM) of the authority's SOA
  size_t opt_start = 0;
  pos = question_end;
  const uint32_t total = uint32_t{ancount} + nscount + arcount;
  for (uint32_t i = 0; i < total; ++i) {
    const size_t rr_start = pos;
    size_t next = 0;
    if (!starts.Name(m, len, pos, &next) || next + 10 > len) {
      return fail(CacheSkip::kMalformed);
    }
    const uint16_t type = LoadBe16(m + next);
    const uint32_t ttl = LoadBe32(m + next + 4);
    const size_t rdata = next + 10;
    const size_t rdlen = LoadBe16(m + next + 8);
    if (rdata + rdlen > len) return fail(CacheSkip::kMalformed);
    pos = rdata + rdlen;
    if (type == kTypeOpt) {
      if (i < uint32_t{ancount} + nscount || opt_start != 0 || m[rr_start] != 0) {
        return fail(CacheSkip::kMalformed);
      }
      opt_start = rr_start;
      // Extended rcode bits, or DO (the client wanted signatures): not ours to replay.
      if (m[next + 4] != 0 || (LoadBe16(m + next + 6) & kEdnsFlagDo)) skip = CacheSkip::kUncacheable;
      continue;
    }
    if (opt_start != 0) skip = CacheSkip::kOptNotLast;
    if (type == kTypeTsig) skip = CacheSkip::kUncacheable;
    if (!RdataWellFormed(starts, m, type, rdata, rdlen)) return fail(CacheSkip::kMalformed);
    if (LoadBe16(m + next + 2) != kClassIn) skip = CacheSkip::kUncacheable;
    // RFC 2181 8: a TTL with the top bit set is 0.
    const uint32_t effective = ttl > 0x7fffffffu ? 0 : ttl;
    min_ttl = std::min(min_ttl, effective);
    if (type == kTypeSoa && i >= ancount && i < uint32_t{ancount} + nscount) {
      soa_ttl = std::min({soa_ttl, effective, LoadBe32(m + pos - 4)});
    }
    ttl_offsets.push_back(static_cast<uint16_t>(next + 4 - question_end));
  }
  if (pos != len) return fail(CacheSkip::kMalformed);
  if (skip != CacheSkip::kNone) return fail(skip);

  uint32_t life;
  if (rcode == kRcodeNxDomain || ancount == 0) {
    if (soa_ttl == UINT32_MAX) return fail(CacheSkip::kNoSoa);
    life = std::min({soa_ttl, min_ttl, options_.max_negative_ttl});
  } else {
    life = std::min(min_ttl, options_.max_ttl);
  }
  if (life == 0) return fail(CacheSkip::kZeroTtl);

  const size_t body_end = opt_start != 0 ? opt_start : len;
  const size_t body_len = body_end - question_end;
  const size_t alloc = sizeof(CachedAnswer) + CachedAnswer::KeyRoom(key_len) +
                       2 * ttl_offsets.size() + body_len + 32;
  if (alloc > options_.max_bytes) return fail(CacheSkip::kTooBig);

  void* memory = std::malloc(alloc);
  if (memory == nullptr) return fail(CacheSkip::kTooBig);
  std::memset(memory, 0, alloc);
  CachedAnswer* e = new (memory) CachedAnswer();
  e->hash = CacheHash(HashFoldedName(key, key_len), qtype);
  e->expires_at = now + life;
  e->qtype = qtype;
  e->key_len = static_cast<uint16_t>(key_len);
  e->ancount = ancount;
  e->nscount = nscount;
  e->arcount = static_cast<uint16_t>(arcount - (opt_start != 0 ? 1 : 0));
  e->body_len = static_cast<uint16_t>(body_len);
  e->ttl_count = static_cast<uint16_t>(ttl_offsets.size());
  e->rcode = rcode;
  // `referenced` stays 0: a name asked once is the first to go, unless it is asked again before
  // the hand comes by (the hand skips it in this Offer).
  e->alloc_size = static_cast<uint32_t>(alloc);
  uint8_t* base = reinterpret_cast<uint8_t*>(e + 1);
  std::memcpy(base, key, key_len);
  std::memcpy(base + CachedAnswer::KeyRoom(key_len), ttl_offsets.data(), 2 * ttl_offsets.size());
  uint8_t* body = const_cast<uint8_t*>(e->body());
  std::memcpy(body, m + question_end, body_len);
  // Every TTL becomes the entry's lifetime; respond() counts it down.
  for (uint16_t off : ttl_offsets) StoreBe32(body + off, life);

  // Link it: in place of an entry for the same question, else at the head of its bucket.
  std::atomic<const CachedAnswer*>* link = &buckets_[e->hash & mask_];
  CachedAnswer* old = nullptr;
  CachedAnswer* last = nullptr;  // the bucket's oldest answer: new ones go in at the head
  size_t chain = 0;
  for (const CachedAnswer* c = link->load(std::memory_order_relaxed); c != nullptr;
       link = &const_cast<CachedAnswer*>(c)->next, c = link->load(std::memory_order_relaxed)) {
    if (c->hash == e->hash && c->qtype == qtype && c->key_len == key_len &&
        std::memcmp(c->key(), key, key_len) == 0) {
      old = const_cast<CachedAnswer*>(c);
      break;
    }
    last = const_cast<CachedAnswer*>(c);
    ++chain;
  }
  if (old == nullptr && chain >= kMaxChain) Unlink(last, CacheEviction::kBucketFull);
  if (old != nullptr) {
    e->next.store(old->next.load(std::memory_order_relaxed), std::memory_order_relaxed);
    link->store(e, std::memory_order_release);  // readers see e whole, or old
    e->clock_index = old->clock_index;
    ring_[e->clock_index] = e;
    bytes_.store(bytes_.load(std::memory_order_relaxed) - old->alloc_size + alloc,
                 std::memory_order_relaxed);
    retired_.push_back(old);
    Bump(stats_.evictions[static_cast<size_t>(CacheEviction::kReplaced)]);
  } else {
    std::atomic<const CachedAnswer*>& head = buckets_[e->hash & mask_];
    e->next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    head.store(e, std::memory_order_release);
    e->clock_index = static_cast<uint32_t>(ring_.size());
    ring_.push_back(e);
    entries_.store(ring_.size(), std::memory_order_relaxed);
    bytes_.store(bytes_.load(std::memory_order_relaxed) + alloc, std::memory_order_relaxed);
  }
  Bump(stats_.inserts);
  // A few steps of the hand for expired entries, then whatever the bounds need.
  for (int i = 0; i < 4 && !ring_.empty(); ++i) {
    hand_ %= ring_.size();
    CachedAnswer* c = ring_[hand_];
    if (c != e && now >= c->expires_at) {
      Unlink(c, CacheEviction::kExpired);
    } else {
      ++hand_;
    }
  }
  while (ring_.size() > options_.max_entries || bytes() > options_.max_bytes) {
    if (!EvictOne(now, e)) break;
  }
  return CacheSkip::kNone;
}

bool AnswerCache::EvictOne(uint32_t now, const CachedAnswer* keep) {
  // Two passes at most: the first clears every CLOCK bit it meets.
  for (size_t step = 0; step < 2 * ring_.size() + 1 && !ring_.empty(); ++step) {
    hand_ %= ring_.size();
    CachedAnswer* c = ring_[hand_];
    if (c == keep) {
      ++hand_;
      continue;
    }
    if (now >= c->expires_at) {
      Unlink(c, CacheEviction::kExpired);
      return true;
    }
    if (c->referenced.load(std::memory_order_relaxed) != 0) {
      c->referenced.store(0, std::memory_order_relaxed);
      ++hand_;
      continue;
    }
    Unlink(c, CacheEviction::kCapacity);
    return true;
  }
  return false;
}

void AnswerCache::Unlink(CachedAnswer* e, CacheEviction why) {
  std::atomic<const CachedAnswer*>* link = &buckets_[e->hash & mask_];
  while (link->load(std::memory_order_relaxed) != e) {
    link = &const_cast<CachedAnswer*>(link->load(std::memory_order_relaxed))->next;
  }
  // Readers on e still follow e->next, which stays valid until Reclaim.
  link->store(e->next.load(std::memory_order_relaxed), std::memory_order_release);
  const uint32_t index = e->clock_index;
  ring_[index] = ring_.back();
  ring_[index]->clock_index = index;
  ring_.pop_back();
  entries_.store(ring_.size(), std::memory_order_relaxed);
  bytes_.store(bytes_.load(std::memory_order_relaxed) - e->alloc_size, std::memory_order_relaxed);
  retired_.push_back(e);
  Bump(stats_.evictions[static_cast<size_t>(why)]);
}

void AnswerCache::Reclaim() {
  if (retired_.empty()) return;
  grace_->Synchronize();
  for (CachedAnswer* e : retired_) {
    e->~CachedAnswer();
    std::free(e);
  }
  retired_.clear();
}

void AnswerCache::Clear() {
  while (!ring_.empty()) Unlink(ring_.back(), CacheEviction::kCapacity);
  hand_ = 0;
}

}  // namespace clusterdns::records
