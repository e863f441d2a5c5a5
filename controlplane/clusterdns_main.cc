// clusterdns: the appliance's entry point (DESIGN.md "Interface").
//   clusterdns [EAL options --] --ip=10.254.0.3 --objects-file=cluster.json ...
//   clusterdns --listen=198.18.0.1:53 --kubeconfig=...          (kernel sockets only)
// Thin glue: flags → (Dataplane) → AppConfig → App, then serve until SIGINT/SIGTERM and stop
// cleanly. With EAL options the DPDK dataplane serves the --ip addresses on every port the EAL
// offers, the main lcore's worker runs on this thread, and a signal thread stops it.
// Exit 0 after a clean stop, 2 on bad flags or anything that prevents starting (one line on
// stderr naming the problem).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/string_view.h"
#include "controlplane/app.h"
#include "controlplane/app_flags.h"
#include "controlplane/command_line.h"
#include "dataplane/dataplane.h"

namespace {

constexpr char kUsage[] =
    "clusterdns: Kubernetes cluster DNS from precompiled answers.\n"
    "usage: clusterdns [EAL options --] [options]\n"
    "  clusterdns -l 0-3 -a 0000:3b:00.0 -- --ip=10.254.0.3 --kubeconfig=$HOME/.kube/config\n"
    "  clusterdns --listen=127.0.0.1:5353 --objects-file=cluster.json --service-cidr=10.254.0.0/16\n"
    "options:\n";

int Fail(absl::string_view message) {
  std::cerr << "clusterdns: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace clusterdns;
  using namespace clusterdns::controlplane;
  // Every thread inherits this mask; the signals are taken by sigwait, never by a handler
  // interrupting a worker.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a TCP client that went away is an error code, not a signal

  auto command_line = ParseCommandLine(argc, argv, RepeatableAppFlags());
  if (!command_line.ok()) return Fail(command_line.status().message());
  if (command_line->help) {
    std::cout << kUsage << FlagsHelp("controlplane/");
    return 0;
  }
  const bool with_dataplane = !command_line->eal_args.empty();
  auto config = AppConfigFromFlags(with_dataplane);
  if (!config.ok()) return Fail(config.status().message());

  // The dataplane first: it sets the workers' CPUs aside before any control-plane thread starts,
  // and it must outlive the App (declared first, destroyed last).
  std::unique_ptr<dataplane::Dataplane> dp;
  if (with_dataplane) {
    dataplane::DataplaneOptions options;
    options.addresses = config->zone.nameserver_addresses;
    // Names outside the zones: REFUSED by the workers with --upstream=none; otherwise answered
    // from the cache of upstream answers when it has them, else handed to the forwarder through
    // the forward path's ring (UDP; TCP reaches the --listen sockets through the exception path).
    options.respond.refuse_outside_zones = config->forward.upstreams.empty();
    options.respond.recursion_available = !config->forward.upstreams.empty();
    options.forward_path = !config->forward.upstreams.empty();
    // TCP and the rest of what the workers do not answer reach the kernel (and the --listen
    // sockets, which may bind the served addresses) through a TAP per port.
    options.exception_path.enabled = true;
    auto created = dataplane::Dataplane::Create(command_line->eal_args, options);
    if (!created.ok()) return Fail(created.status().message());
    dp = *std::move(created);
    config->dataplane_grace = dp->grace_period();
    config->dataplane_workers = &dp->worker_stats();
    config->dataplane_exception_path = dp->exception_counters();
    config->dataplane_forward_path = dp->forward_path_counters();
    config->dataplane_counters = dp->query_counters();
  }
  auto app = App::Start(*std::move(config));
  if (!app.ok()) return Fail(app.status().message());

  int signal = 0;
  if (dp) {
    const absl::Status launched =
        dp->Launch((*app)->publisher(), (*app)->answer_cache(), (*app)->query_forwarder());
    if (!launched.ok()) {
      (*app)->Stop();
      return Fail(launched.message());
    }
    std::thread signals([&] {
      sigwait(&stop_signals, &signal);
      dp->RequestStop();
    });
    dp->RunMainLcore();  // the main lcore's worker, until RequestStop
    signals.join();
    std::fprintf(stderr, "clusterdns: %s, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
    // The App first: its forwarder's last replies still go out through the forward path and the
    // ports, which dp->Stop() then closes; the tables and the cache the workers read stay alive
    // (they are freed with the App, after dp->Stop() has waited for the workers).
    (*app)->Stop();
    dp->Stop();
    return 0;
  }
  sigwait(&stop_signals, &signal);
  std::fprintf(stderr, "clusterdns: %s, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->Stop();
  return 0;
}
