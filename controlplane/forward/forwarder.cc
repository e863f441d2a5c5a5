// The forwarder thread: requests in, tries out, answers checked and relayed, timers.
#include "controlplane/forward/forwarder.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "controlplane/forward/tcp_try.h"
#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/status_macros.h"

namespace clusterdns::controlplane {
namespace {

// epoll tags: the eventfd, the two UDP sockets, then one per TCP connection.
constexpr uint64_t kWakeTag = 0;
constexpr uint64_t kUdp4Tag = 1;
constexpr uint64_t kUdp6Tag = 2;
constexpr uint64_t kFirstTcpTag = 16;
// Events taken per epoll_wait.
constexpr int kEpollEvents = 64;
// Datagrams read from one socket per wakeup, so an answer flood cannot starve timers and TCP.
constexpr int kDatagramsPerWakeup = 256;
// Error-queue entries read per wakeup (same reason).
constexpr int kErrorsPerWakeup = 64;
// After an unexpected epoll_wait failure (ENOMEM), wait this long instead of spinning.
constexpr int kEpollErrorBackoffMs = 10;
constexpr uint32_t kNoUpstream = UINT32_MAX;

constexpr size_t Index(ServfailCause c) { return static_cast<size_t>(c); }
constexpr size_t Index(ForwardDropReason r) { return static_cast<size_t>(r); }

}  // namespace

struct Forwarder::Query {
  uint64_t serial = 0;
  std::vector<uint8_t> bytes;  // the client's query
  records::Transport transport = records::Transport::kUdp;
  ReplyCallback reply;
  ClientQuery parsed;
  Clock::time_point deadline;
  Clock::time_point try_expiry = Clock::time_point::max();  // of the newest try
  Clock::time_point wake = Clock::time_point::max();        // its key in timers_ (max: none)
  uint32_t first = 0;         // upstream of the first try
  uint32_t tries_started = 0; // positions taken in the round from `first`
  uint32_t current = kNoUpstream;  // upstream of the newest try
  std::vector<std::pair<uint32_t, uint16_t>> udp_tries;  // open: (upstream, ID) in inflight_
  std::vector<bool> hard_failed;                          // per upstream
  std::unique_ptr<TcpTry> tcp;
  std::vector<uint8_t> truncated_answer;  // a TC answer, relayed if nothing better comes
};

Forwarder::Forwarder(ForwarderOptions options)
    : options_(std::move(options)),
      try_timeout_(absl::ToChronoNanoseconds(options_.try_timeout)),
      deadline_(absl::ToChronoNanoseconds(options_.deadline)),
      reclaim_interval_(absl::ToChronoNanoseconds(options_.reclaim_interval)),
      stats_(std::make_unique<ForwarderStats>()),
      // At least one block each, so an empty list fails in Start() rather than here.
      upstream_stats_(
          std::make_unique<UpstreamStats[]>(std::max<size_t>(options_.upstreams.size(), 1))),
      health_(std::max<size_t>(options_.upstreams.size(), 1),
              absl::ToChronoNanoseconds(options_.health_recheck), upstream_stats_.get()),
      next_tcp_tag_(kFirstTcpTag),
      receive_buffer_(new uint8_t[records::kMaxMessageSize]) {}

Forwarder::~Forwarder() { Stop(); }

absl::Status Forwarder::Start() {
  if (started_) return absl::FailedPreconditionError("forwarder: Start() called twice");
  started_ = true;  // also when this Start fails: a Forwarder gets one attempt
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_requested_) return absl::FailedPreconditionError("forwarder: Start() after Stop()");
  }
  if (options_.upstreams.empty()) {
    return absl::InvalidArgumentError("forwarder: no upstream (give --upstream or a resolv.conf)");
  }
  if (options_.upstreams.size() > kMaxUpstreams) {
    return absl::InvalidArgumentError(absl::StrCat("forwarder: ", options_.upstreams.size(),
                                                   " upstreams, at most ", kMaxUpstreams));
  }
  for (size_t i = 0; i < options_.upstreams.size(); ++i) {
    const UpstreamAddress& u = options_.upstreams[i];
    if ((u.family() != AF_INET && u.family() != AF_INET6) || u.port() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("forwarder: upstream ", u.ToString(), ": not an IP address and port"));
    }
    // Answers are matched to upstreams by address: two entries for one server would split it.
    for (size_t j = 0; j < i; ++j) {
      if (options_.upstreams[j] == u) {
        return absl::InvalidArgumentError(
            absl::StrCat("forwarder: upstream ", u.ToString(), " listed twice"));
      }
    }
  }
  if (options_.try_timeout <= absl::ZeroDuration() || options_.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("forwarder: try timeout and deadline must be positive");
  }
  if (options_.max_in_flight == 0) {
    return absl::InvalidArgumentError("forwarder: max in-flight queries must be at least 1");
  }
  if (!RandomIdSource::Available()) {
    return absl::InternalError(absl::StrCat("forwarder: getrandom: ", strerror(errno)));
  }
  epoll_.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) {
    return absl::InternalError(absl::StrCat("forwarder: epoll_create1: ", strerror(errno)));
  }
  wake_.Reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_.valid()) {
    return absl::InternalError(absl::StrCat("forwarder: eventfd: ", strerror(errno)));
  }
  auto watch = [this](int fd, uint64_t tag) -> absl::Status {
    epoll_event ev{};
    ev.events = EPOLLIN;  // EPOLLERR (the ICMP error queue) is always reported
    ev.data.u64 = tag;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return absl::InternalError(absl::StrCat("forwarder: epoll_ctl: ", strerror(errno)));
    }
    return absl::OkStatus();
  };
  CDNS_RETURN_IF_ERROR(watch(wake_.get(), kWakeTag));
  for (const UpstreamAddress& u : options_.upstreams) {
    std::optional<UpstreamSocket>& slot = u.family() == AF_INET6 ? udp6_ : udp4_;
    if (slot.has_value()) continue;
    auto socket = UpstreamSocket::Open(u.family());
    if (!socket.ok()) return socket.status();
    slot.emplace(std::move(*socket));
    CDNS_RETURN_IF_ERROR(watch(slot->fd(), u.family() == AF_INET6 ? kUdp6Tag : kUdp4Tag));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = true;
  }
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    return absl::ResourceExhaustedError(absl::StrCat("forwarder: thread: ", e.what()));
  }
  return absl::OkStatus();
}

