// AnswerTable construction: derives the hot-path ShardRef array from the shared shards.
#include "records/answer_table.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

namespace clusterdns::records {

AnswerTable::AnswerTable(int shard_bits, std::vector<std::shared_ptr<const Shard>> shards,
                         std::vector<ZoneAnswerInfo> zones, uint64_t generation)
    : shard_bits_(shard_bits),
      shard_shift_(64 - shard_bits),
      shards_(std::move(shards)),
      zones_(std::move(zones)),
      generation_(generation) {
  std::vector<uint8_t> order;
  for (size_t i = 0; i < zones_.size(); ++i) order.push_back(static_cast<uint8_t>(i));
  std::stable_sort(order.begin(), order.end(), [this](uint8_t a, uint8_t b) {
    return zones_[a].apex_len > zones_[b].apex_len;
  });
  for (uint8_t z : order) {
    if (zones_[z].apex_len < 8) {
      short_zones_.push_back(z);
      continue;
    }
    auto group = std::find_if(zone_groups_.begin(), zone_groups_.end(),
                              [&](const ZoneGroup& g) { return g.tail == zones_[z].apex_tail; });
    if (group == zone_groups_.end()) group = zone_groups_.insert(zone_groups_.end(), {zones_[z].apex_tail, {}});
    group->zones.push_back(z);
  }
  refs_.reserve(shards_.size());
  for (const auto& shard : shards_) {
    refs_.push_back(shard->ref());
    names_ += shard->names();
    bytes_ += shard->bytes();
  }
  bytes_ += refs_.size() * sizeof(ShardRef) + shards_.size() * sizeof(Shard);
}

std::shared_ptr<const Shard> Shard::Make(const std::vector<uint64_t>& slots,
                                         std::string_view arena, uint32_t names) {
  auto shard = std::make_shared<Shard>();
  shard->capacity_ = slots.size();
  shard->arena_size_ = arena.size();
  shard->names_ = names;
  const size_t words = slots.size() + (arena.size() + 7) / 8;
  shard->block_.reset(static_cast<uint64_t*>(
      ::operator new[](words * sizeof(uint64_t), std::align_val_t{64})));
  std::memcpy(shard->block_.get(), slots.data(), slots.size() * sizeof(uint64_t));
  std::memcpy(shard->block_.get() + slots.size(), arena.data(), arena.size());
  return shard;
}

ShardRef Shard::ref() const {
  const uint64_t address = reinterpret_cast<uintptr_t>(block_.get());
  // User-space addresses fit 56 bits on every x86-64 and arm64 configuration we run on; the
  // top byte carries log2 of the slot count.
  if (address & ~ShardRef::kAddressMask) std::abort();
  return ShardRef{address | (static_cast<uint64_t>(std::countr_zero(capacity_)) << 56)};
}

}  // namespace clusterdns::records
