// Forwarder: the slow-path engine that sends queries for names outside every served zone
// (respond()'s Verdict::kForward) to upstream nameservers and relays their answers.
//
// One thread of its own, an epoll loop over: an eventfd (new requests, Stop), one UDP socket per
// upstream address family (upstream_socket.h), the TCP connections of truncated answers
// (tcp_try.h), and a timer per query.
//
// Per query:
//   - Admitted when the thread takes it from the queue, unless max_in_flight queries are already
//     in flight: then SERVFAIL at once (ServfailCause::kCap). A query that cannot be parsed
//     (forward_message.h) gets FORMERR.
//   - Tries: the first goes to the upstream UpstreamHealth picks (round-robin among the
//     healthiest); each later one to the next upstream in list order, wrapping, skipping those
//     that failed hard for this query. A try is the client's query with a fresh random ID
//     (inflight_table.h), the rest byte for byte (the OPT passes through as is). After
//     try_timeout without an answer the next try starts; earlier tries stay open, so a late
//     answer to any of them still completes the query. An ICMP unreachable or a send error fails
//     the try at once (hard: that upstream is not asked again for this query).
//   - An answer is accepted only from the exact address and port of the upstream it was sent to,
//     with the ID of an open try to that upstream, QR set, and the question (qname without case,
//     qtype, qclass) of the query. Anything else is dropped and counted (ForwardDropReason); the
//     try stays open for the real answer.
//   - A truncated (TC) answer: the query is sent again over TCP to the same upstream (tcp_try.h),
//     with the try timeout; the TC answer is kept and relayed if nothing better arrives.
//   - The reply: the answer relayed with the client's ID and question bytes, truncated if larger
//     than the client can take (ForwardRequest::transport); or SERVFAIL when `deadline` passes
//     (measured from Submit) or every upstream failed hard (forward_message.h for the formats).
//     An upstream's own SERVFAIL, REFUSED or NXDOMAIN is an answer: relayed as it is.
//   - A relayed answer to a query without DO and CD is offered to options.cache (if any) before
//     the reply is delivered, so the client's next query for the name can already be answered
//     from it.
//   - The request queue has no bound of its own: the thread drains all of it on every wakeup,
//     and the cap applies as it does.
//
// Threads: Submit() from any thread; Start()/Stop() from one owning thread; stats readable from
// any thread at any time (forwarder_stats.h). Reply callbacks run on the forwarder thread, exactly
// once per request Submit() accepted, and must not block or call Stop() (Submit() is fine).
//
// Usage:
//   ForwarderOptions options;
//   options.upstreams = config.upstreams;          // upstream_list.h
//   Forwarder forwarder(options);
//   CDNS_RETURN_IF_ERROR(forwarder.Start());
//   forwarder.Submit({std::vector<uint8_t>(query, query + len), records::Transport::kUdp,
//                     [](std::span<const uint8_t> reply) { /* send it to the client */ }});
//   ...
//   forwarder.Stop();  // in-flight queries get SERVFAIL (kStopped); the thread is joined
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controlplane/forward/forward_message.h"
#include "controlplane/forward/forwarder_stats.h"
#include "controlplane/forward/inflight_table.h"
#include "controlplane/forward/upstream_health.h"
#include "controlplane/forward/upstream_list.h"
#include "controlplane/forward/upstream_socket.h"
#include "controlplane/listen/query_forwarder.h"
#include "controlplane/listen/unique_fd.h"
#include "records/answer_cache.h"
#include "records/respond.h"

