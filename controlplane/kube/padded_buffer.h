// PaddedBuffer: a reusable byte buffer that always keeps SIMDJSON_PADDING readable bytes past its
// end, so simdjson can parse it in place (ondemand::parser::iterate(data(), size(), capacity()))
// without another copy. The watch decoder copies each line into one; the list reader collects a
// page of the response body in one. Clear() keeps the allocation, so a steady stream of lines or
// pages allocates only when a larger one arrives; Release() gives the memory back.
//
// Not thread-safe (one owner). Append may throw std::bad_alloc like any std::string; callers on
// a C callback path (libcurl) catch it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "simdjson.h"

namespace clusterdns::controlplane {

class PaddedBuffer {
 public:
  void Clear() { size_ = 0; }
  void Release() {
    bytes_ = std::string();
    size_ = 0;
  }

  void Append(std::string_view bytes) {
    const size_t needed = size_ + bytes.size() + simdjson::SIMDJSON_PADDING;
    if (needed > bytes_.size()) bytes_.resize(std::max(needed, bytes_.size() * 2));
    if (!bytes.empty()) std::memcpy(bytes_.data() + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  void Assign(std::string_view bytes) {
    Clear();
    Append(bytes);
  }

  const char* data() const { return bytes_.data(); }
  size_t size() const { return size_; }
  // Readable bytes from data(): at least size() + SIMDJSON_PADDING once anything was appended.
  size_t capacity() const { return bytes_.size(); }
  std::string_view view() const { return {bytes_.data(), size_}; }

 private:
  std::string bytes_;  // bytes_.size() ≥ size_ + SIMDJSON_PADDING (or 0 before the first Append)
  size_t size_ = 0;
};

}  // namespace clusterdns::controlplane
