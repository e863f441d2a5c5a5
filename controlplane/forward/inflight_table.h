// The forwarder's map from (upstream, query ID) to the query a UDP try belongs to, and the source
// of those IDs.
//
// IDs are random, not sequential (an off-path attacker must guess 16 bits, on top of the source
// port), drawn from getrandom(2) — the kernel CSPRNG — through a small buffer, and unique among
// the tries in flight to one upstream: a draw that collides is drawn again, at most
// kMaxIdDraws times (then the try fails: with the in-flight cap far below 65536 that means the
// random source is broken, or a test made it so).
//
//   InflightTable table;                        // or InflightTable(test_id_source)
//   std::optional<uint16_t> id = table.Add(upstream, query_serial);
//   ... answer arrives from `upstream` with ID x:
//   std::optional<uint64_t> serial = table.Find(upstream, x);
//   table.Remove(upstream, *id);                // when the query finishes
//
// Not thread-safe: the forwarder thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "absl/container/flat_hash_map.h"

namespace clusterdns::controlplane {

// Draws before Add gives up on finding a free ID.
inline constexpr int kMaxIdDraws = 64;

// 16-bit IDs from getrandom(2), 256 at a time (one syscall per 256 tries).
class RandomIdSource {
 public:
  uint16_t Next();
  // True if getrandom works here (checked once by Forwarder::Start).
  static bool Available();

 private:
  uint16_t buffer_[256];
  size_t next_ = sizeof(buffer_) / sizeof(buffer_[0]);  // empty: refill on first use
};

class InflightTable {
 public:
  using IdSource = std::function<uint16_t()>;

  InflightTable();
  // Tests: a deterministic source (to force collisions).
  explicit InflightTable(IdSource source);

  // A fresh ID for a try to `upstream`, registered for `query_serial`; nullopt when kMaxIdDraws
  // draws all collided.
  std::optional<uint16_t> Add(uint32_t upstream, uint64_t query_serial);
  // A random ID registered nowhere (a TCP try: its connection is its own).
  uint16_t NextId() { return source_(); }
  std::optional<uint64_t> Find(uint32_t upstream, uint16_t id) const;
  void Remove(uint32_t upstream, uint16_t id);
  size_t size() const { return map_.size(); }

 private:
  static uint64_t Key(uint32_t upstream, uint16_t id) { return uint64_t{upstream} << 16 | id; }

  IdSource source_;
  absl::flat_hash_map<uint64_t, uint64_t> map_;
};

}  // namespace clusterdns::controlplane
