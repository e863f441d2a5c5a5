// UpstreamHealth: which upstream a new query tries first.
//
// Policy: round-robin among the healthiest. An upstream's failures are its timeouts and errors
// since its last accepted answer; a new query starts at the next upstream (round-robin order)
// with the fewest, so healthy upstreams share the load and a dead one is not tried first (costing
// a try timeout) while a healthy one exists. A failing upstream is forgiven (counts as 0
// failures) once `recheck_after` has passed since its last failure, so a recovered upstream gets
// a query again and can prove itself; later tries of a query go round the list in order from the
// first (forwarder.h).
//
// The caller passes the time: no clock is read here. Writes the consecutive_failures gauge of
// each upstream's UpstreamStats. Not thread-safe: the forwarder thread owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "controlplane/forward/forwarder_stats.h"

namespace clusterdns::controlplane {

class UpstreamHealth {
 public:
  using Clock = std::chrono::steady_clock;

  // `stats` points at `count` blocks (one per upstream), owned by the caller, outliving this.
  UpstreamHealth(size_t count, Clock::duration recheck_after, UpstreamStats* stats);

  // The upstream a new query tries first; advances the round-robin position.
  uint32_t ChooseFirst(Clock::time_point now);

  void RecordFailure(uint32_t upstream, Clock::time_point now);
  void RecordAnswer(uint32_t upstream);

  // Failures as ChooseFirst sees them at `now` (0 once forgiven).
  uint64_t EffectiveFailures(uint32_t upstream, Clock::time_point now) const;

 private:
  struct State {
    uint64_t failures = 0;
    Clock::time_point last_failure{};
  };
  Clock::duration recheck_after_;
  UpstreamStats* stats_;
  std::vector<State> state_;
  uint32_t next_ = 0;  // round-robin position: the first candidate looked at
};

}  // namespace clusterdns::controlplane
