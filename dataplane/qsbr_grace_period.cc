// QsbrGracePeriod: allocation of the QSBR variable and the writer's wait.
#include "dataplane/qsbr_grace_period.h"

#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"

namespace clusterdns::dataplane {
namespace {

// Spins before the writer starts yielding its CPU: a worker loop takes well under a microsecond
// when idle, so a grace period normally ends within the spins; past them the writer shares the
// CPU politely (on a small machine a control-plane thread may sit on a worker's core).
constexpr int kSpinsBeforeYield = 1000;

}  // namespace

absl::StatusOr<std::unique_ptr<QsbrGracePeriod>> QsbrGracePeriod::Create(unsigned readers) {
  if (readers == 0 || readers > RTE_MAX_LCORE) {
    return absl::InvalidArgumentError(absl::StrCat("QSBR: bad reader count ", readers));
  }
  const size_t size = rte_rcu_qsbr_get_memsize(readers);
  // rte_rcu_qsbr_init wants cache-line aligned memory; aligned_alloc wants a size multiple of it.
  const size_t rounded =
      (size + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
  auto* v = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, rounded));
  if (v == nullptr) return absl::ResourceExhaustedError("QSBR: out of memory");
  if (rte_rcu_qsbr_init(v, readers) != 0) {
    std::free(v);
    return absl::InternalError("QSBR: rte_rcu_qsbr_init failed");
  }
  for (unsigned id = 0; id < readers; ++id) rte_rcu_qsbr_thread_register(v, id);
  return std::unique_ptr<QsbrGracePeriod>(new QsbrGracePeriod(v, readers));
}

QsbrGracePeriod::~QsbrGracePeriod() { std::free(qsbr_); }

void QsbrGracePeriod::Online(unsigned reader) noexcept {
  rte_rcu_qsbr_thread_online(qsbr_, reader);
}

void QsbrGracePeriod::Offline(unsigned reader) noexcept {
  rte_rcu_qsbr_thread_offline(qsbr_, reader);
}

void QsbrGracePeriod::Quiescent(unsigned reader) noexcept { rte_rcu_qsbr_quiescent(qsbr_, reader); }

void QsbrGracePeriod::Synchronize() {
  // rte_rcu_qsbr_start is a release add on the token: the publisher's pointer store before it is
  // visible to a reader that acknowledges the token; check loads each reader's counter with
  // acquire, so the reader's last use of the old table happens before the caller frees it.
  const uint64_t token = rte_rcu_qsbr_start(qsbr_);
  for (int spins = 0; rte_rcu_qsbr_check(qsbr_, token, false) == 0;) {
    if (spins < kSpinsBeforeYield) {
      ++spins;
      rte_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace clusterdns::dataplane