void Forwarder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    stop_requested_ = true;
  }
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof(one));
    thread_.join();
  }
  udp4_.reset();
  udp6_.reset();
  wake_.Reset();
  epoll_.Reset();
}

bool Forwarder::Submit(ForwardRequest request) {
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!accepting_) return false;
  queue_.push_back({std::move(request), now});
  // Under the lock: Stop() closes the eventfd once accepting_ is false, never while we write.
  // EAGAIN only if the counter would overflow: the thread is already woken then.
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof(one));
  return true;
}

std::optional<UpstreamAddress> Forwarder::local_address(int family) const {
  const std::optional<UpstreamSocket>& s = family == AF_INET6 ? udp6_ : udp4_;
  if (!s.has_value()) return std::nullopt;
  return s->local();
}

void Forwarder::Run() {
  epoll_event events[kEpollEvents];
  std::vector<Pending> taken;
  bool stop = false;
  while (!stop) {
    const int n = ::epoll_wait(epoll_.get(), events, kEpollEvents, WaitTimeoutMs(Clock::now()));
    if (n < 0 && errno != EINTR) {
      ::usleep(kEpollErrorBackoffMs * 1000);
      continue;
    }
    const Clock::time_point now = Clock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) {
        uint64_t count;
        [[maybe_unused]] const ssize_t r = ::read(wake_.get(), &count, sizeof(count));
        std::lock_guard<std::mutex> lock(mutex_);
        taken.swap(queue_);
        stop = stop_requested_;
      } else if (tag == kUdp4Tag || tag == kUdp6Tag) {
        UpstreamSocket& socket = tag == kUdp4Tag ? *udp4_ : *udp6_;
        if ((events[i].events & EPOLLERR) != 0) ReadErrors(socket, now);
        if ((events[i].events & EPOLLIN) != 0) ReadAnswers(socket, now);
      } else {
        OnTcpEvents(tag, events[i].events, now);
      }
    }
    for (Pending& p : taken) Admit(std::move(p), now);
    taken.clear();
    // Timers after I/O: an answer that arrived in this wakeup wins over its timeout.
    while (!timers_.empty() && timers_.begin()->first <= now) {
      const uint64_t serial = timers_.begin()->second;
      timers_.erase(timers_.begin());
      auto it = queries_.find(serial);
      if (it == queries_.end()) continue;
      it->second->wake = Clock::time_point::max();
      OnTimer(*it->second, now);
    }
    if (options_.cache != nullptr && options_.cache->reclaim_pending() && now >= next_reclaim_) {
      options_.cache->Reclaim();
      next_reclaim_ = Clock::now() + reclaim_interval_;
    }
  }
  // Stopping: whatever was accepted gets its one reply.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    taken.swap(queue_);
  }
  for (Pending& p : taken) {
    BumpCounter(stats_->requests);
    auto parsed = ParseClientQuery(p.request.query);
    if (!parsed.ok()) {
      BumpCounter(stats_->formerr);
      Deliver(p.request.reply, BuildFormErr(p.request.query));
      continue;
    }
    BumpCounter(stats_->servfail[Index(ServfailCause::kStopped)]);
    Deliver(p.request.reply,
            BuildErrorReply(*parsed, p.request.query, records::kRcodeServFail));
  }
  std::vector<uint64_t> open;
  for (const auto& [serial, q] : queries_) open.push_back(serial);
  for (const uint64_t serial : open) FinishServfail(*queries_.at(serial), ServfailCause::kStopped);
}

