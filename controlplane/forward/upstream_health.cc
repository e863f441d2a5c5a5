// Round-robin among the healthiest upstreams.
#include "controlplane/forward/upstream_health.h"

#include <limits>

namespace clusterdns::controlplane {

UpstreamHealth::UpstreamHealth(size_t count, Clock::duration recheck_after, UpstreamStats* stats)
    : recheck_after_(recheck_after), stats_(stats), state_(count) {}

uint64_t UpstreamHealth::EffectiveFailures(uint32_t upstream, Clock::time_point now) const {
  const State& s = state_[upstream];
  if (s.failures == 0 || now - s.last_failure >= recheck_after_) return 0;
  return s.failures;
}

uint32_t UpstreamHealth::ChooseFirst(Clock::time_point now) {
  const uint32_t n = static_cast<uint32_t>(state_.size());
  uint32_t best = next_ % n;
  uint64_t best_failures = std::numeric_limits<uint64_t>::max();
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = (next_ + k) % n;
    const uint64_t f = EffectiveFailures(i, now);
    if (f < best_failures) {  // strictly fewer: the first in round-robin order wins ties
      best = i;
      best_failures = f;
      if (f == 0) break;
    }
  }
  next_ = (best + 1) % n;
  return best;
}

void UpstreamHealth::RecordFailure(uint32_t upstream, Clock::time_point now) {
  State& s = state_[upstream];
  ++s.failures;
  s.last_failure = now;
  BumpCounter(stats_[upstream].consecutive_failures);
}

void UpstreamHealth::RecordAnswer(uint32_t upstream) {
  state_[upstream].failures = 0;
  stats_[upstream].consecutive_failures.store(0, std::memory_order_relaxed);
}

}  // namespace clusterdns::controlplane
