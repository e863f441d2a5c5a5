// TcpConnection: one accepted DNS-over-TCP connection (RFC 7766): the bytes read but not yet
// answered, split into 2-byte-length frames; the responses not yet written; and the clocks its
// timeouts run on. Pure buffer and socket bookkeeping: answering is the TcpListener's job.
//
// Bounded memory: the read buffer holds at most one maximal frame (2 + 65535 bytes) and is read
// into only while it has room; the listener stops reading (and answering) while the unsent
// responses reach kTcpWriteHighWater, so a client that sends without reading costs at most
// kTcpWriteHighWater + one maximal response, and then the kernel's buffers push back on it.
//
// Threads: owned and used by one TcpListener thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "controlplane/listen/listener_stats.h"
#include "controlplane/listen/unique_fd.h"

namespace clusterdns::controlplane {

// Read buffer to start with: ~50 typical queries; grown to the frame's size for larger frames and
// shrunk back when it empties.
inline constexpr size_t kTcpInitialReadBuffer = 4096;
// Unsent response bytes at which the listener stops answering and reading this connection.
inline constexpr size_t kTcpWriteHighWater = 64 * 1024;
// A frame: 2-byte big-endian length, then a DNS message of at least a header.
inline constexpr size_t kTcpFrameLengthSize = 2;
inline constexpr size_t kTcpMinFrameBody = 12;

class TcpConnection {
 public:
  using Clock = std::chrono::steady_clock;

  TcpConnection(UniqueFd fd, Clock::time_point now);

  int fd() const { return fd_.get(); }

  enum class IoStatus : uint8_t { kOk, kWouldBlock, kEof, kError };

  // One read() into the free room of the read buffer (making room first: compaction, or growth up
  // to the head frame's size).
  IoStatus Read(Clock::time_point now);

  enum class FrameStatus : uint8_t { kNone, kReady, kBad };
  // The head frame: kReady with its body (valid until the next Read or ConsumeFrame), kNone when
  // it is incomplete or absent, kBad when its length is below a DNS header.
  FrameStatus PeekFrame(const uint8_t** body, size_t* length) const;
  void ConsumeFrame(Clock::time_point now);

  // Appends a response with its 2-byte length. `length` <= 65535.
  void QueueResponse(const uint8_t* data, size_t length, Clock::time_point now);
  // Writes as much of the queue as the socket takes.
  IoStatus Flush(Clock::time_point now);

  size_t unsent_bytes() const { return write_buf_.size() - write_begin_; }
  size_t buffered_bytes() const { return read_end_ - read_begin_; }
  bool read_eof() const { return read_eof_; }
  // Reading makes sense: not at EOF, not pushed back by unsent responses, and room to read into.
  bool WantsRead() const;
  // Some bytes of a frame are buffered but the frame is not complete.
  bool HasPartialFrame() const;

  // When this connection should be closed if nothing happens, and why.
  Clock::time_point Deadline(Clock::duration idle_timeout, Clock::duration read_timeout,
                             TcpCloseReason* reason) const;

  // Listener bookkeeping.
  uint32_t registered_events = 0;  // the epoll interest set now
  bool in_work_list = false;       // has answerable frames left over from the pipeline limit
  bool read_paused = false;        // paused by kTcpWriteHighWater (counted once per pause)
  uint32_t forwards_pending = 0;   // queries with the forwarder: a half-closed client waits for them

 private:
  size_t HeadFrameSize() const;  // 2 + length when the length is buffered, else 0

  UniqueFd fd_;
  std::vector<uint8_t> read_buf_;
  size_t read_begin_ = 0;  // first unconsumed byte
  size_t read_end_ = 0;    // one past the last byte read
  bool read_eof_ = false;
  std::vector<uint8_t> write_buf_;
  size_t write_begin_ = 0;  // first unsent byte
  Clock::time_point last_activity_;        // last byte read, query answered or byte written
  Clock::time_point frame_start_;          // first byte of the head frame arrived (if partial)
  Clock::time_point last_write_progress_;  // the unsent queue last shrank or became non-empty
};

}  // namespace clusterdns::controlplane
