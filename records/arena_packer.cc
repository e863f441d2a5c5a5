// PackArena (arena_packer.h): a next-fit of the shard's entries in offset order, each moved to the
// next line boundary when its hot bytes would otherwise cross one, and the gap before that
// boundary filled with the largest entry of at most a line that fits in it.
#include "records/arena_packer.h"

#include <algorithm>

#include "records/answer_table.h"

namespace clusterdns::records {

size_t EntryHotBytes(const uint8_t* entry) {
  const EntryView view{entry};
  if (view.header()->ntypes == 0) return TypesOffset(view.header()->key_len);
  return view.body_offset(0) + view.type(0).body_len;
}

namespace {

struct Piece {
  uint32_t from;   // offset in the old arena
  uint32_t size;   // EntrySize
  uint32_t hot;    // EntryHotBytes
  uint32_t index;  // into offsets / new_offsets
};

// How far into a line an entry may start: its hot bytes then end in the fewest lines they can.
size_t Slack(size_t hot) {
  const size_t lines = (hot + kCacheLine - 1) / kCacheLine;
  return lines * kCacheLine - hot;
}

bool Fits(size_t at, const Piece& p) { return at % kCacheLine <= Slack(p.hot); }

}  // namespace

std::string PackArena(std::string_view from, const std::vector<uint32_t>& offsets,
                      size_t head_padding, std::vector<uint32_t>* new_offsets) {
  const auto* base = reinterpret_cast<const uint8_t*>(from.data());
  std::vector<Piece> pieces;
  pieces.reserve(offsets.size());
  size_t total = head_padding;
  for (uint32_t i = 0; i < offsets.size(); ++i) {
    const uint8_t* entry = base + offsets[i];
    const auto size = static_cast<uint32_t>(EntrySize(entry));
    pieces.push_back(Piece{offsets[i], size, static_cast<uint32_t>(EntryHotBytes(entry)), i});
    total += size;
  }
  // Offset order: the same input gives the same arena.
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& a, const Piece& b) { return a.from < b.from; });

  // Entries of at most a line are the fillers, by size; the rest are placed in order.
  std::vector<std::vector<Piece>> fillers(kCacheLine + 1);
  std::vector<Piece> in_order;
  for (const Piece& p : pieces) {
    if (p.size <= kCacheLine) {
      fillers[p.size].push_back(p);
    } else {
      in_order.push_back(p);
    }
  }

  std::string out;
  out.reserve(total + total / 8);
  out.assign(head_padding, '\0');
  new_offsets->assign(offsets.size(), 0);
  auto place = [&](const Piece& p) {
    (*new_offsets)[p.index] = static_cast<uint32_t>(out.size());
    out.append(from.substr(p.from, p.size));
  };
  // Fills the bytes up to the next line boundary: entries that fit, then zeros.
  auto fill_to_line = [&] {
    while (out.size() % kCacheLine != 0) {
      const size_t gap = kCacheLine - out.size() % kCacheLine;
      size_t size = gap;
      while (size > 0 && fillers[size].empty()) --size;
      if (size == 0) {
        out.append(gap, '\0');
        return;
      }
      place(fillers[size].back());
      fillers[size].pop_back();
    }
  };
  auto place_fitted = [&](const Piece& p) {
    if (!Fits(out.size(), p)) fill_to_line();
    place(p);
  };
  for (const Piece& p : in_order) place_fitted(p);
  // The fillers no gap took, largest first (each still kept within a line).
  for (size_t size = kCacheLine; size > 0; --size) {
    while (!fillers[size].empty()) {
      const Piece p = fillers[size].back();
      fillers[size].pop_back();
      place_fitted(p);
    }
  }
  return out;
}

}  // namespace clusterdns::records
