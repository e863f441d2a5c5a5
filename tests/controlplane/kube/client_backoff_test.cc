// Backoff: full jitter under a doubling ceiling, the cap, the reset after a healthy period,
// determinism from the seed. No clock: times are passed in.
#include <vector>

#include "controlplane/kube/backoff.h"
#include "gtest/gtest.h"

namespace clusterdns::controlplane {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TEST(Backoff, CeilingDoublesUpToTheCap) {
  Backoff backoff(absl::Milliseconds(200), absl::Seconds(3), absl::Minutes(2), 1);
  const std::vector<absl::Duration> ceilings = {absl::Milliseconds(200), absl::Milliseconds(400),
                                                absl::Milliseconds(800), absl::Milliseconds(1600),
                                                absl::Seconds(3),        absl::Seconds(3)};
  absl::Time now = kT0;
  for (absl::Duration ceiling : ceilings) {
    EXPECT_EQ(backoff.CurrentCeiling(), ceiling);
    const absl::Duration delay = backoff.NextDelay(now);
    EXPECT_GE(delay, absl::ZeroDuration());
    EXPECT_LE(delay, ceiling);
    now += absl::Seconds(1);  // failures close together: no reset
  }
  EXPECT_EQ(backoff.failures(), 6);
}

TEST(Backoff, JitterIsSpreadOverTheWholeWindow) {
  Backoff backoff(absl::Seconds(1), absl::Seconds(1), absl::Hours(1), 7);
  int low = 0;
  int high = 0;
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration delay = backoff.NextDelay(kT0 + absl::Milliseconds(i));
    ASSERT_LE(delay, absl::Seconds(1));
    if (delay < absl::Milliseconds(250)) ++low;
    if (delay > absl::Milliseconds(750)) ++high;
  }
  // Uniform: about 250 each; far from all-the-same.
  EXPECT_GT(low, 150);
  EXPECT_GT(high, 150);
}

TEST(Backoff, StartsOverAfterAHealthyPeriod) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(30), absl::Seconds(60), 3);
  for (int i = 0; i < 5; ++i) backoff.NextDelay(kT0 + absl::Seconds(i));
  EXPECT_EQ(backoff.CurrentCeiling(), absl::Milliseconds(3200));
  // 59 s after the last failure: still counting.
  backoff.NextDelay(kT0 + absl::Seconds(4 + 59));
  EXPECT_EQ(backoff.failures(), 6);
  // 60 s without a failure: the next one is a first failure again.
  const absl::Duration delay = backoff.NextDelay(kT0 + absl::Seconds(4 + 59 + 60));
  EXPECT_LE(delay, absl::Milliseconds(100));
  EXPECT_EQ(backoff.failures(), 1);
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_EQ(backoff.CurrentCeiling(), absl::Milliseconds(100));
}

TEST(Backoff, SameSeedSameDelays) {
  Backoff a(absl::Milliseconds(200), absl::Seconds(30), absl::Minutes(2), 42);
  Backoff b(absl::Milliseconds(200), absl::Seconds(30), absl::Minutes(2), 42);
  Backoff c(absl::Milliseconds(200), absl::Seconds(30), absl::Minutes(2), 43);
  bool differs = false;
  for (int i = 0; i < 8; ++i) {
    const absl::Time now = kT0 + absl::Seconds(i);
    const absl::Duration da = a.NextDelay(now);
    EXPECT_EQ(da, b.NextDelay(now));
    if (da != c.NextDelay(now)) differs = true;
  }
  EXPECT_TRUE(differs);
}

TEST(Backoff, ManyFailuresStayAtTheCap) {
  Backoff backoff(absl::Nanoseconds(1), absl::Seconds(30), absl::Hours(1), 5);
  for (int i = 0; i < 500; ++i) {
    ASSERT_LE(backoff.NextDelay(kT0 + absl::Milliseconds(i)), absl::Seconds(30));
  }
  EXPECT_EQ(backoff.CurrentCeiling(), absl::Seconds(30));
}

}  // namespace
}  // namespace clusterdns::controlplane
