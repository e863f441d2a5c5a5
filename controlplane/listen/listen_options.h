// DnsListenerOptions: the knobs of the kernel-socket DNS listeners (controlplane/listen/).
// A plain value, copied into each listener at Bind().
#pragma once

#include <cstddef>

#include "absl/time/time.h"
#include "controlplane/listen/query_forwarder.h"
#include "records/respond.h"
#include "records/table_publisher.h"

namespace clusterdns::controlplane {

struct DnsListenerOptions {
  // respond() options; `transport` is set by each listener (kUdp / kTcp). With
  // refuse_outside_zones = false a kForward verdict goes to `forwarder`, or is dropped and
  // counted without one.
  records::RespondOptions respond;
  // Names in no served zone (--upstream); not owned, stopped before the listeners. nullptr: none.
  QueryForwarder* forwarder = nullptr;
  // Open TCP connections per listener; beyond it a new connection is accepted and closed at once
  // (counted as TcpCloseReason::kCap). 1024 x ~8 KiB of buffers is a few MiB at worst.
  int max_tcp_connections = 1024;
  // RFC 7766 section 6.2.3: servers close idle connections; a few seconds is what BIND and
  // Unbound use. Also bounds how long a client that does not read its responses holds us.
  absl::Duration tcp_idle_timeout = absl::Seconds(10);
  // A partial frame (length prefix or body) must complete within this from its first byte, so a
  // client trickling bytes (slowloris) cannot hold a connection slot.
  absl::Duration tcp_read_timeout = absl::Seconds(2);
  // Queries answered per connection per wakeup before the thread serves other connections, so one
  // client pipelining thousands of queries cannot starve the rest.
  size_t max_tcp_pipeline = 64;
};

// What one listener thread needs from the process: where tables come from, its reader id in the
// grace period (the thread is offline while it waits in poll/epoll_wait), and the options.
struct ListenerContext {
  records::TablePublisher* publisher = nullptr;  // not owned; outlives the listener
  records::EpochGracePeriod* grace = nullptr;    // not owned; has a slot for reader_id
  size_t reader_id = 0;
  DnsListenerOptions options;
};

}  // namespace clusterdns::controlplane
