// LineFramer: splits a byte stream that arrives in arbitrary chunks (libcurl's
// CURLOPT_WRITEFUNCTION hands over whatever the socket gave it) into the newline-terminated lines
// of a Kubernetes watch stream. A line may be split across chunks at any byte offset, and one
// chunk may hold many lines; every complete line is handed over exactly once, in order.
//
// Lines are passed without their "\n" (and without a "\r" before it); empty lines are skipped.
// A line that lies wholly inside one chunk is passed as a view into that chunk (no copy); only
// the piece of a line that straddles chunks is copied into the framer. Views are valid only
// during the callback.
//
// A line longer than max_line_bytes is an error (kResourceExhausted): the stream is not what we
// expect and buffering it without bound is how a bad server exhausts our memory.
//
// Not thread-safe (one stream, one owner). Usage:
//   LineFramer framer;
//   absl::Status s = framer.Feed(chunk, [&](std::string_view line) { return Handle(line); });
//   ... at the end of the stream, framer.pending_bytes() != 0 means the last line was cut off.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace clusterdns::controlplane {

class LineFramer {
 public:
  // 64 MiB: far above any real object (etcd caps one at 1.5 MiB by default), far below memory.
  static constexpr size_t kDefaultMaxLineBytes = size_t{64} << 20;

  explicit LineFramer(size_t max_line_bytes = kDefaultMaxLineBytes)
      : max_line_bytes_(max_line_bytes) {}

  // Feeds one chunk. Calls on_line for each line completed by it. Stops at the first non-OK
  // status that on_line returns and returns it; the framer must then be Reset() before reuse
  // (the rest of the chunk is dropped). Returns kResourceExhausted when a line exceeds the cap.
  absl::Status Feed(std::string_view chunk,
                    absl::FunctionRef<absl::Status(std::string_view line)> on_line);

  // Forgets any partial line (a new connection starts a new stream).
  void Reset() { partial_.clear(); }

  // Bytes of an incomplete last line held back. Non-zero at the end of a stream means the stream
  // was cut off mid-line.
  size_t pending_bytes() const { return partial_.size(); }

 private:
  absl::Status Emit(std::string_view line,
                    absl::FunctionRef<absl::Status(std::string_view line)> on_line);
  absl::Status TooLong(size_t bytes) const;

  const size_t max_line_bytes_;
  std::string partial_;  // the start of a line that the chunks so far did not finish
};

}  // namespace clusterdns::controlplane
