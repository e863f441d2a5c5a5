// libFuzzer target: ReadName and SkipName on arbitrary messages, at offset 12 (the question) and at
// every other offset (the input is the whole message, so the pointer rules see real offsets).
// For every offset:
//   - ReadName and SkipName give the same error, and on success the same next offset, which lies
//     after `offset` and inside the message;
//   - ReadName's output is a valid uncompressed wire name: labels of 1..63 bytes ending in the
//     root label exactly at out_len, at most 255 bytes, never a pointer;
//   - a name read without following a pointer is the message's own bytes;
// and every name read, folded and written again with NameCompressor into a fresh message, reads
// back as the same folded name. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "records/dns_constants.h"
#include "records/name_compressor.h"
#include "records/wire_name.h"

namespace {

using clusterdns::records::NameError;
namespace records = clusterdns::records;

// More offsets than this in one input add time, not coverage.
constexpr size_t kMaxOffsets = 600;
// Names written back per input: enough for pointers between them.
constexpr size_t kMaxRewritten = 16;

void Check(bool ok, const char* what, size_t offset) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_name_reader: %s (offset %zu)\n", what, offset);
  std::abort();
}

void CheckUncompressedName(const uint8_t* name, size_t len, size_t offset) {
  Check(len >= 1 && len <= records::kMaxNameWireLength, "name length out of range", offset);
  size_t pos = 0;
  while (true) {
    Check(pos < len, "name has no root label", offset);
    const uint8_t l = name[pos];
    Check(l <= records::kMaxLabelLength, "label length byte above 63 in output", offset);
    if (l == 0) break;
    pos += 1 + l;
  }
  Check(pos + 1 == len, "bytes after the root label", offset);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  records::NameCompressor compressor;
  std::string rewritten(records::kHeaderSize, '\0');
  std::vector<std::pair<size_t, std::string>> written;  // (offset in `rewritten`, folded name)

  const size_t offsets = size + 1 < kMaxOffsets ? size + 1 : kMaxOffsets;
  for (size_t i = 0; i <= offsets; ++i) {
    // Offset 12 first, then 0, 1, 2, ... (and one past the end, which must be kTruncated).
    const size_t offset = i == 0 ? records::kHeaderSize : i - 1;
    uint8_t out[records::kMaxNameWireLength];
    size_t out_len = 0;
    size_t next = 0;
    const NameError read = records::ReadName(data, size, offset, out, &out_len, &next);
    size_t skip_next = 0;
    const NameError skip = records::SkipName(data, size, offset, &skip_next);
    Check(read == skip, "ReadName and SkipName disagree on the error", offset);
    if (offset >= size) Check(read == NameError::kTruncated, "read at the end succeeded", offset);
    if (read != NameError::kOk) continue;
    Check(next == skip_next, "ReadName and SkipName disagree on next_offset", offset);
    Check(next > offset && next <= size, "next_offset outside the message", offset);
    CheckUncompressedName(out, out_len, offset);
    // A compressed name never takes as many bytes on the wire as it reads out (the pointer's 2
    // bytes stand for a name of 1 or at least 3), so equal lengths mean no pointer was followed.
    if (next - offset == out_len) {
      Check(std::memcmp(out, data + offset, out_len) == 0, "uncompressed name not copied", offset);
    } else {
      Check(next - offset >= 2 && (data[next - 2] & 0xC0) == 0xC0,
            "name differs from the wire without a pointer", offset);
    }

    if (written.size() < kMaxRewritten) {
      std::string folded(reinterpret_cast<const char*>(out), out_len);
      records::FoldName(reinterpret_cast<uint8_t*>(folded.data()), folded.size());
      const size_t at = rewritten.size();
      compressor.Write(folded, &rewritten);
      written.emplace_back(at, std::move(folded));
    }
  }

  // Everything the compressor wrote reads back as what it was given.
  for (const auto& [at, folded] : written) {
    uint8_t out[records::kMaxNameWireLength];
    size_t out_len = 0;
    size_t next = 0;
    const NameError e = records::ReadName(reinterpret_cast<const uint8_t*>(rewritten.data()),
                                          rewritten.size(), at, out, &out_len, &next);
    Check(e == NameError::kOk, "compressed name does not read back", at);
    Check(out_len == folded.size() && std::memcmp(out, folded.data(), out_len) == 0,
          "compressed name reads back differently", at);
  }
  return 0;
}
