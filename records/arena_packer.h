// PackArena: lays a shard's entries out anew so that the bytes an answer reads of its entry (the
// hot bytes: header, key, type table and the first body) do not cross a 64-byte cache line when
// they fit in one, and cross no more lines than they must when they do not. At 100k Services
// every line an answer reads is a DRAM miss (issue 2); entries packed back to back straddle a
// line boundary most of the time. The gaps this leaves before a line boundary are filled with
// smaller entries (legacy aliases, empty non-terminals, PTRs) where one fits, padded otherwise.
// Control plane only; the arena it returns starts on a line when the caller places it on one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clusterdns::records {

inline constexpr size_t kCacheLine = 64;

// Bytes at the start of `entry` that the commonest answer from it reads: through the first
// body, or through the key when it has no bodies.
size_t EntryHotBytes(const uint8_t* entry);

// Copies the entries of `from` at `offsets` (distinct) into a new arena that starts with
// `head_padding` zero bytes, and writes each entry's new offset to (*new_offsets)[i]. Bytes of
// `from` that no offset names (superseded renderings) are left out.
std::string PackArena(std::string_view from, const std::vector<uint32_t>& offsets,
                      size_t head_padding, std::vector<uint32_t>* new_offsets);

}  // namespace clusterdns::records
