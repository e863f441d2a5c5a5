// The TCP listener's epoll loop: accept, read frames, answer, write, time out.
#include "controlplane/listen/tcp_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "records/answer_cache.h"
#include "records/respond.h"

namespace clusterdns::controlplane {
namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kStopId = 1;
constexpr uint64_t kForwardedId = 2;  // the eventfd: forwarder replies are queued
constexpr uint64_t kFirstConnectionId = 3;
// Events taken per epoll_wait.
constexpr int kEpollEvents = 64;
// Connections accepted per wakeup, so a connection flood cannot starve established clients.
constexpr int kAcceptsPerWakeup = 64;
// Out of file descriptors (EMFILE): stop accepting this long rather than spin on a listening
// socket that stays readable.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// After an unexpected epoll_wait failure, wait this long (watching the stop fd) instead of spinning.
constexpr int kEpollErrorBackoffMs = 10;

uint32_t ConnectionEvents(const TcpConnection& conn) {
  uint32_t events = 0;
  if (conn.WantsRead()) events |= EPOLLIN | EPOLLRDHUP;
  if (conn.unsent_bytes() > 0) events |= EPOLLOUT;
  return events;
}

}  // namespace

TcpListener::TcpListener(UniqueFd socket, ListenAddress bound, ListenerContext context)
    : socket_(std::move(socket)),
      bound_(bound),
      context_(std::move(context)),
      idle_timeout_(absl::ToChronoNanoseconds(context_.options.tcp_idle_timeout)),
      read_timeout_(absl::ToChronoNanoseconds(context_.options.tcp_read_timeout)),
      counters_(std::make_unique<records::QueryCounters>()),
      stats_(std::make_unique<TcpListenerStats>()),
      next_id_(kFirstConnectionId),
      scratch_(new uint8_t[records::kTcpResponseRoom]) {
  context_.options.respond.transport = records::Transport::kTcp;
  if (context_.options.max_tcp_pipeline == 0) context_.options.max_tcp_pipeline = 1;
}

TcpListener::~TcpListener() = default;

absl::Status TcpListener::Init() {
  epoll_.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) {
    return absl::InternalError(
        absl::StrCat("--listen ", bound_.ToString(), ": epoll_create1: ", strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, socket_.get(), &ev) != 0) {
    return absl::InternalError(
        absl::StrCat("--listen ", bound_.ToString(), ": epoll_ctl: ", strerror(errno)));
  }
  forwarded_event_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ev.data.u64 = kForwardedId;
  if (!forwarded_event_.valid() ||
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, forwarded_event_.get(), &ev) != 0) {
    return absl::InternalError(
        absl::StrCat("--listen ", bound_.ToString(), ": eventfd: ", strerror(errno)));
  }
  return absl::OkStatus();
}

void TcpListener::PostForwarded(uint64_t id, std::span<const uint8_t> reply) {
  {
    std::lock_guard<std::mutex> lock(forwarded_mu_);
    forwarded_.emplace_back(id, std::vector<uint8_t>(reply.begin(), reply.end()));
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(forwarded_event_.get(), &one, sizeof(one));
}

void TcpListener::DeliverForwarded(Clock::time_point now) {
  uint64_t count;
  [[maybe_unused]] const ssize_t n = ::read(forwarded_event_.get(), &count, sizeof(count));
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> replies;
  {
    std::lock_guard<std::mutex> lock(forwarded_mu_);
    replies.swap(forwarded_);
  }
  for (auto& [id, reply] : replies) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      BumpCounter(stats_->forwarded_orphans);
      continue;
    }
    // RFC 7766 section 7: responses may leave out of order; the client matches them by ID.
    if (it->second->forwards_pending > 0) --it->second->forwards_pending;
    it->second->QueueResponse(reply.data(), reply.size(), now);
    BumpCounter(stats_->forwarded_replies);
    if (it->second->Flush(now) == TcpConnection::IoStatus::kError) {
      Close(id, TcpCloseReason::kError);
      continue;
    }
    Update(id, *it->second);
  }
}

