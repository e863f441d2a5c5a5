// Rendering records into AnswerTable entries and zone negative-answer info. Control plane only.
//
// One entry per name: its folded key without the zone apex, one TypeEntry per answer type, and
// the bodies (answer + additional records) compressed against the question at offset 12.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "records/answer_table.h"
#include "records/record.h"
#include "records/zone_config.h"

namespace clusterdns::records {

enum class EntryKind : uint8_t {
  kRecords,  // has answers of its own (records non-empty)
  kEmpty,    // exists only as a parent, or as pod.<zone>: NODATA for every type
  kAlias,    // a legacy name answered as its s.n.svc.Z twin
};

// Appends the entry for `key` (folded wire) in zone `zone_index` of `zones` to `arena`, aligned to
// 4 bytes, and returns its offset. `records` are all records owned by `key` (answers and glue),
// in any order (sorted and deduplicated in place); they are ignored unless kind is kRecords.
uint32_t RenderEntry(const ServedZones& zones, std::string_view key, uint8_t zone_index,
                     EntryKind kind, std::vector<const Record*>& records, std::string* arena);

// The negative-answer info (SOA in the authority section) of every served zone.
std::vector<ZoneAnswerInfo> MakeZoneAnswerInfo(const ServedZones& zones, const ZoneConfig& config);

}  // namespace clusterdns::records