int Forwarder::WaitTimeoutMs(Clock::time_point now) const {
  Clock::time_point wake = timers_.empty() ? Clock::time_point::max() : timers_.begin()->first;
  if (options_.cache != nullptr && options_.cache->reclaim_pending()) {
    wake = std::min(wake, next_reclaim_);
  }
  if (wake == Clock::time_point::max()) return -1;
  if (wake <= now) return 0;
  // Round up: waking a millisecond early would find nothing due and spin once more.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

void Forwarder::Admit(Pending pending, Clock::time_point now) {
  BumpCounter(stats_->requests);
  ForwardRequest& request = pending.request;
  auto parsed = ParseClientQuery(request.query);
  if (!parsed.ok()) {
    BumpCounter(stats_->formerr);
    Deliver(request.reply, BuildFormErr(request.query));
    return;
  }
  if (queries_.size() >= options_.max_in_flight) {
    BumpCounter(stats_->servfail[Index(ServfailCause::kCap)]);
    Deliver(request.reply, BuildErrorReply(*parsed, request.query, records::kRcodeServFail));
    return;
  }
  auto owned = std::make_unique<Query>();
  Query& q = *owned;
  q.serial = next_serial_++;
  q.bytes = std::move(request.query);
  q.transport = request.transport;
  q.reply = std::move(request.reply);
  q.parsed = std::move(*parsed);
  q.deadline = pending.submitted + deadline_;
  q.first = health_.ChooseFirst(now);
  q.hard_failed.assign(options_.upstreams.size(), false);
  queries_.emplace(q.serial, std::move(owned));
  stats_->in_flight.store(queries_.size(), std::memory_order_relaxed);
  StartNextTry(q, now);
}

void Forwarder::StartNextTry(Query& q, Clock::time_point now) {
  const uint32_t n = static_cast<uint32_t>(options_.upstreams.size());
  // n positions cover every upstream once: if none takes a try, all failed hard.
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t u = (q.first + q.tries_started++) % n;
    if (q.hard_failed[u]) continue;
    UpstreamStats& us = upstream_stats_[u];
    const std::optional<uint16_t> id = inflight_.Add(u, q.serial);
    if (!id.has_value()) {
      BumpCounter(us.errors);
      health_.RecordFailure(u, now);
      q.hard_failed[u] = true;
      continue;
    }
    const UpstreamAddress& to = options_.upstreams[u];
    const int error = SocketFor(to.family())->Send(to, WithId(q.bytes, *id));
    if (error != 0) {
      inflight_.Remove(u, *id);
      BumpCounter(us.errors);
      health_.RecordFailure(u, now);
      q.hard_failed[u] = true;
      continue;
    }
    BumpCounter(us.queries_sent);
    q.udp_tries.emplace_back(u, *id);
    q.current = u;
    q.try_expiry = std::min(now + try_timeout_, q.deadline);
    Reschedule(q);
    return;
  }
  GiveUp(q, ServfailCause::kUnreachable);
}

void Forwarder::StartTcp(Query& q, uint32_t upstream, Clock::time_point now) {
  UpstreamStats& us = upstream_stats_[upstream];
  BumpCounter(us.tcp_retries);
  const uint16_t id = inflight_.NextId();
  auto tcp = std::make_unique<TcpTry>(next_tcp_tag_++, upstream, id);
  const int error = tcp->Start(options_.upstreams[upstream], WithId(q.bytes, id));
  epoll_event ev{};
  ev.events = tcp->WantedEvents();
  ev.data.u64 = tcp->serial();
  if (error != 0 || ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, tcp->fd(), &ev) != 0) {
    BumpCounter(us.errors);
    FailHard(q, upstream, now);
    return;
  }
  tcp_owner_.emplace(tcp->serial(), q.serial);
  q.tcp = std::move(tcp);
  q.current = upstream;
  q.try_expiry = std::min(now + try_timeout_, q.deadline);
  Reschedule(q);
}

