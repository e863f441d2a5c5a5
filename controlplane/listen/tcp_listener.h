// TcpListener: answers DNS over TCP (RFC 7766) on one listening socket, from one thread.
//
// Run() is the thread body: one epoll set holds the listening socket, the stop fd and every
// connection (level-triggered). Per connection: several queries, pipelined (each complete frame
// answered in order, responses written with their 2-byte length, Transport::kTcp); partial writes
// queued and finished on EPOLLOUT; reading paused while unsent responses reach
// kTcpWriteHighWater; at most options.max_tcp_pipeline queries per connection per wakeup before
// the others get a turn. Closed, each counted by TcpCloseReason: a frame shorter than a DNS header,
// no activity for tcp_idle_timeout, a partial frame older than tcp_read_timeout, responses
// unwritable for tcp_idle_timeout, connections beyond max_tcp_connections (accepted and closed at
// once), errors. One connection's trouble never touches another's.
//
// Grace period: offline while in epoll_wait; online, then the table loaded once per wakeup, and
// quiescent at the end of the wakeup. Queries that arrive before the first table is published are
// dropped and counted (stats().no_table), as over UDP.
//
// Threads: Run() on one thread; counters() and stats() may be read from any thread at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "controlplane/listen/listen_address.h"
#include "controlplane/listen/listen_options.h"
#include "controlplane/listen/listener_stats.h"
#include "controlplane/listen/tcp_connection.h"
#include "controlplane/listen/unique_fd.h"
#include "records/answer_table.h"
#include "records/query_counters.h"

namespace clusterdns::controlplane {

class TcpListener {
 public:
  // `socket` is a bound, listening, non-blocking TCP socket.
  TcpListener(UniqueFd socket, ListenAddress bound, ListenerContext context);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Creates the epoll set and registers the listening socket. Once, before Run().
  absl::Status Init();

  // Serves until `stop_fd` is readable, then closes every connection (TcpCloseReason::kStopped).
  // Leaves the reader offline when it returns. Call once.
  void Run(int stop_fd);

  // Closes the socket (after Run() returned, or instead of it). Counters stay readable.
  void CloseSocket() { socket_.Reset(); }

  const ListenAddress& address() const { return bound_; }
  const records::QueryCounters& counters() const { return *counters_; }
  const TcpListenerStats& stats() const { return *stats_; }

 private:
  using Clock = TcpConnection::Clock;

  void AcceptAll(Clock::time_point now);
  void HandleEvents(uint64_t id, uint32_t events, Clock::time_point now);
  // Answers complete frames (up to the pipeline limit), flushes, then Update(). False if closed.
  bool Serve(uint64_t id, TcpConnection& conn, Clock::time_point now);
  // Closes a finished connection, else sets its epoll interest, work-list entry and deadline.
  void Update(uint64_t id, TcpConnection& conn);
  void Answer(uint64_t id, TcpConnection& conn, const uint8_t* query, size_t length,
              Clock::time_point now);
  // Forwarder thread: queues a forwarded query's reply for connection `id` and wakes the loop.
  void PostForwarded(uint64_t id, std::span<const uint8_t> reply);
  // Listener thread: sends the queued replies on their connections (if still open).
  void DeliverForwarded(Clock::time_point now);
  void Close(uint64_t id, TcpCloseReason reason);
  void Sweep(Clock::time_point now);
  void SetInterest(uint64_t id, TcpConnection& conn, uint32_t events);
  int WaitTimeoutMs(Clock::time_point now) const;

  UniqueFd socket_;
  ListenAddress bound_;
  ListenerContext context_;
  Clock::duration idle_timeout_;
  Clock::duration read_timeout_;
  std::unique_ptr<records::QueryCounters> counters_;
  std::unique_ptr<TcpListenerStats> stats_;

  // Thread-owned state (Run()).
  UniqueFd epoll_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<TcpConnection>> connections_;
  UniqueFd forwarded_event_;  // eventfd: PostForwarded → the loop
  std::mutex forwarded_mu_;   // guards forwarded_
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> forwarded_;
  uint64_t next_id_;                       // epoll data: an id, never a reused fd number
  std::vector<uint64_t> work_;             // connections with answerable frames left over
  std::vector<uint64_t> work_now_;         // the previous wakeup's work_, being served
  Clock::time_point next_sweep_;           // no deadline passes before this
  Clock::time_point accept_resume_;        // accepting paused (EMFILE) until then
  bool accept_paused_ = false;
  const records::AnswerTable* table_ = nullptr;  // this wakeup's table (null outside a wakeup)
  std::unique_ptr<uint8_t[]> scratch_;     // records::kTcpResponseRoom: a query answered in place
};

}  // namespace clusterdns::controlplane
