// Dataplane: the DPDK side of clusterdns as main() and tests use it: EAL, ports, the QSBR grace
// period, per-worker counters, and the workers themselves, one per lcore of the EAL core list,
// the main lcore included (DESIGN.md "Dataplane worker").
//
// Start-up sequence (main thread):
//   1. Dataplane::Create(eal_args, options)   rte_eal_init, every port configured and started,
//                                             the QSBR variable with one reader per worker; with
//                                             options.exception_path.enabled, a kernel TAP per
//                                             port holding the served addresses (so --listen
//                                             sockets on them can bind after Create).
//                                             Then the main thread's CPU affinity is set to the
//                                             CPUs outside the EAL core list (all CPUs if the list
//                                             covers them all), so that the control-plane threads
//                                             started next do not sit on a worker's core.
//   2. records::TablePublisher publisher(dataplane->grace_period());   and the control plane
//                                             (it publishes the first table when it likes;
//                                             workers drop DNS queries, counted as no_table,
//                                             until then, and answer ARP/NDP/echo already).
//   3. dataplane->Launch(&publisher)          workers start on every lcore but the main one (and
//                                             the exception path's slow-path thread).
//   4. a signal thread: sigwait → dataplane->RequestStop()
//   5. dataplane->RunMainLcore()              the main lcore's worker, on the main thread, pinned
//                                             back to the main lcore's CPUs; returns after
//                                             RequestStop().
//   6. dataplane->Stop()                      waits for every worker, stops the exception path
//                                             (thread, TAPs, rules), stops and closes the ports,
//                                             frees the pools. Then the control plane stops
//                                             (the publisher must outlive the workers); the
//                                             Dataplane object itself goes last (~Dataplane:
//                                             rte_eal_cleanup).
// Workers are QSBR readers from Launch (worker lcores) / RunMainLcore (main lcore) until they
// stop; an offline worker never delays TablePublisher::Publish.
//
// Threads: Create, Launch, RunMainLcore, Stop and the destructor on the main thread (the thread
// that called Create). RequestStop from any thread (async-signal-safe: one atomic store).
// grace_period(), worker_stats(), ports() from any thread; the objects returned live as long as
// the Dataplane.
//
//   CDNS_ASSIGN_OR_RETURN(auto dp, Dataplane::Create(eal_args, {.addresses = ips}));
//   records::TablePublisher publisher(dp->grace_period());
//   publisher.Publish(builder->Build());
//   CDNS_RETURN_IF_ERROR(dp->Launch(&publisher));
//   std::thread signals([&] { int s; sigwait(&set, &s); dp->RequestStop(); });
//   dp->RunMainLcore();
//   signals.join();
//   dp->Stop();
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/eal.h"
#include "dataplane/exception_path.h"
#include "dataplane/forward_path.h"
#include "dataplane/port.h"
#include "dataplane/qsbr_grace_period.h"
#include "dataplane/worker.h"
#include "records/answer_cache.h"
#include "dataplane/worker_stats.h"
#include "records/ip_address.h"
#include "records/respond.h"
#include "records/table_publisher.h"

namespace clusterdns::dataplane {

struct DataplaneOptions {
  std::vector<records::IpAddress> addresses;  // --ip: answered on; at least one
  records::RespondOptions respond;            // UDP; refuse_outside_zones for --upstream=none
  PortOptions ports;
  ExceptionHook exception_hook = nullptr;  // see worker.h; nullptr: exceptions are freed
  void* exception_context = nullptr;
  // The kernel TAP per port (exception_path.h); excludes exception_hook. Needs CAP_NET_ADMIN.
  ExceptionPathOptions exception_path;
  // Names in no served zone to the forwarder through a ring (forward_path.h), not the exception
  // path: when forwarding is on (--upstream). Launch then needs the forwarder.
  bool forward_path = false;
};

class Dataplane {
 public:
  // Errors name the EAL option, port or address that is wrong; nothing is left running (the EAL
  // itself cannot be initialised twice in a process, so a failed Create ends the dataplane's
  // chances in this process).
  static absl::StatusOr<std::unique_ptr<Dataplane>> Create(const std::vector<std::string>& eal_args,
                                                           DataplaneOptions options);
  ~Dataplane();  // Stop(), then rte_eal_cleanup
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // For the TablePublisher the workers read from.
  records::GracePeriod* grace_period() const { return grace_.get(); }
  // Per-worker packet counters (controlplane::Metrics::SetWorkerSource) and query counters
  // (Metrics::AddQueryCounters("dataplane", ...) for each worker's block).
  const WorkerStats& worker_stats() const { return *stats_; }
  std::vector<const records::QueryCounters*> query_counters() const;
  const std::vector<PortInfo>& ports() const { return ports_.ports(); }
  const std::vector<unsigned>& lcores() const { return lcores_; }  // worker order; [0] = main
  // The exception path's counters, one line per port ("" without it). Any thread.
  std::string ExceptionSummary() const { return exception_ ? exception_->Summary() : ""; }
  // The exception path's counters for /metrics; nullptr without it.
  const controlplane::ExceptionPathCounterSource* exception_counters() const {
    return exception_.get();
  }

  // Starts the workers of every lcore but the main one, reading tables from `publisher`, which
  // must outlive Stop(). Once only.
  // `cache`: upstream answers the workers consult for names outside the zones (may be null).
  // `forwarder`: takes the forward path's queries (required with DataplaneOptions::forward_path);
  // it must stop before Stop() is called (its reply callbacks send through the ports).
  absl::Status Launch(const records::TablePublisher* publisher,
                      const records::AnswerCache* cache = nullptr,
                      controlplane::QueryForwarder* forwarder = nullptr);
  // The forward path's counters for /metrics; nullptr without it.
  const controlplane::ForwardPathCounterSource* forward_path_counters() const {
    return forward_.get();
  }

  // The main lcore's worker on the calling (main) thread; returns after RequestStop(). Call after
  // Launch; at most once.
  void RunMainLcore();

  void RequestStop() noexcept;
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed); }

  // RequestStop, wait for the workers, stop and close the ports, free the pools. Idempotent.
  void Stop();

 private:
  Dataplane() = default;

  // Member order is teardown order in reverse: the EAL goes last.
  EalHandle eal_;
  std::vector<unsigned> lcores_;
  PortSet ports_;
  std::unique_ptr<QsbrGracePeriod> grace_;
  std::unique_ptr<WorkerStats> stats_;
  std::vector<WorkerConfig> workers_;
  std::unique_ptr<ExceptionPath> exception_;  // stopped before, freed after ports_.Stop()
  std::unique_ptr<ForwardPath> forward_;      // stopped (rings freed) before ports_.Stop()
  std::vector<unsigned char> control_cpus_;  // cpu_set_t bytes for the non-worker threads
  // relaxed everywhere: a request to leave the loop; rte_eal_wait_lcore orders the rest.
  std::atomic<bool> stop_{false};
  bool launched_ = false;
  bool stopped_ = false;
};

}  // namespace clusterdns::dataplane
