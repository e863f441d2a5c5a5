// Domain names on the wire (RFC 1035 3.1, 4.1.4): reading with every bounds check, folding to the
// lookup key, and converting to and from text.
//
// Forms used across clusterdns:
//   wire name   — length-prefixed labels ending in a zero byte, as in a message, uncompressed.
//   folded name — a wire name with ASCII A–Z lowered: the lookup key. Length bytes are ≤ 63, so
//                 they are never in 'A'..'Z' and folding the whole buffer is safe.
//   text name   — "redis-master.default.svc.cluster.local" (no trailing dot needed).
// Thread-safe: all functions are pure. Writing with compression: name_compressor.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace clusterdns::records {

enum class NameError : uint8_t {
  kOk = 0,
  kTruncated,        // a label or pointer runs past the end of the message
  kLabelTooLong,     // label length byte 64..191 (0x40/0x80 label types are not supported)
  kNameTooLong,      // more than 255 bytes in wire form
  kBadPointer,       // pointer not strictly backwards, or into the header
  kTooManyPointers,  // more hops than any valid name could need
};

const char* NameErrorText(NameError error);

// Reads the name at `offset` of msg[0, size), following compression pointers. On success writes
// the uncompressed wire name (case kept) to out[0, *out_len) (out must hold 255 bytes) and the
// offset just past the name's bytes at its original position to *next_offset.
// Pointers must point strictly backwards from the pointer itself and not into the 12-byte header;
// at most 127 hops (a 255-byte name has at most 127 labels).
NameError ReadName(const uint8_t* msg, size_t size, size_t offset, uint8_t* out, size_t* out_len,
                   size_t* next_offset) noexcept;

// Same checks as ReadName, without copying: how many bytes the name takes at `offset`.
NameError SkipName(const uint8_t* msg, size_t size, size_t offset, size_t* next_offset) noexcept;

// Lowers ASCII A–Z in place (the whole buffer; see the header comment for why that is safe).
inline void FoldName(uint8_t* wire, size_t len) noexcept {
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = wire[i];
    wire[i] = static_cast<uint8_t>(static_cast<uint8_t>(c - 'A') < 26 ? c | 0x20 : c);
  }
}

// "a.b.c" or "a.b.c." → folded wire name. "" and "." are the root. Errors name the problem:
// empty label, label over 63, name over 255.
absl::StatusOr<std::string> FoldedWireFromText(std::string_view text);
// Wire name → "a.b.c." (root → "."). Bytes outside printable ASCII and '.' '\\' are escaped as
// \DDD (RFC 1035 5.1). `wire` must be a valid uncompressed wire name.
std::string TextFromWire(std::string_view wire);

// The name with its first `n` labels removed (a suffix view into `wire`).
std::string_view StripLabels(std::string_view wire, int n);
// True if `name` equals `zone` or is below it (both folded wire names).
bool IsSubdomain(std::string_view name, std::string_view zone);

}  // namespace clusterdns::records
