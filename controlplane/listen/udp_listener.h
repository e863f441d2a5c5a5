// UdpListener: answers DNS over one bound UDP socket, a batch at a time.
//
// Run() is the body of one thread: it waits in poll() on the socket and a stop fd, then takes up to
// kUdpBatch datagrams with one recvmmsg, loads the current table ONCE for the batch, answers them
// in place with records::RespondBurst, and sends the replies with one sendmmsg. While it waits it
// is offline in the grace period (a writer never waits for an idle listener); it goes online
// before it loads the table and reports quiescence after each batch.
//
// What is not answered is counted, never silently lost: respond()'s drops (short header, QR=1) in
// counters(); datagrams the kernel truncated (larger than records::kUdpResponseRoom), queries that
// arrive before the first table is published (dropped, so the client retries rather than giving
// up on a SERVFAIL) and kForward verdicts (no forwarder yet) in stats().
//
// Threads: Run() on one thread; counters() and stats() may be read from any thread at any time.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "controlplane/listen/listen_address.h"
#include "controlplane/listen/listen_options.h"
#include "controlplane/listen/listener_stats.h"
#include "controlplane/listen/unique_fd.h"
#include "records/query_counters.h"
#include "records/respond.h"

namespace clusterdns::controlplane {

// Datagrams per recvmmsg/sendmmsg: the respond() burst size (STYLE.md example 1).
inline constexpr size_t kUdpBatch = records::kMaxBurst;
// Full batches answered per wakeup before the thread looks at the stop fd again.
inline constexpr int kUdpBatchesPerWakeup = 16;

class UdpListener {
 public:
  // `socket` is a bound, non-blocking UDP socket; `pktinfo`: it delivers IP(V6)_PKTINFO, and
  // replies are sent from the address each query was sent to (wildcard binds).
  UdpListener(UniqueFd socket, ListenAddress bound, bool pktinfo, ListenerContext context);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Serves until `stop_fd` is readable. Leaves the reader offline when it returns.
  void Run(int stop_fd);

  // Closes the socket (after Run() returned, or instead of it). Counters stay readable.
  void CloseSocket() { socket_.Reset(); }

  const ListenAddress& address() const { return bound_; }
  const records::QueryCounters& counters() const { return *counters_; }
  const UdpListenerStats& stats() const { return *stats_; }

 private:
  struct Slot;
  // One recvmmsg, answer, sendmmsg. Returns the datagrams received (0: none waiting).
  size_t ServeBatch();
  void SendReplies(size_t count);
  // A query whose name is in no served zone: to the forwarder, whose reply is sent from this
  // socket to the client later, from the forwarder's thread.
  void Forward(const Slot& slot, const mmsghdr& msg);

  UniqueFd socket_;
  ListenAddress bound_;
  bool pktinfo_;
  ListenerContext context_;
  std::unique_ptr<records::QueryCounters> counters_;
  std::unique_ptr<UdpListenerStats> stats_;
  std::unique_ptr<Slot[]> slots_;  // kUdpBatch buffers, allocated once
  std::unique_ptr<mmsghdr[]> recv_msgs_;
  std::unique_ptr<mmsghdr[]> send_msgs_;
};

}  // namespace clusterdns::controlplane
