// Wire-name reading, text conversion and compression. ReadName is on the path of every query's
// additional section and of the test decoders; the question name itself is parsed by respond.cc
// with a fused fold+hash loop.
#include "records/wire_name.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "records/dns_constants.h"

namespace clusterdns::records {

const char* NameErrorText(NameError error) {
  switch (error) {
    case NameError::kOk:
      return "ok";
    case NameError::kTruncated:
      return "name runs past the end of the message";
    case NameError::kLabelTooLong:
      return "label longer than 63 bytes";
    case NameError::kNameTooLong:
      return "name longer than 255 bytes";
    case NameError::kBadPointer:
      return "compression pointer not strictly backwards";
    case NameError::kTooManyPointers:
      return "too many compression pointers";
  }
  return "unknown";
}

namespace {

// A 255-byte name has at most 127 labels; a pointer hop must land on a label, so more hops than
// that means a loop or garbage.
constexpr int kMaxPointerHops = 127;

template <bool kCopy>
NameError WalkName(const uint8_t* msg, size_t size, size_t offset, uint8_t* out, size_t* out_len,
                   size_t* next_offset) noexcept {
  size_t pos = offset;
  size_t written = 0;
  size_t end_of_name = 0;  // offset after the name at its original position
  bool jumped = false;
  int hops = 0;
  while (true) {
    if (pos >= size) return NameError::kTruncated;
    uint8_t len = msg[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= size) return NameError::kTruncated;
      size_t target = static_cast<size_t>(((len & 0x3F) << 8) | msg[pos + 1]);
      if (target >= pos || target < 12) return NameError::kBadPointer;
      if (++hops > kMaxPointerHops) return NameError::kTooManyPointers;
      if (!jumped) {
        end_of_name = pos + 2;
        jumped = true;
      }
      pos = target;
      continue;
    }
    if (len > 63) return NameError::kLabelTooLong;
    if (written + 1 + len > 255) return NameError::kNameTooLong;
    if (pos + 1 + len > size) return NameError::kTruncated;
    if constexpr (kCopy) std::memcpy(out + written, msg + pos, 1 + len);
    written += 1 + len;
    pos += 1 + len;
    if (len == 0) break;
  }
  if (!jumped) end_of_name = pos;
  if (out_len) *out_len = written;
  *next_offset = end_of_name;
  return NameError::kOk;
}

}  // namespace

NameError ReadName(const uint8_t* msg, size_t size, size_t offset, uint8_t* out, size_t* out_len,
                   size_t* next_offset) noexcept {
  return WalkName<true>(msg, size, offset, out, out_len, next_offset);
}

NameError SkipName(const uint8_t* msg, size_t size, size_t offset, size_t* next_offset) noexcept {
  size_t len = 0;
  return WalkName<false>(msg, size, offset, nullptr, &len, next_offset);
}

absl::StatusOr<std::string> FoldedWireFromText(std::string_view text) {
  const std::string_view name = text;  // for error messages
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  std::string wire;
  wire.reserve(text.size() + 2);
  // After a dot another label must follow: "a.b.." has an empty last label.
  bool more = !text.empty();
  while (more) {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    if (label.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty label in name \"", std::string(name), "\""));
    }
    if (label.size() > kMaxLabelLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("label \"", std::string(label), "\" is longer than 63 bytes"));
    }
    wire.push_back(static_cast<char>(label.size()));
    wire.append(label);
    more = dot != std::string_view::npos;
    if (more) text = text.substr(dot + 1);
  }
  wire.push_back('\0');
  if (wire.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("name \"", std::string(name), "\" is longer than 255 bytes"));
  }
  FoldName(reinterpret_cast<uint8_t*>(wire.data()), wire.size());
  return wire;
}

std::string TextFromWire(std::string_view wire) {
  if (wire.size() <= 1) return ".";
  std::string text;
  size_t pos = 0;
  while (pos < wire.size()) {
    uint8_t len = static_cast<uint8_t>(wire[pos]);
    if (len == 0) break;
    for (size_t i = pos + 1; i <= pos + len && i < wire.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(wire[i]);
      if (c == '.' || c == '\\') {
        text.push_back('\\');
        text.push_back(static_cast<char>(c));
      } else if (c < 0x21 || c > 0x7e) {
        char buf[5];
        buf[0] = '\\';
        buf[1] = static_cast<char>('0' + c / 100);
        buf[2] = static_cast<char>('0' + c / 10 % 10);
        buf[3] = static_cast<char>('0' + c % 10);
        text.append(buf, 4);
      } else {
        text.push_back(static_cast<char>(c));
      }
    }
    text.push_back('.');
    pos += 1 + len;
  }
  return text;
}

std::string_view StripLabels(std::string_view wire, int n) {
  size_t pos = 0;
  for (int i = 0; i < n && pos < wire.size() && wire[pos] != 0; ++i) {
    pos += 1 + static_cast<uint8_t>(wire[pos]);
  }
  return wire.substr(pos);
}

bool IsSubdomain(std::string_view name, std::string_view zone) {
  if (zone.size() > name.size()) return false;
  size_t want = name.size() - zone.size();
  // The bytes first (cheap and usually decisive), then the label boundary.
  if (name.substr(want) != zone) return false;
  size_t pos = 0;
  while (pos < want) pos += 1 + static_cast<uint8_t>(name[pos]);
  return pos == want;
}

}  // namespace clusterdns::records
