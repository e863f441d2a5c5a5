// The fake upstream's sockets, thread and answer builder.
#include "tests/controlplane/forward/fake_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "records/dns_constants.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using controlplane::UniqueFd;

UpstreamAddress Loopback(int family, uint16_t port) {
  UpstreamAddress a;
  if (family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    a.length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.length = sizeof(sockaddr_in);
  }
  a.set_port(port);
  return a;
}

// A socket bound to loopback:port (0: any); its bound address in *bound.
UniqueFd BoundSocket(int family, int type, uint16_t port, UpstreamAddress* bound) {
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {};
  const int one = 1;
  if (type == SOCK_STREAM) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const UpstreamAddress want = Loopback(family, port);
  if (::bind(fd.get(), want.sockaddr_ptr(), want.length) != 0) return {};
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  *bound = UpstreamAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return fd;
}

bool ReadExactly(int fd, uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;  // EOF, error, or SO_RCVTIMEO
    got += static_cast<size_t>(r);
  }
  return true;
}

void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

}  // namespace

FakeUpstream::FakeUpstream(int family, bool tcp) {
  // UDP and TCP share the port number: retry if the kernel's UDP pick is taken for TCP.
  for (int attempt = 0; attempt < 20 && !ok_; ++attempt) {
    UpstreamAddress bound;
    UniqueFd udp = BoundSocket(family, SOCK_DGRAM, 0, &bound);
    if (!udp.valid()) continue;
    UniqueFd tcp_fd;
    if (tcp) {
      UpstreamAddress tcp_bound;
      tcp_fd = BoundSocket(family, SOCK_STREAM, bound.port(), &tcp_bound);
      if (!tcp_fd.valid() || ::listen(tcp_fd.get(), 16) != 0) continue;
    }
    udp_ = std::move(udp);
    tcp_ = std::move(tcp_fd);
    address_ = bound;
    ok_ = true;
  }
  UpstreamAddress other_bound;
  other_ = BoundSocket(family, SOCK_DGRAM, 0, &other_bound);
  stop_.Reset(::eventfd(0, EFD_CLOEXEC));
  if (!ok_ || !other_.valid() || !stop_.valid()) {
    ok_ = false;
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

FakeUpstream::~FakeUpstream() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_.get(), &one, sizeof(one));
    thread_.join();
  }
}

void FakeUpstream::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  handler_ = std::move(handler);
}

std::vector<std::vector<uint8_t>> FakeUpstream::udp_queries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return udp_queries_;
}

std::vector<std::vector<uint8_t>> FakeUpstream::tcp_queries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tcp_queries_;
}

size_t FakeUpstream::udp_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return udp_queries_.size();
}

void FakeUpstream::Run() {
  pollfd fds[3] = {{stop_.get(), POLLIN, 0}, {udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
  const nfds_t count = tcp_.valid() ? 3 : 2;
  for (;;) {
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents != 0) ServeUdp();
    if (count == 3 && fds[2].revents != 0) ServeTcp();
  }
}

void FakeUpstream::ServeUdp() {
  std::vector<uint8_t> buf(65536);
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  const ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&peer), &peer_len);
  if (n < 0) return;
  buf.resize(static_cast<size_t>(n));
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    udp_queries_.push_back(buf);
    handler = handler_;
  }
  if (!handler) return;
  for (const Reply& r : handler(buf, false)) {
    if (r.delay_ms > 0) ::usleep(static_cast<useconds_t>(r.delay_ms) * 1000);
    const int fd = r.from_other_port ? other_.get() : udp_.get();
    ::sendto(fd, r.bytes.data(), r.bytes.size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_len);
  }
}

void FakeUpstream::ServeTcp() {
  UniqueFd conn(::accept4(tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) return;
  timeval tv{1, 0};  // a forwarder that connects and sends nothing does not hang the fake
  setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  uint8_t len_bytes[2];
  if (!ReadExactly(conn.get(), len_bytes, 2)) return;
  std::vector<uint8_t> query((len_bytes[0] << 8) | len_bytes[1]);
  if (!ReadExactly(conn.get(), query.data(), query.size())) return;
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tcp_queries_.push_back(query);
    handler = handler_;
  }
  if (!handler) return;
  for (const Reply& r : handler(query, true)) {
    if (r.delay_ms > 0) ::usleep(static_cast<useconds_t>(r.delay_ms) * 1000);
    std::vector<uint8_t> frame;
    Put16(frame, static_cast<uint16_t>(r.bytes.size()));
    frame.insert(frame.end(), r.bytes.begin(), r.bytes.end());
    ::send(conn.get(), frame.data(), frame.size(), MSG_NOSIGNAL);
  }
}

std::vector<uint8_t> MakeAnswer(const std::vector<uint8_t>& query, const AnswerSpec& spec) {
  auto decoded = DecodeMessage(query);
  if (!decoded.ok() || decoded->question.size() != 1) return {};
  const DecodedMessage& q = *decoded;
  std::vector<uint8_t> opt = spec.opt;
  if (opt.empty() && q.opt.has_value()) opt = EncodeOptRecord(QueryOptions{});

  std::vector<uint8_t> out;
  Put16(out, spec.id.value_or(q.id));
  uint16_t flags = records::kFlagRa | (q.flags & records::kFlagRd);
  if (spec.qr) flags |= records::kFlagQr;
  if (spec.tc) flags |= records::kFlagTc;
  Put16(out, flags);
  Put16(out, 1);
  Put16(out, static_cast<uint16_t>(spec.a_records));
  Put16(out, 0);
  Put16(out, opt.empty() ? 0 : 1);
  std::vector<uint8_t> question = q.question[0].raw;
  if (spec.qname.has_value()) {
    question = EncodeQuestion(*spec.qname, q.question[0].type, q.question[0].klass);
  } else if (spec.lowercase_question) {
    for (size_t i = 0; i + 4 < question.size(); ++i) {
      if (question[i] >= 'A' && question[i] <= 'Z') question[i] |= 0x20;
    }
  }
  out.insert(out.end(), question.begin(), question.end());
  for (int i = 0; i < spec.a_records; ++i) {
    const uint8_t record[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4,
                              198, 18, 100, static_cast<uint8_t>(spec.first_octet + i)};
    out.insert(out.end(), record, record + sizeof(record));
  }
  out.insert(out.end(), opt.begin(), opt.end());
  return out;
}

UpstreamAddress ClosedUdpPort(int family) {
  UpstreamAddress bound;
  UniqueFd fd = BoundSocket(family, SOCK_DGRAM, 0, &bound);
  return bound;  // `fd` closes here: nothing listens on that port any more
}

}  // namespace clusterdns::testing
