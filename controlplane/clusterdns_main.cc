// clusterdns: the appliance's entry point (DESIGN.md "Interface").
//   clusterdns [EAL options] -- --listen=198.18.0.1:53 --objects-file=cluster.json ...
// Thin glue: flags → AppConfig → App, then wait for SIGINT/SIGTERM and stop cleanly.
// Exit 0 after a clean stop, 2 on bad flags or anything that prevents starting (one line on
// stderr naming the problem).
#include <csignal>
#include <cstdio>
#include <iostream>

#include "controlplane/app.h"
#include "controlplane/app_flags.h"
#include "controlplane/command_line.h"

namespace {

constexpr char kUsage[] =
    "clusterdns: Kubernetes cluster DNS from precompiled answers.\n"
    "usage: clusterdns [EAL options --] [options]\n"
    "  clusterdns --listen=127.0.0.1:5353 --objects-file=cluster.json --service-cidr=10.254.0.0/16\n"
    "  clusterdns --listen=[::]:53 --kubeconfig=$HOME/.kube/config\n"
    "options:\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace clusterdns::controlplane;
  // Every thread inherits this mask; the signals are taken by sigwait below, never by a handler
  // interrupting a worker.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a TCP client that went away is an error code, not a signal

  auto command_line = ParseCommandLine(argc, argv, RepeatableAppFlags());
  if (!command_line.ok()) {
    std::cerr << "clusterdns: " << command_line.status().message() << "\n";
    return 2;
  }
  if (command_line->help) {
    std::cout << kUsage << FlagsHelp("controlplane/");
    return 0;
  }
  if (!command_line->eal_args.empty()) {
    std::cerr << "clusterdns: EAL options given, but this build has no DPDK dataplane yet; "
                 "serve with --listen and no EAL options\n";
    return 2;
  }
  auto config = AppConfigFromFlags();
  if (!config.ok()) {
    std::cerr << "clusterdns: " << config.status().message() << "\n";
    return 2;
  }
  auto app = App::Start(*std::move(config));
  if (!app.ok()) {
    std::cerr << "clusterdns: " << app.status().message() << "\n";
    return 2;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::fprintf(stderr, "clusterdns: %s, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->Stop();
  return 0;
}
