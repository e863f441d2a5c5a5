// AnswerCache: upstream answers for names outside every served zone, kept in the form respond()
// copies (a body after the question, like an AnswerTable entry), so that a worker answers a
// popular external name itself instead of handing it to the slow path (issue 5, "Cache on the
// fast path"). respond() consults it only after the cluster table has no zone for the name, so
// cluster names never come from it, and the cluster table has no negative cache of its own.
//
// What is stored (Offer): an answer to a QUERY with one question of class IN, not truncated,
// rcode NOERROR or NXDOMAIN, without the DO bit or CD flag (those clients get the upstream's own
// answer, signatures included, every time), whose names all decode, with at most one OPT and that
// OPT last (the body is the answer's bytes between the question and the OPT, so its compression
// pointers stay valid behind any question of the same length: the client's, in its own case).
//   - positive (answer records): lives for the smallest TTL of its records, at most max_ttl;
//   - negative (NXDOMAIN, or NOERROR without answer records): RFC 2308 5, lives for
//     min(SOA TTL, SOA MINIMUM) of the SOA in the authority section, at most max_negative_ttl;
//     without an SOA it is not stored.
// Every TTL in the body is lowered to its entry's lifetime when stored; respond() subtracts the
// whole seconds since then, so TTLs count down and never outlive the entry.
//
// Readers (workers, listener threads; lock-free, no allocation, no shared writes but one):
//   const CachedAnswer* a = cache.Find(hash, folded_key, key_len, qtype, now);
//   the single shared write: a hit sets the entry's CLOCK bit when it is clear, so a hot entry
//   costs one store per sweep of the eviction hand, not one per query.
// Writer (one thread, the forwarder's): Offer, Reclaim, Clear. Entries are immutable once
// published; a replaced or evicted entry is unlinked at once and freed by Reclaim after a grace
// period of `grace` (the same readers as the answer table: rte_rcu_qsbr workers, epoch threads).
// Bounds: at most max_entries entries and max_bytes bytes (entries' allocations); beyond them the
// CLOCK hand evicts expired entries first, then entries not hit since its last pass; a new entry
// starts unreferenced, so names asked once go before names asked again (scan resistance).
//
// Stats (any thread, relaxed): entries(), bytes(), stats().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "records/answer_table.h"
#include "records/table_publisher.h"

namespace clusterdns::records {

struct AnswerCacheOptions {
  size_t max_entries = 10000;     // 0: a cache that stores nothing
  size_t max_bytes = 32u << 20;   // the entries' allocations, headers and padding included
  uint32_t max_ttl = 3600;        // positive answers (CoreDNS's cache plugin default)
  uint32_t max_negative_ttl = 1800;  // NXDOMAIN / NODATA (CoreDNS's default denial cap)
};

// Why Offer did not store an answer (the forwarder still relays it as it is).
enum class CacheSkip : uint8_t {
  kNone = 0,
  kMalformed,     // does not decode, or the question is not one IN query
  kUncacheable,   // TC, DO, CD, opcode, rcode other than NOERROR/NXDOMAIN, qtype ANY or meta
  kNoSoa,         // a negative answer without an SOA to time it (RFC 2308 5)
  kZeroTtl,       // a TTL of 0
  kOptNotLast,    // records after the OPT
  kTooBig,        // larger than max_bytes by itself
  kDisabled,      // max_entries is 0
  kCount,
};
const char* CacheSkipName(CacheSkip skip);

// kBucketFull: the oldest answer of a bucket that already held kMaxChain (AnswerCache), so that
// names made to share a bucket (the name hash is not keyed: a client can search for such names
// and make the upstream answer them) cannot lengthen every lookup of that bucket.
enum class CacheEviction : uint8_t { kCapacity, kExpired, kReplaced, kBucketFull, kCount };
const char* CacheEvictionName(CacheEviction eviction);

// One stored answer: this header, then the folded name (zero-padded by 8), the offsets of the
// TTL fields in the body (uint16_t each), and the body (padded by 32 for CopyChunks).
struct CachedAnswer {
  std::atomic<const CachedAnswer*> next{nullptr};  // the bucket's chain
  uint64_t hash = 0;                               // CacheHash(name hash, qtype)
  uint32_t expires_at = 0;  // seconds on the cache's clock: answered while now < expires_at
  uint16_t qtype = 0;
  uint16_t key_len = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;  // without the OPT
  uint16_t body_len = 0;
  uint16_t ttl_count = 0;
  uint8_t rcode = 0;
  mutable std::atomic<uint8_t> referenced{0};  // CLOCK bit: set by readers, cleared by the hand
  uint32_t clock_index = 0;                    // writer only: position in the hand's ring
  uint32_t alloc_size = 0;                     // writer only: bytes allocated

