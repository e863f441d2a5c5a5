// Dataplane: the order of start-up and teardown (see dataplane.h), and the main thread's CPU
// affinity around the main lcore's worker.
#include "dataplane/dataplane.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <sched.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "records/status_macros.h"

namespace clusterdns::dataplane {
namespace {

std::string CpuList(const cpu_set_t& set) {
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return absl::StrJoin(cpus, ",");
}

void SetAffinity(const cpu_set_t& set) {
  // Best effort: a failure leaves the thread where the EAL put it, which is slower, not wrong.
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dataplane>> Dataplane::Create(
    const std::vector<std::string>& eal_args, DataplaneOptions options) {
  if (options.addresses.empty()) {
    return absl::InvalidArgumentError("the dataplane needs at least one address to serve (--ip)");
  }
  if (options.exception_path.enabled && options.exception_hook != nullptr) {
    return absl::InvalidArgumentError(
        "an exception hook and the exception path's TAPs exclude each other");
  }
  // Before the EAL: a bad address fails without touching any device.
  CDNS_ASSIGN_OR_RETURN(ServedAddresses served, ServedAddresses::Create(options.addresses));

  cpu_set_t original;
  CPU_ZERO(&original);
  pthread_getaffinity_np(pthread_self(), sizeof(original), &original);

  std::unique_ptr<Dataplane> dp(new Dataplane());
  CDNS_ASSIGN_OR_RETURN(dp->eal_, InitEal(eal_args));

  dp->lcores_.push_back(rte_get_main_lcore());
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { dp->lcores_.push_back(lcore); }

  options.ports.slow_path_tx_queue = options.forward_path;
  CDNS_ASSIGN_OR_RETURN(dp->ports_, PortSet::Start(dp->lcores_, options.addresses, options.ports));
  CDNS_ASSIGN_OR_RETURN(dp->grace_,
                        QsbrGracePeriod::Create(static_cast<unsigned>(dp->lcores_.size())));
  std::vector<uint16_t> port_ids;
  for (const PortInfo& p : dp->ports_.ports()) port_ids.push_back(p.id);
  dp->stats_ = std::make_unique<WorkerStats>(dp->lcores_, port_ids);
  if (options.exception_path.enabled) {
    CDNS_ASSIGN_OR_RETURN(dp->exception_,
                          ExceptionPath::Create(dp->ports_.ports(), dp->lcores_.size(),
                                                options.addresses, options.exception_path,
                                                options.ports.log));
    options.exception_hook = ExceptionPath::Hook;
    options.exception_context = dp->exception_.get();
  }

  if (options.forward_path) {
    CDNS_ASSIGN_OR_RETURN(dp->forward_,
                          ForwardPath::Create(dp->ports_.ports(), dp->lcores_.size(), served));
  }

  dp->workers_.resize(dp->lcores_.size());
  for (size_t w = 0; w < dp->lcores_.size(); ++w) {
    WorkerConfig& c = dp->workers_[w];
    c.index = static_cast<unsigned>(w);
    c.lcore = dp->lcores_[w];
    for (size_t p = 0; p < dp->ports_.ports().size(); ++p) {
      const PortInfo& info = dp->ports_.ports()[p];
      WorkerPort wp;
      wp.port_id = info.id;
      wp.queue = static_cast<uint16_t>(w);
      wp.mac = info.mac;
      wp.udp_tx_checksum_offload = info.udp_tx_checksum_offload;
      wp.counters = &dp->stats_->port(w, p);
      if (w == 0 && dp->exception_) {
        wp.from_kernel = dp->exception_->from_kernel(p);
        wp.kernel_egress = dp->exception_->egress_counters(p);
      }
      if (w == 0 && dp->forward_ && info.slow_path_tx_queue < 0) {
        wp.from_slow_path = dp->forward_->to_port(p);
        wp.slow_path_egress = dp->forward_->egress_counters(p);
      }
      c.ports.push_back(wp);
    }
    c.served = served;
    c.respond = options.respond;
    c.respond.transport = records::Transport::kUdp;
    c.grace = dp->grace_.get();
    c.queries = &dp->stats_->queries(w);
    c.stop = &dp->stop_;
    c.exception_hook = options.exception_hook;
    c.exception_context = options.exception_context;
    if (dp->forward_) {
      c.forward_hook = ForwardPath::Hook;
      c.forward_context = dp->forward_.get();
    }
  }

  // The EAL pinned this thread to the main lcore. Threads the caller starts from here on (the
  // control plane) inherit the affinity, so give them the CPUs no worker spins on, as the EAL
  // does for its own control threads; RunMainLcore pins the main thread back while it polls.
  cpu_set_t control = original;
  for (unsigned l : dp->lcores_) {
    const rte_cpuset_t worker_cpus = rte_lcore_cpuset(l);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &worker_cpus)) CPU_CLR(cpu, &control);
    }
  }
  if (CPU_COUNT(&control) == 0) control = original;
  dp->control_cpus_.resize(sizeof(cpu_set_t));
  std::memcpy(dp->control_cpus_.data(), &control, sizeof(cpu_set_t));
  SetAffinity(control);

