// LineFramer: see line_framer.h.
#include "controlplane/kube/line_framer.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {

absl::Status LineFramer::TooLong(size_t bytes) const {
  return absl::ResourceExhaustedError(absl::StrCat("watch stream: a line longer than ",
                                                   max_line_bytes_, " bytes (", bytes,
                                                   " so far without a newline)"));
}

absl::Status LineFramer::Emit(std::string_view line,
                              absl::FunctionRef<absl::Status(std::string_view line)> on_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return absl::OkStatus();
  if (line.size() > max_line_bytes_) return TooLong(line.size());
  return on_line(line);
}

absl::Status LineFramer::Feed(std::string_view chunk,
                              absl::FunctionRef<absl::Status(std::string_view line)> on_line) {
  if (chunk.empty()) return absl::OkStatus();  // (memchr must not see a null pointer)
  // memchr rather than a byte loop: lines are long (a whole object) and newlines rare.
  const char* newline = static_cast<const char*>(std::memchr(chunk.data(), '\n', chunk.size()));
  if (!partial_.empty()) {
    if (newline == nullptr) {
      if (partial_.size() + chunk.size() > max_line_bytes_) {
        return TooLong(partial_.size() + chunk.size());
      }
      partial_.append(chunk);
      return absl::OkStatus();
    }
    const size_t head = static_cast<size_t>(newline - chunk.data());
    if (partial_.size() + head > max_line_bytes_) return TooLong(partial_.size() + head);
    partial_.append(chunk.data(), head);
    absl::Status status = Emit(partial_, on_line);
    partial_.clear();
    if (!status.ok()) return status;
    chunk.remove_prefix(head + 1);
    newline = static_cast<const char*>(std::memchr(chunk.data(), '\n', chunk.size()));
  }
  while (newline != nullptr) {
    const size_t length = static_cast<size_t>(newline - chunk.data());
    if (absl::Status status = Emit(chunk.substr(0, length), on_line); !status.ok()) return status;
    chunk.remove_prefix(length + 1);
    newline = static_cast<const char*>(std::memchr(chunk.data(), '\n', chunk.size()));
  }
  if (chunk.size() > max_line_bytes_) return TooLong(chunk.size());
  partial_.assign(chunk);
  return absl::OkStatus();
}

}  // namespace clusterdns::controlplane
