// Backoff: see backoff.h.
#include "controlplane/kube/backoff.h"

#include <algorithm>

namespace clusterdns::controlplane {

Backoff::Backoff(absl::Duration initial, absl::Duration max, absl::Duration reset_after,
                 uint64_t seed)
    : initial_(std::max(initial, absl::ZeroDuration())),
      max_(std::max(max, initial_)),
      reset_after_(reset_after),
      rng_(seed) {}

absl::Duration Backoff::CurrentCeiling() const {
  absl::Duration ceiling = initial_;
  // Doubling stops at max_; 62 doublings bound the loop whatever failures_ is.
  for (int i = 0; i < failures_ && i < 62 && ceiling < max_; ++i) ceiling *= 2;
  return std::min(ceiling, max_);
}

absl::Duration Backoff::NextDelay(absl::Time now) {
  if (now - last_failure_ >= reset_after_) failures_ = 0;
  last_failure_ = now;
  const int64_t ceiling_ns = absl::ToInt64Nanoseconds(CurrentCeiling());
  if (failures_ < 1'000'000) ++failures_;
  if (ceiling_ns <= 0) return absl::ZeroDuration();
  std::uniform_int_distribution<int64_t> jitter(0, ceiling_ns);
  return absl::Nanoseconds(jitter(rng_));
}

}  // namespace clusterdns::controlplane
