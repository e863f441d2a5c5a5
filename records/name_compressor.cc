// Name compression for answer rendering. A message holds a handful of names, so a linear scan of
// the known suffixes beats any index.
#include "records/name_compressor.h"

#include <cstring>

namespace clusterdns::records {

void NameCompressor::Remember(std::string_view wire, size_t offset, size_t limit) {
  const uint32_t base = static_cast<uint32_t>(buffer_.size());
  buffer_.append(wire);
  size_t pos = 0;
  while (pos < limit && pos < wire.size() && wire[pos] != 0 && offset + pos < 0x4000) {
    known_.push_back(Known{static_cast<uint32_t>(base + pos), static_cast<uint16_t>(wire.size() - pos),
                           static_cast<uint16_t>(offset + pos)});
    pos += 1 + static_cast<uint8_t>(wire[pos]);
  }
}

void NameCompressor::Write(std::string_view wire, std::string* out) {
  const size_t start = out->size();
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    const size_t len = wire.size() - pos;
    for (const Known& k : known_) {
      if (k.len != len || std::memcmp(buffer_.data() + k.start, wire.data() + pos, len) != 0) continue;
      out->append(wire.data(), pos);
      out->push_back(static_cast<char>(0xC0 | (k.offset >> 8)));
      out->push_back(static_cast<char>(k.offset & 0xff));
      // The labels written literally are new targets; the rest is already known.
      if (pos > 0 && !frozen_) Remember(wire, start, pos);
      return;
    }
    pos += 1 + static_cast<uint8_t>(wire[pos]);
  }
  out->append(wire);
  if (!frozen_) Remember(wire, start);
}

void NameCompressor::WriteLiteral(std::string_view wire, std::string* out) {
  const size_t start = out->size();
  out->append(wire);
  if (!frozen_) Remember(wire, start);
}

}  // namespace clusterdns::records