void Forwarder::OnTimer(Query& q, Clock::time_point now) {
  if (now < q.try_expiry && now < q.deadline) {
    Reschedule(q);
    return;
  }
  // The newest try (UDP or TCP) got nothing in time.
  if (q.current != kNoUpstream) {
    BumpCounter(upstream_stats_[q.current].timeouts);
    health_.RecordFailure(q.current, now);
  }
  if (now >= q.deadline) {
    GiveUp(q, ServfailCause::kDeadline);
    return;
  }
  if (q.tcp != nullptr) {
    // That upstream made us use TCP and then did not answer on it: asking it again over UDP
    // would only bring the same TC answer back.
    q.hard_failed[q.tcp->upstream()] = true;
    CloseTcp(q);
  }
  StartNextTry(q, now);
}

void Forwarder::FailHard(Query& q, uint32_t upstream, Clock::time_point now) {
  health_.RecordFailure(upstream, now);
  q.hard_failed[upstream] = true;
  if (q.tcp != nullptr && q.tcp->upstream() == upstream) CloseTcp(q);
  // An older try failing does not hurry the newest one.
  if (upstream == q.current) StartNextTry(q, now);
}

void Forwarder::ReadAnswers(UpstreamSocket& socket, Clock::time_point now) {
  for (int i = 0; i < kDatagramsPerWakeup; ++i) {
    UpstreamAddress from;
    const ssize_t n = socket.Receive(receive_buffer_.get(), records::kMaxMessageSize, &from);
    if (n < 0) return;
    const std::optional<uint32_t> upstream = FindUpstream(from);
    if (!upstream.has_value()) {
      Drop(ForwardDropReason::kUnexpectedSource);
      continue;
    }
    OnUdpAnswer(*upstream, {receive_buffer_.get(), static_cast<size_t>(n)}, now);
  }
}

void Forwarder::ReadErrors(UpstreamSocket& socket, Clock::time_point now) {
  UpstreamSocket::QueuedError error;
  for (int i = 0; i < kErrorsPerWakeup && socket.ReadError(&error); ++i) {
    const std::optional<uint32_t> upstream = FindUpstream(error.destination);
    if (!upstream.has_value() || !error.has_id) continue;
    const std::optional<uint64_t> serial = inflight_.Find(*upstream, error.id);
    if (!serial.has_value()) continue;  // that query already finished
    auto it = queries_.find(*serial);
    if (it == queries_.end()) continue;
    BumpCounter(upstream_stats_[*upstream].errors);
    FailHard(*it->second, *upstream, now);
  }
}

void Forwarder::OnUdpAnswer(uint32_t upstream, std::span<const uint8_t> answer,
                            Clock::time_point now) {
  if (answer.size() < records::kHeaderSize) {
    Drop(ForwardDropReason::kMalformed);
    return;
  }
  const std::optional<uint64_t> serial = inflight_.Find(upstream, records::LoadBe16(answer.data()));
  if (!serial.has_value()) {
    Drop(ForwardDropReason::kSpoofedId);
    return;
  }
  Query& q = *queries_.at(*serial);
  switch (CheckAnswer(q.parsed, answer)) {
    case AnswerCheck::kOk: break;
    case AnswerCheck::kMalformed: Drop(ForwardDropReason::kMalformed); return;
    case AnswerCheck::kQuestionMismatch: Drop(ForwardDropReason::kSpoofedQuestion); return;
  }
  BumpCounter(upstream_stats_[upstream].answers);
  health_.RecordAnswer(upstream);
  if (!IsTruncated(answer)) {
    FinishRelay(q, answer);
    return;
  }
  if (q.truncated_answer.empty()) q.truncated_answer.assign(answer.begin(), answer.end());
  // One TCP try at a time; and not to an upstream whose TCP already failed for this query.
  if (q.tcp != nullptr || q.hard_failed[upstream]) return;
  StartTcp(q, upstream, now);
}

