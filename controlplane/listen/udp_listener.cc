// The UDP listener's loop: poll, recvmmsg, RespondBurst, sendmmsg.
#include "controlplane/listen/udp_listener.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <thread>

#include "records/answer_cache.h"

namespace clusterdns::controlplane {
namespace {

// Room for one IP_PKTINFO or IPV6_PKTINFO control message (the larger of the two).
constexpr size_t kControlRoom = CMSG_SPACE(sizeof(in6_pktinfo));
static_assert(kControlRoom >= CMSG_SPACE(sizeof(in_pktinfo)));

// After an unexpected poll() failure (ENOMEM), wait this long instead of spinning.
constexpr auto kPollErrorBackoff = std::chrono::milliseconds(10);

// The control message that makes a reply leave from the address the query `in` was sent to
// (IP_PKTINFO / IPV6_PKTINFO), written to `control` (kControlRoom bytes); its length, 0 if the
// query carried none.
size_t ReplyControl(const msghdr& in, uint8_t* control) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&in); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&in), c)) {
    msghdr out{};
    out.msg_control = control;
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      info.ipi_spec_dst = info.ipi_addr;
      info.ipi_ifindex = 0;  // let the route choose the interface
      out.msg_controllen = CMSG_SPACE(sizeof(info));
      cmsghdr* s = CMSG_FIRSTHDR(&out);
      s->cmsg_level = IPPROTO_IP;
      s->cmsg_type = IP_PKTINFO;
      s->cmsg_len = CMSG_LEN(sizeof(info));
      std::memcpy(CMSG_DATA(s), &info, sizeof(info));
      return out.msg_controllen;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;  // keeps the interface index: needed for link-local addresses
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      out.msg_controllen = CMSG_SPACE(sizeof(info));
      cmsghdr* s = CMSG_FIRSTHDR(&out);
      s->cmsg_level = IPPROTO_IPV6;
      s->cmsg_type = IPV6_PKTINFO;
      s->cmsg_len = CMSG_LEN(sizeof(info));
      std::memcpy(CMSG_DATA(s), &info, sizeof(info));
      return out.msg_controllen;
    }
  }
  return 0;
}

// Where a forwarded query's reply goes: the listener's socket (open until the forwarder has
// stopped), the client, and the address it asked.
struct UdpReturnAddress {
  int fd = -1;
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  alignas(cmsghdr) uint8_t control[kControlRoom];
  size_t control_len = 0;
};

void SendForwardedReply(const UdpReturnAddress& to, std::span<const uint8_t> reply,
                        UdpListenerStats* stats) {
  iovec iov{const_cast<uint8_t*>(reply.data()), reply.size()};
  msghdr h{};
  h.msg_name = const_cast<sockaddr_storage*>(&to.peer);
  h.msg_namelen = to.peer_len;
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  if (to.control_len > 0) {
    h.msg_control = const_cast<uint8_t*>(to.control);
    h.msg_controllen = to.control_len;
  }
  if (::sendmsg(to.fd, &h, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    BumpCounter(stats->send_errors);
  } else {
    BumpCounter(stats->replies_sent);
  }
}

}  // namespace

struct UdpListener::Slot {
  uint8_t buf[records::kUdpResponseRoom];  // the query, answered in place
  sockaddr_storage peer;
  iovec recv_iov;
  iovec send_iov;
  alignas(cmsghdr) uint8_t recv_control[kControlRoom];
  alignas(cmsghdr) uint8_t send_control[kControlRoom];
};

UdpListener::UdpListener(UniqueFd socket, ListenAddress bound, bool pktinfo,
                         ListenerContext context)
    : socket_(std::move(socket)),
      bound_(bound),
      pktinfo_(pktinfo),
      context_(std::move(context)),
      counters_(std::make_unique<records::QueryCounters>()),
      stats_(std::make_unique<UdpListenerStats>()),
      slots_(std::make_unique<Slot[]>(kUdpBatch)),
      recv_msgs_(std::make_unique<mmsghdr[]>(kUdpBatch)),
      send_msgs_(std::make_unique<mmsghdr[]>(kUdpBatch)) {
  context_.options.respond.transport = records::Transport::kUdp;
}

UdpListener::~UdpListener() = default;

void UdpListener::Run(int stop_fd) {
  records::EpochGracePeriod& grace = *context_.grace;
  const size_t id = context_.reader_id;
  pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    // Offline while blocked: a Publish() must not wait for a listener that has no traffic.
    grace.Offline(id);
    const int ready = ::poll(fds, 2, -1);
    if (ready < 0) {
      if (errno != EINTR) std::this_thread::sleep_for(kPollErrorBackoff);
      continue;
    }
    if (fds[1].revents != 0) break;
    grace.Online(id);
    for (int i = 0; i < kUdpBatchesPerWakeup; ++i) {
      const size_t received = ServeBatch();
      // Once per batch, also when it was empty: the batch's table pointer is dead from here.
      grace.Quiescent(id);
      if (received < kUdpBatch) break;
    }
  }
  grace.Offline(id);
}