  const uint8_t* key() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  const uint8_t* ttl_offsets() const { return key() + KeyRoom(key_len); }
  const uint8_t* body() const { return ttl_offsets() + 2 * size_t{ttl_count}; }
  static size_t KeyRoom(size_t key_len) { return (key_len + 8 + 7) & ~size_t{7}; }
};

inline uint64_t CacheHash(uint64_t name_hash, uint16_t qtype) noexcept {
  return name_hash ^ (uint64_t{qtype} * 0x9E3779B97F4A7C15ull);
}

// Seconds on CLOCK_MONOTONIC_COARSE (read through the vDSO: no system call). The clock of
// expires_at and of RespondOptions::now.
uint32_t CacheNow() noexcept;

struct CacheStats {
  std::atomic<uint64_t> inserts{0};
  std::atomic<uint64_t> evictions[static_cast<size_t>(CacheEviction::kCount)]{};
  std::atomic<uint64_t> skipped[static_cast<size_t>(CacheSkip::kCount)]{};
};

class AnswerCache {
 public:
  // The most answers one bucket holds. At a load factor of at most 1, a bucket of a hash that
  // spreads its names holds 8 or more about once in 10^5 buckets.
  static constexpr size_t kMaxChain = 8;

  AnswerCache(AnswerCacheOptions options, GracePeriod* grace);
  ~AnswerCache();  // frees everything: no reader may run
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  // Reader side. `key` is the folded name, zero-padded to a multiple of 8 past key_len; `hash`
  // is HashFoldedName of it. Null when absent or expired at `now`.
  const CachedAnswer* Find(uint64_t hash, const uint8_t* key, size_t key_len, uint16_t qtype,
                           uint32_t now) const noexcept {
    const uint64_t h = CacheHash(hash, qtype);
    const CachedAnswer* e = buckets_[h & mask_].load(std::memory_order_acquire);
    for (; e != nullptr; e = e->next.load(std::memory_order_acquire)) {
      if (e->hash != h || e->qtype != qtype || e->key_len != key_len ||
          !NameEquals(e->key(), key, key_len)) {
        continue;
      }
      if (now >= e->expires_at) return nullptr;
      if (e->referenced.load(std::memory_order_relaxed) == 0) {
        e->referenced.store(1, std::memory_order_relaxed);
      }
      return e;
    }
    return nullptr;
  }
  // Writer side. Stores `answer` (a whole upstream message, already matched to its query by the
  // forwarder) if it is cacheable, replacing an entry for the same (name, qtype).
  CacheSkip Offer(std::span<const uint8_t> answer, uint32_t now);
  // Frees what was unlinked, after waiting for a grace period; nothing to wait for when nothing
  // was. Call from the writer's loop (the forwarder: at most every few milliseconds).
  void Reclaim();
  // Drops every entry (then Reclaim frees them).
  void Clear();
  bool reclaim_pending() const { return !retired_.empty(); }

  size_t entries() const { return entries_.load(std::memory_order_relaxed); }
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  const CacheStats& stats() const { return stats_; }
  const AnswerCacheOptions& options() const { return options_; }

 private:
  void Unlink(CachedAnswer* e, CacheEviction why);
  bool EvictOne(uint32_t now, const CachedAnswer* keep);

  AnswerCacheOptions options_;
  GracePeriod* grace_;
  uint64_t mask_;
  std::unique_ptr<std::atomic<const CachedAnswer*>[]> buckets_;
  // Writer only.
  std::vector<CachedAnswer*> ring_;  // every linked entry; the CLOCK hand walks it
  size_t hand_ = 0;
  std::vector<CachedAnswer*> retired_;
  std::atomic<size_t> entries_{0};
  std::atomic<size_t> bytes_{0};
  CacheStats stats_;
};

}  // namespace clusterdns::records