  if (options.ports.log) {
    std::vector<std::string> addresses;
    for (const records::IpAddress& a : options.addresses) addresses.push_back(a.ToString());
    std::fprintf(stderr,
                 "clusterdns: dataplane: %zu worker(s) on lcores %s (main lcore %u), %zu port(s), "
                 "serving %s; control threads on CPUs %s\n",
                 dp->lcores_.size(), absl::StrJoin(dp->lcores_, ",").c_str(), dp->lcores_[0],
                 dp->ports_.ports().size(), absl::StrJoin(addresses, ",").c_str(),
                 CpuList(control).c_str());
  }
  return dp;
}

Dataplane::~Dataplane() { Stop(); }

std::vector<const records::QueryCounters*> Dataplane::query_counters() const {
  std::vector<const records::QueryCounters*> out;
  for (size_t w = 0; w < stats_->workers(); ++w) out.push_back(&stats_->queries(w));
  return out;
}

absl::Status Dataplane::Launch(const records::TablePublisher* publisher,
                              const records::AnswerCache* cache,
                              controlplane::QueryForwarder* forwarder) {
  if (launched_ || stopped_) return absl::FailedPreconditionError("dataplane already launched");
  if (publisher == nullptr) return absl::InvalidArgumentError("no table publisher");
  if (forward_ && forwarder == nullptr) {
    return absl::InvalidArgumentError("the forward path needs a forwarder");
  }
  for (WorkerConfig& c : workers_) {
    c.publisher = publisher;
    c.respond.cache = cache;
  }
  launched_ = true;
  if (exception_) exception_->StartThread();
  if (forward_) forward_->Start(forwarder);
  for (size_t w = 1; w < workers_.size(); ++w) {
    if (int rc = rte_eal_remote_launch(WorkerMain, &workers_[w], workers_[w].lcore); rc != 0) {
      Stop();
      return absl::InternalError(absl::StrCat("cannot launch the worker on lcore ",
                                              workers_[w].lcore, ": ", rte_strerror(-rc)));
    }
  }
  return absl::OkStatus();
}

void Dataplane::RunMainLcore() {
  if (!launched_ || stopped_ || workers_.empty()) return;
  const rte_cpuset_t main_cpus = rte_lcore_cpuset(workers_[0].lcore);
  SetAffinity(main_cpus);
  RunWorker(workers_[0]);
  cpu_set_t control;
  std::memcpy(&control, control_cpus_.data(), sizeof(control));
  SetAffinity(control);
}

void Dataplane::RequestStop() noexcept { stop_.store(true, std::memory_order_relaxed); }

void Dataplane::Stop() {
  if (stopped_) return;
  stopped_ = true;
  RequestStop();
  if (launched_) rte_eal_mp_wait_lcore();  // every worker lcore back to WAIT
  // The exception path's rings hold mbufs of the ports' pools: freed before the pools are; the
  // ports' TX rings may hold mbufs of the TAP pool: it goes after them.
  if (exception_) exception_->Stop();
  if (forward_) forward_->Stop();
  ports_.Stop();
  exception_.reset();
  forward_.reset();  // its pool, after the ports' TX rings
}

}  // namespace clusterdns::dataplane
