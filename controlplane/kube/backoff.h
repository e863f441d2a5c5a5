// Backoff: exponential backoff with full jitter (the AWS architecture blog's "Full Jitter"; the
// shape client-go's reflector uses), for the informer's retries after a failed list or watch.
//
//   delay(n) = uniform in [0, min(max, initial * 2^n)]   where n = failures since the last reset
//
// "Full" jitter spreads the retries of many clients over the whole window, so a restarted API
// server is not hit by all of them at once. The failure count starts over when a failure comes
// more than reset_after after the previous one (the connection was healthy in between), or on
// Reset(). The caller passes the time: no clock is read here, so tests are exact. Seeded RNG.
//
// Not thread-safe (one informer thread). Usage:
//   Backoff backoff(absl::Milliseconds(200), absl::Seconds(30), absl::Minutes(2), seed);
//   absl::Duration delay = backoff.NextDelay(absl::Now());  // after a failure; sleep `delay`
#pragma once

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace clusterdns::controlplane {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, absl::Duration reset_after, uint64_t seed);

  // Records a failure at `now` and returns how long to wait before the next attempt.
  absl::Duration NextDelay(absl::Time now);

  // The upper bound NextDelay would draw from for the next failure (no reset considered).
  absl::Duration CurrentCeiling() const;

  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  const absl::Duration reset_after_;
  std::mt19937_64 rng_;
  int failures_ = 0;
  absl::Time last_failure_ = absl::InfinitePast();
};

}  // namespace clusterdns::controlplane
