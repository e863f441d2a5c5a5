// Loopback DNS clients and the listener fixture.
#include "tests/controlplane/listen/listen_test_util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "tests/records/kube_dns_cluster.h"

namespace clusterdns::testing {
namespace {

bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

UdpClient::UdpClient(const ListenAddress& server, int receive_buffer_bytes) {
  controlplane::UniqueFd fd(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return;
  if (receive_buffer_bytes > 0) {
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof(int));
  }
  if (::connect(fd.get(), server.sockaddr_ptr(), server.length) != 0) return;
  fd_ = std::move(fd);
}

bool UdpClient::Send(const std::vector<uint8_t>& datagram) {
  return ::send(fd_.get(), datagram.data(), datagram.size(), 0) ==
         static_cast<ssize_t>(datagram.size());
}

std::optional<std::vector<uint8_t>> UdpClient::Receive(int timeout_ms) {
  if (!WaitReadable(fd_.get(), timeout_ms)) return std::nullopt;
  std::vector<uint8_t> buf(65536);
  const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  return buf;
}

TcpClient::TcpClient(const ListenAddress& server, const TcpClientOptions& options) {
  controlplane::UniqueFd fd(::socket(server.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return;
  if (options.receive_buffer_bytes > 0) {
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &options.receive_buffer_bytes, sizeof(int));
  }
  if (options.send_buffer_bytes > 0) {
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &options.send_buffer_bytes, sizeof(int));
  }
  if (options.no_delay) {
    const int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (::connect(fd.get(), server.sockaddr_ptr(), server.length) != 0) return;
  fd_ = std::move(fd);
}

bool TcpClient::SendAll(const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool TcpClient::SendFrame(const std::vector<uint8_t>& message) { return SendAll(Framed(message)); }

bool TcpClient::ReadExactly(uint8_t* out, size_t n, int timeout_ms) {
  size_t got = 0;
  while (got < n) {
    if (!WaitReadable(fd_.get(), timeout_ms)) return false;
    const ssize_t r = ::recv(fd_.get(), out + got, n - got, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

std::optional<std::vector<uint8_t>> TcpClient::ReadFrame(int timeout_ms) {
  uint8_t prefix[2];
  if (!ReadExactly(prefix, 2, timeout_ms)) return std::nullopt;
  std::vector<uint8_t> body((size_t{prefix[0]} << 8) | prefix[1]);
  if (!ReadExactly(body.data(), body.size(), timeout_ms)) return std::nullopt;
  return body;
}

bool TcpClient::WaitClosed(int timeout_ms) {
  uint8_t buf[4096];
  for (;;) {
    if (!WaitReadable(fd_.get(), timeout_ms)) return false;
    const ssize_t r = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EINTR) return true;  // ECONNRESET
  }
}

void TcpClient::ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

std::vector<uint8_t> Framed(const std::vector<uint8_t>& message) {
  std::vector<uint8_t> out(2 + message.size());
  out[0] = static_cast<uint8_t>(message.size() >> 8);
  out[1] = static_cast<uint8_t>(message.size() & 0xff);
  std::copy(message.begin(), message.end(), out.begin() + 2);
  return out;
}

DecodedMessage DecodeOrFail(const std::vector<uint8_t>& bytes) {
  auto decoded = DecodeMessage(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : DecodedMessage{};
}

std::vector<std::string> Answers(const DecodedMessage& m) {
  std::vector<std::string> out;
  for (const auto& r : m.answer) out.push_back(RecordToText(r));
  return out;
}

void ListenerTest::SetUp() {
  builder_ = KubeDnsBuilder();
  publisher_.Publish(builder_->Build());
}

void ListenerTest::TearDown() {
  if (listeners_) listeners_->Stop();
}

void ListenerTest::StartListeners(const std::vector<std::string>& addresses,
                                  controlplane::DnsListenerOptions options) {
  std::vector<ListenAddress> parsed;
  for (const auto& text : addresses) {
    auto address = controlplane::ParseListenAddress(text);
    ASSERT_TRUE(address.ok()) << address.status();
    parsed.push_back(*address);
  }
  auto listeners =
      controlplane::DnsListeners::Bind(parsed, &publisher_, &grace_, /*first_reader_id=*/0, options);
  ASSERT_TRUE(listeners.ok()) << listeners.status();
  listeners_ = std::move(*listeners);
  bound_ = listeners_->bound();
  listeners_->Start();
}

void ListenerTest::Republish() { publisher_.Publish(builder_->Build()); }

}  // namespace clusterdns::testing