void Forwarder::OnTcpEvents(uint64_t tag, uint32_t events, Clock::time_point now) {
  auto owner = tcp_owner_.find(tag);
  if (owner == tcp_owner_.end()) return;  // closed earlier in this wakeup
  Query& q = *queries_.at(owner->second);
  TcpTry& tcp = *q.tcp;
  const uint32_t upstream = tcp.upstream();
  const uint32_t before = tcp.WantedEvents();
  switch (tcp.OnEvents(events)) {
    case TcpTry::Progress::kPending:
      if (tcp.WantedEvents() != before) {
        epoll_event ev{};
        ev.events = tcp.WantedEvents();
        ev.data.u64 = tag;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, tcp.fd(), &ev);
      }
      return;
    case TcpTry::Progress::kFailed:
      if (tcp.bad_frame()) Drop(ForwardDropReason::kMalformed);
      BumpCounter(upstream_stats_[upstream].errors);
      FailHard(q, upstream, now);
      return;
    case TcpTry::Progress::kDone:
      break;
  }
  const std::span<const uint8_t> answer = tcp.answer();
  ForwardDropReason reason = ForwardDropReason::kCount;
  if (records::LoadBe16(answer.data()) != tcp.id()) {
    reason = ForwardDropReason::kSpoofedId;
  } else {
    switch (CheckAnswer(q.parsed, answer)) {
      case AnswerCheck::kOk: break;
      case AnswerCheck::kMalformed: reason = ForwardDropReason::kMalformed; break;
      case AnswerCheck::kQuestionMismatch: reason = ForwardDropReason::kSpoofedQuestion; break;
    }
  }
  if (reason != ForwardDropReason::kCount) {
    // The connection carried one answer and it was wrong: that upstream is done for this query.
    Drop(reason);
    BumpCounter(upstream_stats_[upstream].errors);
    FailHard(q, upstream, now);
    return;
  }
  BumpCounter(upstream_stats_[upstream].answers);
  health_.RecordAnswer(upstream);
  FinishRelay(q, answer);
}

void Forwarder::GiveUp(Query& q, ServfailCause cause) {
  if (!q.truncated_answer.empty()) {
    const std::vector<uint8_t> answer = std::move(q.truncated_answer);
    FinishRelay(q, answer);
    return;
  }
  FinishServfail(q, cause);
}

void Forwarder::FinishRelay(Query& q, std::span<const uint8_t> answer) {
  BumpCounter(stats_->relayed);
  // Only answers to plain queries: an upstream need not echo CD (Knot does not) nor DO, and the
  // cache must never hand an answer meant for a DNSSEC-checking client to one that is not.
  if (options_.cache != nullptr && !q.parsed.edns_do && !(q.parsed.flags & records::kFlagCd)) {
    options_.cache->Offer(answer, records::CacheNow());
  }
  std::vector<uint8_t> reply;
  if (answer.size() > ReplyLimit(q.parsed, q.transport)) {
    BumpCounter(stats_->truncated_for_client);
    reply = BuildTruncatedReply(q.parsed, q.bytes, answer);
  } else {
    reply = BuildRelay(q.parsed, q.bytes, answer);
  }
  Complete(q, std::move(reply));
}

void Forwarder::FinishServfail(Query& q, ServfailCause cause) {
  BumpCounter(stats_->servfail[Index(cause)]);
  Complete(q, BuildErrorReply(q.parsed, q.bytes, records::kRcodeServFail));
}

void Forwarder::Complete(Query& q, std::vector<uint8_t> reply) {
  for (const auto& [upstream, id] : q.udp_tries) inflight_.Remove(upstream, id);
  CloseTcp(q);
  if (q.wake != Clock::time_point::max()) timers_.erase({q.wake, q.serial});
  const ReplyCallback callback = std::move(q.reply);
  queries_.erase(q.serial);  // destroys q
  stats_->in_flight.store(queries_.size(), std::memory_order_relaxed);
  Deliver(callback, reply);
}

void Forwarder::CloseTcp(Query& q) {
  if (q.tcp == nullptr) return;
  tcp_owner_.erase(q.tcp->serial());
  q.tcp.reset();  // closing the only descriptor also removes it from the epoll set
}

void Forwarder::Reschedule(Query& q) {
  const Clock::time_point wake = std::min(q.try_expiry, q.deadline);
  if (wake == q.wake) return;
  if (q.wake != Clock::time_point::max()) timers_.erase({q.wake, q.serial});
  q.wake = wake;
  timers_.emplace(wake, q.serial);
}

void Forwarder::Drop(ForwardDropReason reason) { BumpCounter(stats_->dropped[Index(reason)]); }

void Forwarder::Deliver(const ReplyCallback& callback, std::span<const uint8_t> reply) {
  if (!callback) return;
  try {
    callback(reply);
  } catch (...) {
    // The caller's code: never let it unwind through the loop.
    BumpCounter(stats_->callback_errors);
  }
}

std::optional<uint32_t> Forwarder::FindUpstream(const UpstreamAddress& from) const {
  for (size_t i = 0; i < options_.upstreams.size(); ++i) {
    if (options_.upstreams[i] == from) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

UpstreamSocket* Forwarder::SocketFor(int family) {
  return family == AF_INET6 ? &*udp6_ : &*udp4_;
}

}  // namespace clusterdns::controlplane