void TcpListener::Run(int stop_fd) {
  records::EpochGracePeriod& grace = *context_.grace;
  const size_t reader = context_.reader_id;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kStopId;
  if (!epoll_.valid() || ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_fd, &ev) != 0) {
    // Init() failed or was not called (Bind() reports that): nothing to serve with.
    return;
  }
  next_sweep_ = Clock::time_point::max();

  epoll_event events[kEpollEvents];
  bool stop = false;
  while (!stop) {
    const int timeout_ms = WaitTimeoutMs(Clock::now());
    // Offline while blocked: a Publish() must not wait for a listener that has no traffic.
    grace.Offline(reader);
    const int n = ::epoll_wait(epoll_.get(), events, kEpollEvents, timeout_ms);
    if (n < 0 && errno != EINTR) {
      // Not expected (ENOMEM): back off without spinning, still answering Stop() promptly.
      pollfd stop_poll{stop_fd, POLLIN, 0};
      if (::poll(&stop_poll, 1, kEpollErrorBackoffMs) > 0) break;
      continue;
    }
    grace.Online(reader);
    // Loaded once per wakeup, after Online(): valid until the Quiescent() below.
    table_ = context_.publisher->Current();
    const Clock::time_point now = Clock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kStopId) {
        stop = true;
      } else if (id == kListenId) {
        AcceptAll(now);
      } else if (id == kForwardedId) {
        DeliverForwarded(now);
      } else {
        HandleEvents(id, events[i].events, now);
      }
    }
    if (!stop) {
      // Leftovers of the pipeline limit get their next turn, after every ready connection had one.
      work_now_.swap(work_);
      work_.clear();
      for (const uint64_t id : work_now_) {
        auto it = connections_.find(id);
        if (it == connections_.end()) continue;
        it->second->in_work_list = false;
        Serve(id, *it->second, now);
      }
      if (accept_paused_ && now >= accept_resume_) {
        accept_paused_ = false;
        ev.events = EPOLLIN;
        ev.data.u64 = kListenId;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, socket_.get(), &ev);
      }
      if (now >= next_sweep_) Sweep(now);
    }
    table_ = nullptr;
    grace.Quiescent(reader);
  }

  std::vector<uint64_t> open;
  for (const auto& [id, conn] : connections_) open.push_back(id);
  for (const uint64_t id : open) Close(id, TcpCloseReason::kStopped);
  epoll_.Reset();
  grace.Offline(reader);
}

int TcpListener::WaitTimeoutMs(Clock::time_point now) const {
  if (!work_.empty()) return 0;
  Clock::time_point wake = next_sweep_;
  if (accept_paused_) wake = std::min(wake, accept_resume_);
  if (wake == Clock::time_point::max()) return -1;
  if (wake <= now) return 0;
  // Round up: waking a millisecond early would find nothing due and spin once more.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

void TcpListener::AcceptAll(Clock::time_point now) {
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
    const int fd = ::accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      // EMFILE, ENFILE, ENOBUFS, ENOMEM: the pending connection stays queued; try again later.
      BumpCounter(stats_->accept_errors);
      accept_paused_ = true;
      accept_resume_ = now + kAcceptPause;
      epoll_event ev{};
      ev.data.u64 = kListenId;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, socket_.get(), &ev);
      return;
    }
    UniqueFd owned(fd);
    BumpCounter(stats_->accepted);
    if (connections_.size() >= static_cast<size_t>(std::max(context_.options.max_tcp_connections, 0))) {
      BumpCounter(stats_->closed[static_cast<size_t>(TcpCloseReason::kCap)]);
      continue;  // `owned` closes it
    }
    // We write each wakeup's responses with one send(); Nagle would hold the next wakeup's
    // back until the client's (delayed) ACK, adding up to 40 ms to pipelined queries.
    const int one = 1;
    setsockopt(owned.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const uint64_t id = next_id_++;
    auto conn = std::make_unique<TcpConnection>(std::move(owned), now);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, conn->fd(), &ev) != 0) {
      BumpCounter(stats_->closed[static_cast<size_t>(TcpCloseReason::kError)]);
      continue;
    }
    conn->registered_events = ev.events;
    TcpCloseReason reason;
    next_sweep_ = std::min(next_sweep_, conn->Deadline(idle_timeout_, read_timeout_, &reason));
    connections_.emplace(id, std::move(conn));
    stats_->open.store(connections_.size(), std::memory_order_relaxed);
  }
}

void TcpListener::HandleEvents(uint64_t id, uint32_t events, Clock::time_point now) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;  // closed earlier in this wakeup
  TcpConnection& conn = *it->second;
  if ((events & EPOLLERR) != 0) {
    Close(id, TcpCloseReason::kError);
    return;
  }
  if ((events & EPOLLOUT) != 0 && conn.Flush(now) == TcpConnection::IoStatus::kError) {
    Close(id, TcpCloseReason::kError);
    return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0 && conn.WantsRead()) {
    const TcpConnection::IoStatus status = conn.Read(now);
    if (status == TcpConnection::IoStatus::kError) {
      Close(id, TcpCloseReason::kError);
      return;
    }
  } else if ((events & EPOLLHUP) != 0) {
    // Both directions are gone and we were not reading: nothing we queue can be delivered.
    Close(id, TcpCloseReason::kPeerClosed);
    return;
  }
  Serve(id, conn, now);
}

