// NameCompressor: writes domain names into a message being built, replacing each name's longest
// suffix already in the message with a compression pointer (RFC 1035 4.1.4). Control plane only
// (answer rendering); one object per message, reusable after Clear() without allocating again.
//
//   NameCompressor c;
//   c.Remember(qname_folded, 12);        // the question: every suffix is a pointer target
//   c.Write(target_folded, &message);    // appends labels and/or a pointer
//
// Pointers are only emitted to offsets below 0x4000, and only to label starts that were written
// literally, never to another pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"

namespace clusterdns::records {

class NameCompressor {
 public:
  void Clear() {
    buffer_.clear();
    known_.clear();
    frozen_ = false;
  }
  // Names written from now on are not pointer targets: for a message whose bytes after the
  // question are also sent behind a question of another length (respond()'s legacy aliases),
  // where a pointer into those bytes would land elsewhere.
  void Freeze() { frozen_ = true; }
  // `wire` (a folded wire name) is in the message at `offset`; its suffixes that start before
  // byte `limit` of it become pointer targets (all of them by default).
  void Remember(std::string_view wire, size_t offset, size_t limit = 256);
  // Appends `wire` (folded) to `out`, whose size is the current message offset.
  void Write(std::string_view wire, std::string* out);
  // Appends `wire` in full, never a pointer: for names that RFCs forbid to compress (an SRV
  // target, RFC 2782; RDATA of types after RFC 1035, RFC 3597 4). Later names may point to it.
  void WriteLiteral(std::string_view wire, std::string* out);

 private:
  struct Known {
    uint32_t start;   // the suffix is buffer_[start, start + len)
    uint16_t len;
    uint16_t offset;  // its message offset
  };
  std::string buffer_;  // copies of the remembered names, back to back
  absl::InlinedVector<Known, 32> known_;
  bool frozen_ = false;
};

}  // namespace clusterdns::records
