// Framing, buffering and timers of one DNS-over-TCP connection.
#include "controlplane/listen/tcp_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace clusterdns::controlplane {
namespace {

// An emptied write buffer larger than this gives its memory back (a burst of big answers should
// not pin 128 KiB per idle connection).
constexpr size_t kShrinkWriteBufferAbove = 16 * 1024;

}  // namespace

TcpConnection::TcpConnection(UniqueFd fd, Clock::time_point now)
    : fd_(std::move(fd)),
      read_buf_(kTcpInitialReadBuffer),
      last_activity_(now),
      frame_start_(now),
      last_write_progress_(now) {}

size_t TcpConnection::HeadFrameSize() const {
  if (buffered_bytes() < kTcpFrameLengthSize) return 0;
  const uint8_t* p = read_buf_.data() + read_begin_;
  return kTcpFrameLengthSize + ((size_t{p[0]} << 8) | p[1]);
}

bool TcpConnection::HasPartialFrame() const {
  const size_t buffered = buffered_bytes();
  if (buffered == 0) return false;
  const size_t head = HeadFrameSize();
  return head == 0 || buffered < head;
}

bool TcpConnection::WantsRead() const {
  if (read_eof_ || unsent_bytes() >= kTcpWriteHighWater) return false;
  // Room: free space now, or the head frame is incomplete (Read compacts or grows for it).
  return read_end_ < read_buf_.size() || read_begin_ > 0 || HasPartialFrame();
}

TcpConnection::IoStatus TcpConnection::Read(Clock::time_point now) {
  const size_t buffered = buffered_bytes();
  if (buffered == 0) {
    read_begin_ = read_end_ = 0;
    if (read_buf_.size() > kTcpInitialReadBuffer) {
      read_buf_.resize(kTcpInitialReadBuffer);
      read_buf_.shrink_to_fit();
    }
  }
  const size_t head = HeadFrameSize();
  if (read_begin_ > 0 &&
      (read_end_ == read_buf_.size() || read_begin_ + head > read_buf_.size())) {
    std::memmove(read_buf_.data(), read_buf_.data() + read_begin_, buffered);
    read_begin_ = 0;
    read_end_ = buffered;
  }
  if (head > read_buf_.size()) read_buf_.resize(head);  // at most 2 + 65535
  if (read_end_ == read_buf_.size()) return IoStatus::kWouldBlock;  // full of complete frames

  ssize_t n;
  do {
    n = ::read(fd_.get(), read_buf_.data() + read_end_, read_buf_.size() - read_end_);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? IoStatus::kWouldBlock : IoStatus::kError;
  if (n == 0) {
    read_eof_ = true;
    return IoStatus::kEof;
  }
  if (buffered == 0) frame_start_ = now;
  read_end_ += static_cast<size_t>(n);
  last_activity_ = now;
  return IoStatus::kOk;
}

TcpConnection::FrameStatus TcpConnection::PeekFrame(const uint8_t** body, size_t* length) const {
  const size_t head = HeadFrameSize();
  if (head == 0) return FrameStatus::kNone;
  if (head - kTcpFrameLengthSize < kTcpMinFrameBody) return FrameStatus::kBad;
  if (buffered_bytes() < head) return FrameStatus::kNone;
  *body = read_buf_.data() + read_begin_ + kTcpFrameLengthSize;
  *length = head - kTcpFrameLengthSize;
  return FrameStatus::kReady;
}

void TcpConnection::ConsumeFrame(Clock::time_point now) {
  read_begin_ += HeadFrameSize();
  // The next frame's clock starts now: its bytes may have come earlier, but were not ours to
  // judge until the frames before it were answered.
  frame_start_ = now;
  last_activity_ = now;
}

void TcpConnection::QueueResponse(const uint8_t* data, size_t length, Clock::time_point now) {
  if (unsent_bytes() == 0) {
    write_buf_.clear();
    write_begin_ = 0;
    last_write_progress_ = now;
  }
  if (write_begin_ > 0 && write_begin_ >= unsent_bytes()) {
    // Mostly sent: drop the sent prefix so a slowly reading client cannot grow the buffer.
    write_buf_.erase(write_buf_.begin(), write_buf_.begin() + static_cast<ptrdiff_t>(write_begin_));
    write_begin_ = 0;
  }
  write_buf_.push_back(static_cast<uint8_t>(length >> 8));
  write_buf_.push_back(static_cast<uint8_t>(length & 0xff));
  write_buf_.insert(write_buf_.end(), data, data + length);
}

TcpConnection::IoStatus TcpConnection::Flush(Clock::time_point now) {
  while (unsent_bytes() > 0) {
    const ssize_t n = ::send(fd_.get(), write_buf_.data() + write_begin_, unsent_bytes(),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? IoStatus::kWouldBlock : IoStatus::kError;
    }
    write_begin_ += static_cast<size_t>(n);
    last_write_progress_ = now;
    last_activity_ = now;
  }
  write_buf_.clear();
  write_begin_ = 0;
  if (write_buf_.capacity() > kShrinkWriteBufferAbove) write_buf_.shrink_to_fit();
  return IoStatus::kOk;
}

TcpConnection::Clock::time_point TcpConnection::Deadline(Clock::duration idle_timeout,
                                                         Clock::duration read_timeout,
                                                         TcpCloseReason* reason) const {
  if (unsent_bytes() > 0) {
    *reason = TcpCloseReason::kWriteStalled;
    return last_write_progress_ + idle_timeout;
  }
  if (HasPartialFrame()) {
    *reason = TcpCloseReason::kReadTimeout;
    return frame_start_ + read_timeout;
  }
  if (buffered_bytes() > 0) {
    // Complete frames wait in the work list; they will be answered, not timed out.
    *reason = TcpCloseReason::kIdle;
    return Clock::time_point::max();
  }
  *reason = TcpCloseReason::kIdle;
  return last_activity_ + idle_timeout;
}

}  // namespace clusterdns::controlplane
