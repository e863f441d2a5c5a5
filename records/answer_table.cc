// AnswerTable construction: derives the hot-path ShardRef array from the shared shards.
#include "records/answer_table.h"

#include <algorithm>

namespace clusterdns::records {

AnswerTable::AnswerTable(int shard_bits, std::vector<std::shared_ptr<const Shard>> shards,
                         std::vector<ZoneAnswerInfo> zones, uint64_t generation)
    : shard_bits_(shard_bits),
      shard_shift_(64 - shard_bits),
      shards_(std::move(shards)),
      zones_(std::move(zones)),
      generation_(generation) {
  for (size_t i = 0; i < zones_.size(); ++i) zone_search_order_.push_back(static_cast<uint8_t>(i));
  std::stable_sort(zone_search_order_.begin(), zone_search_order_.end(), [this](uint8_t a, uint8_t b) {
    return zones_[a].apex_len > zones_[b].apex_len;
  });
  refs_.reserve(shards_.size());
  for (const auto& shard : shards_) {
    refs_.push_back(shard->ref());
    names_ += shard->names;
    bytes_ += shard->bytes();
  }
  bytes_ += refs_.size() * sizeof(ShardRef) + shards_.size() * sizeof(Shard);
}

}  // namespace clusterdns::records