size_t UdpListener::ServeBatch() {
  Slot* slots = slots_.get();
  mmsghdr* msgs = recv_msgs_.get();
  for (size_t i = 0; i < kUdpBatch; ++i) {
    // recvmmsg writes the lengths back: reset them every batch.
    slots[i].recv_iov = {slots[i].buf, sizeof(slots[i].buf)};
    msghdr& h = msgs[i].msg_hdr;
    h = {};
    h.msg_name = &slots[i].peer;
    h.msg_namelen = sizeof(slots[i].peer);
    h.msg_iov = &slots[i].recv_iov;
    h.msg_iovlen = 1;
    if (pktinfo_) {
      h.msg_control = slots[i].recv_control;
      h.msg_controllen = sizeof(slots[i].recv_control);
    }
    msgs[i].msg_len = 0;
  }
  int n;
  do {
    n = ::recvmmsg(socket_.get(), msgs, kUdpBatch, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;  // EAGAIN: another wakeup drained it; other errors: back to poll
  const size_t count = static_cast<size_t>(n);
  BumpCounter(stats_->batches);
  BumpCounter(stats_->datagrams, count);

  // Loaded once per batch, after Online(): valid until the Quiescent() that follows the batch.
  const records::AnswerTable* table = context_.publisher->Current();
  if (table == nullptr) {
    BumpCounter(stats_->no_table, count);
    return count;
  }

  records::RespondJob jobs[kUdpBatch];
  size_t job_slot[kUdpBatch];
  size_t jobs_count = 0;
  for (size_t i = 0; i < count; ++i) {
    if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      BumpCounter(stats_->oversize);
      continue;
    }
    jobs[jobs_count] = {slots[i].buf, static_cast<uint16_t>(msgs[i].msg_len),
                        static_cast<uint16_t>(sizeof(slots[i].buf)), {}};
    job_slot[jobs_count] = i;
    ++jobs_count;
  }
  records::RespondOptions respond = context_.options.respond;
  if (respond.cache != nullptr) respond.now = records::CacheNow();
  records::RespondBurst(*table, jobs, jobs_count, respond);

  mmsghdr* out = send_msgs_.get();
  size_t replies = 0;
  for (size_t j = 0; j < jobs_count; ++j) {
    const records::RespondResult& r = jobs[j].result;
    counters_->Count(r);
    if (r.verdict == records::Verdict::kForward) {
      Forward(slots[job_slot[j]], msgs[job_slot[j]]);
      continue;
    }
    if (r.verdict != records::Verdict::kReply) continue;
    Slot& slot = slots[job_slot[j]];
    const msghdr& in = msgs[job_slot[j]].msg_hdr;
    slot.send_iov = {slot.buf, r.size};
    msghdr& h = out[replies].msg_hdr;
    h = {};
    h.msg_name = &slot.peer;
    h.msg_namelen = in.msg_namelen;
    h.msg_iov = &slot.send_iov;
    h.msg_iovlen = 1;
    if (pktinfo_) {
      // Reply from the address the query was sent to: with a wildcard bind the kernel would
      // otherwise pick the source by route, and the client would ignore the reply.
      const size_t control = ReplyControl(in, slot.send_control);
      if (control > 0) {
        h.msg_control = slot.send_control;
        h.msg_controllen = control;
      }
    }
    ++replies;
  }
  SendReplies(replies);
  return count;
}

void UdpListener::SendReplies(size_t count) {
  mmsghdr* out = send_msgs_.get();
  size_t sent = 0;
  while (sent < count) {
    const int n = ::sendmmsg(socket_.get(), out + sent, static_cast<unsigned>(count - sent), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // sendmmsg fails only when the first message does: skip that one reply, send the rest.
      BumpCounter(stats_->send_errors);
      ++sent;
      continue;
    }
    BumpCounter(stats_->replies_sent, static_cast<uint64_t>(n));
    sent += static_cast<size_t>(n);
  }
}

void UdpListener::Forward(const Slot& slot, const mmsghdr& msg) {
  QueryForwarder* forwarder = context_.options.forwarder;
  if (forwarder == nullptr) {
    BumpCounter(stats_->forward_dropped);
    return;
  }
  auto to = std::make_shared<UdpReturnAddress>();
  to->fd = socket_.get();
  std::memcpy(&to->peer, &slot.peer, sizeof(to->peer));
  to->peer_len = msg.msg_hdr.msg_namelen;
  if (pktinfo_) to->control_len = ReplyControl(msg.msg_hdr, to->control);
  UdpListenerStats* stats = stats_.get();
  std::vector<uint8_t> query(slot.buf, slot.buf + msg.msg_len);
  const bool taken = forwarder->Forward(
      std::move(query), records::Transport::kUdp,
      [to, stats](std::span<const uint8_t> reply) { SendForwardedReply(*to, reply, stats); });
  BumpCounter(taken ? stats_->forwarded : stats_->forward_dropped);
}

}  // namespace clusterdns::controlplane