namespace clusterdns::controlplane {

struct ForwarderOptions {
  // Tried as described above; 1..kMaxUpstreams distinct addresses.
  std::vector<UpstreamAddress> upstreams;
  // How long one try waits before the next upstream is asked. 500 ms is well above a healthy
  // resolver's cache-miss time on a LAN and leaves room for 4 tries in the deadline.
  absl::Duration try_timeout = absl::Milliseconds(500);
  // From Submit to the SERVFAIL: 2 s, below the 5 s a stub resolver (glibc, musl) waits per
  // try, so the client gets an answer before it gives up on us.
  absl::Duration deadline = absl::Seconds(2);
  // Queries in flight at once; beyond it, SERVFAIL at once. 1024 queries of ~4 KiB each at most.
  size_t max_in_flight = 1024;
  // A failing upstream is tried first again this long after its last failure (upstream_health.h).
  absl::Duration health_recheck = absl::Seconds(5);
  // Where relayed upstream answers are offered for caching (records/answer_cache.h); null: none.
  // The forwarder thread is then the cache's writer: it offers each relayed answer before the
  // reply goes to the client, and frees what the cache unlinked (AnswerCache::Reclaim) at most
  // every reclaim_interval, waiting out a grace period of the cache's readers.
  records::AnswerCache* cache = nullptr;
  absl::Duration reclaim_interval = absl::Milliseconds(10);
};

// Upstreams a Forwarder takes: IDs are unique per upstream in a 16-bit space keyed beside it.
inline constexpr size_t kMaxUpstreams = 64;

using ReplyCallback = std::function<void(std::span<const uint8_t> reply)>;

struct ForwardRequest {
  std::vector<uint8_t> query;  // the client's query, as received (a copy the forwarder owns)
  // How the client asked: the relayed answer must fit its limit (forward_message.h ReplyLimit).
  records::Transport transport = records::Transport::kUdp;
  ReplyCallback reply;  // called once, on the forwarder thread, with the final message
};

class Forwarder final : public QueryForwarder {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Forwarder(ForwarderOptions options);
  ~Forwarder();  // Stop()
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Checks the options, opens the sockets and starts the thread. Once per Forwarder (a failed
  // Start is not retried: build a new Forwarder).
  absl::Status Start();
  // Stops taking requests, answers everything queued or in flight with SERVFAIL (kStopped),
  // closes the sockets and joins the thread. Idempotent; not from a reply callback.
  void Stop();

  // Queues a request for the forwarder thread. False (and the callback is dropped, never called)
  // when the forwarder is not running: before Start, after Stop.
  bool Submit(ForwardRequest request);
  // QueryForwarder, for the kernel-socket listeners: Submit.
  bool Forward(std::vector<uint8_t> query, records::Transport transport, Reply reply) override {
    return Submit(ForwardRequest{std::move(query), transport, std::move(reply)});
  }

  size_t upstream_count() const { return options_.upstreams.size(); }
  const UpstreamAddress& upstream(size_t i) const { return options_.upstreams.at(i); }
  // i < upstream_count().
  const UpstreamStats& upstream_stats(size_t i) const { return upstream_stats_[i]; }
  const ForwarderStats& stats() const { return *stats_; }
  // The local address of the UDP socket for `family` (after Start), e.g. for a test to know
  // the forwarder's source port; nullopt if no upstream has that family.
  std::optional<UpstreamAddress> local_address(int family) const;

 private:
  struct Query;
  struct Pending {
    ForwardRequest request;
    Clock::time_point submitted;
  };

  void Run();
  void Admit(Pending pending, Clock::time_point now);
  void StartNextTry(Query& q, Clock::time_point now);
  void StartTcp(Query& q, uint32_t upstream, Clock::time_point now);
  void OnTimer(Query& q, Clock::time_point now);
  void ReadAnswers(UpstreamSocket& socket, Clock::time_point now);
  void ReadErrors(UpstreamSocket& socket, Clock::time_point now);
  void OnUdpAnswer(uint32_t upstream, std::span<const uint8_t> answer, Clock::time_point now);
  void OnTcpEvents(uint64_t tag, uint32_t events, Clock::time_point now);
  // A try to `upstream` failed at once: no more tries to it for this query; the next one starts.
  void FailHard(Query& q, uint32_t upstream, Clock::time_point now);
  // Gives up: relays the kept truncated answer if there is one, else SERVFAIL for `cause`.
  void GiveUp(Query& q, ServfailCause cause);
  void FinishRelay(Query& q, std::span<const uint8_t> answer);
  void FinishServfail(Query& q, ServfailCause cause);
  // Releases everything the query holds, forgets it, and calls its callback with `reply`.
  void Complete(Query& q, std::vector<uint8_t> reply);
  void CloseTcp(Query& q);
  void Reschedule(Query& q);
  void Drop(ForwardDropReason reason);
  void Deliver(const ReplyCallback& callback, std::span<const uint8_t> reply);
  std::optional<uint32_t> FindUpstream(const UpstreamAddress& from) const;
  UpstreamSocket* SocketFor(int family);
  int WaitTimeoutMs(Clock::time_point now) const;

  ForwarderOptions options_;
  Clock::duration try_timeout_;
  Clock::duration deadline_;
  Clock::duration reclaim_interval_;
  std::unique_ptr<ForwarderStats> stats_;
  std::unique_ptr<UpstreamStats[]> upstream_stats_;
  UpstreamHealth health_;
  InflightTable inflight_;

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: Submit and Stop
  std::optional<UpstreamSocket> udp4_;
  std::optional<UpstreamSocket> udp6_;
  std::thread thread_;
  bool started_ = false;

  std::mutex mutex_;  // guards the three below
  std::vector<Pending> queue_;
  bool accepting_ = false;
  bool stop_requested_ = false;

  // Forwarder thread only from here.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Query>> queries_;  // by serial
  std::set<std::pair<Clock::time_point, uint64_t>> timers_;        // (wake, query serial)
  absl::flat_hash_map<uint64_t, uint64_t> tcp_owner_;              // TCP tag → query serial
  uint64_t next_serial_ = 1;
  Clock::time_point next_reclaim_{};
  uint64_t next_tcp_tag_;
  std::unique_ptr<uint8_t[]> receive_buffer_;  // one UDP datagram, up to 65535 bytes
};

}  // namespace clusterdns::controlplane
