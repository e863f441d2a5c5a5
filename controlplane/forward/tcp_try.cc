// A one-shot DNS-over-TCP exchange on a non-blocking socket.
#include "controlplane/forward/tcp_try.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "records/byte_order.h"
#include "records/dns_constants.h"

namespace clusterdns::controlplane {
namespace {

constexpr size_t kLengthPrefix = 2;

}  // namespace

int TcpTry::Start(const UpstreamAddress& to, std::span<const uint8_t> message) {
  out_.resize(kLengthPrefix + message.size());
  records::StoreBe16(out_.data(), static_cast<uint16_t>(message.size()));
  std::copy(message.begin(), message.end(), out_.begin() + kLengthPrefix);
  fd_.Reset(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) return errno;
  int rc;
  do {
    rc = ::connect(fd_.get(), to.sockaddr_ptr(), to.length);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    connected_ = true;
    return 0;
  }
  if (errno == EINPROGRESS) return 0;
  return errno;
}

uint32_t TcpTry::WantedEvents() const {
  if (!connected_ || sent_ < out_.size()) return EPOLLOUT;
  return EPOLLIN | EPOLLRDHUP;
}

std::span<const uint8_t> TcpTry::answer() const {
  if (in_.size() < kLengthPrefix) return {};
  return std::span<const uint8_t>(in_).subspan(kLengthPrefix);
}

TcpTry::Progress TcpTry::OnEvents(uint32_t events) {
  if (!connected_) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return Progress::kPending;
    int error = 0;
    socklen_t len = sizeof(error);
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      return Progress::kFailed;
    }
    connected_ = true;
  }
  if (sent_ < out_.size()) {
    const Progress p = Write();
    if (p != Progress::kPending || sent_ < out_.size()) return p;
  }
  // Read also on a bare EPOLLHUP/EPOLLERR: read() reports the EOF or error.
  return Read();
}

TcpTry::Progress TcpTry::Write() {
  while (sent_ < out_.size()) {
    const ssize_t n = ::send(fd_.get(), out_.data() + sent_, out_.size() - sent_,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Progress::kPending;
      return Progress::kFailed;
    }
    sent_ += static_cast<size_t>(n);
  }
  return Progress::kPending;
}

TcpTry::Progress TcpTry::Read() {
  for (;;) {
    // The length prefix first, then exactly the body it announces: nothing past the answer.
    const size_t want = in_.size() < kLengthPrefix
                            ? kLengthPrefix - in_.size()
                            : kLengthPrefix + records::LoadBe16(in_.data()) - in_.size();
    const size_t old = in_.size();
    in_.resize(old + want);
    const ssize_t n = ::recv(fd_.get(), in_.data() + old, want, MSG_DONTWAIT);
    in_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Progress::kPending;
      return Progress::kFailed;
    }
    if (n == 0) return Progress::kFailed;  // EOF before a whole answer
    if (in_.size() >= kLengthPrefix) {
      const size_t length = records::LoadBe16(in_.data());
      if (length < records::kHeaderSize) {
        bad_frame_ = true;
        return Progress::kFailed;
      }
      if (in_.size() == kLengthPrefix + length) return Progress::kDone;
    }
  }
}

}  // namespace clusterdns::controlplane
