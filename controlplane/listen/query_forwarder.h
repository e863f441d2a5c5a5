// QueryForwarder: where the kernel-socket listeners send a query whose name is in no served zone
// (respond()'s Verdict::kForward) when forwarding is on (--upstream). Implemented by
// controlplane/forward/Forwarder; the listeners know only this interface.
//
// Threads: Forward() is called from listener threads, any number at once. The reply callback
// runs later on the implementation's thread, exactly once for every Forward() that returned
// true, never for one that returned false. What it captures must stay valid until the
// implementation has stopped (the listeners stop after the forwarder).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "records/respond.h"

namespace clusterdns::controlplane {

class QueryForwarder {
 public:
  using Reply = std::function<void(std::span<const uint8_t> reply)>;

  virtual ~QueryForwarder() = default;
  // `query` is the client's message as received; `transport` how the client asked (the reply must
  // fit its limit). False: not taken (not running); the caller drops the query.
  virtual bool Forward(std::vector<uint8_t> query, records::Transport transport, Reply reply) = 0;
};

}  // namespace clusterdns::controlplane
