// QsbrGracePeriod: records::GracePeriod over DPDK's rte_rcu_qsbr (DESIGN.md "Publishing tables
// (RCU)", STYLE.md example 4). The TablePublisher of a process with a dataplane is built with it,
// so a retired AnswerTable is freed only after every worker has passed a quiescent state.
//
// Readers are the workers, one thread id each, 0 .. readers-1 (the worker index, not the lcore
// id). Every id is registered at Create and starts offline; a worker goes Online when its loop
// starts, reports Quiescent once per loop (also when its bursts were empty, or the writer waits
// forever on an idle appliance) and goes Offline when it stops. An offline reader never delays
// Synchronize.
//
// Threads: Online/Offline/Quiescent only from the reader's own thread (the worker loop calls
// rte_rcu_qsbr_quiescent on qsbr() directly, inline). Synchronize from control-plane threads
// only, any number at once; it blocks (spinning with rte_pause, then yielding) and must never be
// called by a reader. Needs no EAL: the state lives in ordinary cache-aligned memory.
//
//   CDNS_ASSIGN_OR_RETURN(auto grace, QsbrGracePeriod::Create(workers));
//   records::TablePublisher publisher(grace.get());
//   worker k:  grace->Online(k); loop { ...; rte_rcu_qsbr_quiescent(grace->qsbr(), k); } Offline(k)
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "records/table_publisher.h"

struct rte_rcu_qsbr;

namespace clusterdns::dataplane {

class QsbrGracePeriod final : public records::GracePeriod {
 public:
  static absl::StatusOr<std::unique_ptr<QsbrGracePeriod>> Create(unsigned readers);
  ~QsbrGracePeriod() override;
  QsbrGracePeriod(const QsbrGracePeriod&) = delete;
  QsbrGracePeriod& operator=(const QsbrGracePeriod&) = delete;

  void Online(unsigned reader) noexcept;
  void Offline(unsigned reader) noexcept;
  void Quiescent(unsigned reader) noexcept;  // out of line; the worker inlines its own call

  void Synchronize() override;

  rte_rcu_qsbr* qsbr() const noexcept { return qsbr_; }
  unsigned readers() const noexcept { return readers_; }

 private:
  QsbrGracePeriod(rte_rcu_qsbr* qsbr, unsigned readers) : qsbr_(qsbr), readers_(readers) {}

  rte_rcu_qsbr* qsbr_;  // owned: std::aligned_alloc'd, freed with std::free
  unsigned readers_;
};

}  // namespace clusterdns::dataplane
