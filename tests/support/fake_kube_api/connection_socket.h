// Finding and probing the server-side socket of an httplib request, for the fake Kubernetes API
// server: cpp-httplib 0.11 gives handlers no socket, yet a watch that sends nothing must still
// notice that its client hung up (so open_watches() counts only live streams).
//
// Thread safety: reentrant. The fd belongs to httplib; it stays open while the request's handler
// and content provider run, so it may be probed (never closed) from there.
#pragma once

#include <httplib.h>

namespace clusterdns::testing::kube_wire {

// The server-side socket of req's connection, or -1 when it cannot be found. With TLS the SSL
// object knows it; without, it is the one socket of this process whose local port is the
// server's and whose peer port is the client's (found through /proc/self/fd).
int FindConnectionSocket(const httplib::Request& req);

// True when the peer of `fd` has hung up (a watch client sends nothing after its request, so any
// hang-up, reset or error means it is gone). False for fd < 0.
bool PeerClosed(int fd);

}  // namespace clusterdns::testing::kube_wire