bool TcpListener::Serve(uint64_t id, TcpConnection& conn, Clock::time_point now) {
  const size_t limit = context_.options.max_tcp_pipeline;
  size_t answered = 0;
  while (answered < limit && conn.unsent_bytes() < kTcpWriteHighWater) {
    const uint8_t* body = nullptr;
    size_t length = 0;
    const TcpConnection::FrameStatus frame = conn.PeekFrame(&body, &length);
    if (frame == TcpConnection::FrameStatus::kNone) break;
    if (frame == TcpConnection::FrameStatus::kBad) {
      Close(id, TcpCloseReason::kBadFrame);
      return false;
    }
    Answer(id, conn, body, length, now);
    conn.ConsumeFrame(now);
    ++answered;
  }
  if (conn.unsent_bytes() > 0) {
    if (conn.unsent_bytes() > ReadCounter(stats_->max_write_queue_bytes)) {
      stats_->max_write_queue_bytes.store(conn.unsent_bytes(), std::memory_order_relaxed);
    }
    if (conn.Flush(now) == TcpConnection::IoStatus::kError) {
      Close(id, TcpCloseReason::kError);
      return false;
    }
  }
  Update(id, conn);
  return true;
}

void TcpListener::Answer(uint64_t id, TcpConnection& conn, const uint8_t* query, size_t length,
                         Clock::time_point now) {
  BumpCounter(stats_->queries);
  if (table_ == nullptr) {
    BumpCounter(stats_->no_table);
    return;
  }
  uint8_t* buf = scratch_.get();
  std::memcpy(buf, query, length);  // length <= 65535 == kTcpResponseRoom
  records::RespondOptions respond = context_.options.respond;
  if (respond.cache != nullptr) respond.now = records::CacheNow();
  const records::RespondResult r =
      records::Respond(*table_, buf, length, records::kTcpResponseRoom, respond);
  counters_->Count(r);
  if (r.verdict == records::Verdict::kReply) {
    conn.QueueResponse(buf, r.size, now);
  } else if (r.verdict == records::Verdict::kForward) {
    QueryForwarder* forwarder = context_.options.forwarder;
    const bool taken =
        forwarder != nullptr &&
        forwarder->Forward(std::vector<uint8_t>(query, query + length), records::Transport::kTcp,
                           [this, id](std::span<const uint8_t> reply) { PostForwarded(id, reply); });
    BumpCounter(taken ? stats_->forwarded : stats_->forward_dropped);
    if (taken) ++conn.forwards_pending;
  }
}

void TcpListener::Update(uint64_t id, TcpConnection& conn) {
  const uint8_t* body = nullptr;
  size_t length = 0;
  const TcpConnection::FrameStatus head = conn.PeekFrame(&body, &length);
  if (conn.read_eof() && head != TcpConnection::FrameStatus::kReady && conn.unsent_bytes() == 0 &&
      conn.forwards_pending == 0) {
    // The client half-closed and everything it asked is answered (a trailing partial frame can
    // never complete). A bad head frame is closed the same way.
    Close(id, head == TcpConnection::FrameStatus::kBad ? TcpCloseReason::kBadFrame
                                                       : TcpCloseReason::kPeerClosed);
    return;
  }
  if (head != TcpConnection::FrameStatus::kNone && conn.unsent_bytes() < kTcpWriteHighWater &&
      !conn.in_work_list) {
    conn.in_work_list = true;
    work_.push_back(id);
  }
  const bool over = conn.unsent_bytes() >= kTcpWriteHighWater;
  if (over && !conn.read_paused) BumpCounter(stats_->read_pauses);
  conn.read_paused = over;
  SetInterest(id, conn, ConnectionEvents(conn));
  TcpCloseReason reason;
  next_sweep_ = std::min(next_sweep_, conn.Deadline(idle_timeout_, read_timeout_, &reason));
}

void TcpListener::SetInterest(uint64_t id, TcpConnection& conn, uint32_t events) {
  if (events == conn.registered_events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, conn.fd(), &ev);
  conn.registered_events = events;
}

void TcpListener::Close(uint64_t id, TcpCloseReason reason) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // Counted before the fd closes, so whoever sees the close also sees it counted.
  BumpCounter(stats_->closed[static_cast<size_t>(reason)]);
  stats_->open.store(connections_.size() - 1, std::memory_order_relaxed);
  // Closing the fd removes it from the epoll set (we never dup connection fds).
  connections_.erase(it);
}

void TcpListener::Sweep(Clock::time_point now) {
  Clock::time_point next = Clock::time_point::max();
  std::vector<std::pair<uint64_t, TcpCloseReason>> expired;
  for (const auto& [id, conn] : connections_) {
    TcpCloseReason reason;
    const Clock::time_point deadline = conn->Deadline(idle_timeout_, read_timeout_, &reason);
    if (deadline <= now) {
      expired.emplace_back(id, reason);
    } else {
      next = std::min(next, deadline);
    }
  }
  for (const auto& [id, reason] : expired) Close(id, reason);
  next_sweep_ = next;
}

}  // namespace clusterdns::controlplane
