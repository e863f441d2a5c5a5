// dataplane-responder: the real Dataplane serving the kube-dns fixture (tests/records/
// kube_dns_cluster.h) on whatever ports the EAL options give it, for the golden and end-to-end
// tests. Not the clusterdns binary: no control plane, one table published at start.
//
//   dataplane-responder [EAL options] -- --ip=198.18.0.53,2001:2::53 [--seconds=N]
//                       [--stop-after-rx=N] [--republish-ms=N]
//
// Runs until SIGINT/SIGTERM, N seconds, or (--stop-after-rx) until the workers have received N
// packets in all (each burst in progress is finished and transmitted first). Then prints
// WorkerStats::Summary() on stdout, one parseable line per (worker, port), and a line per worker
// with its query counters:
//   queries lcore=0 replies=5 noerror=3 nxdomain=1 refused=1 forwarded=0
// With --republish-ms, a control-plane thread publishes a freshly built table every N ms while the
// workers answer (each Publish waits for the QSBR grace period), and a last line counts them:
//   publisher publishes=42
// Exit 0 after a clean stop, 2 on bad arguments or a dataplane that cannot start.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "dataplane/dataplane.h"
#include "records/dns_constants.h"
#include "records/table_publisher.h"
#include "tests/records/kube_dns_cluster.h"

namespace {

using clusterdns::dataplane::Dataplane;
using clusterdns::dataplane::DataplaneOptions;

struct Flags {
  std::vector<std::string> eal_args;
  std::vector<clusterdns::records::IpAddress> addresses;
  double seconds = 0;          // 0: no time limit
  uint64_t stop_after_rx = 0;  // 0: no packet limit
  int republish_ms = 0;        // 0: one table, published before the workers start
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  int i = 1;
  for (; i < argc && std::string(argv[i]) != "--"; ++i) flags->eal_args.push_back(argv[i]);
  for (++i; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--ip=", 0) == 0) {
      for (absl::string_view text : absl::StrSplit(arg.substr(5), ',')) {
        auto ip = clusterdns::records::IpAddress::Parse(std::string(text));
        if (!ip) {
          std::fprintf(stderr, "dataplane-responder: bad address '%s'\n",
                       std::string(text).c_str());
          return false;
        }
        flags->addresses.push_back(*ip);
      }
    } else if (arg.rfind("--seconds=", 0) == 0) {
      if (!absl::SimpleAtod(arg.substr(10), &flags->seconds)) return false;
    } else if (arg.rfind("--stop-after-rx=", 0) == 0) {
      if (!absl::SimpleAtoi(arg.substr(16), &flags->stop_after_rx)) return false;
    } else if (arg.rfind("--republish-ms=", 0) == 0) {
      if (!absl::SimpleAtoi(arg.substr(15), &flags->republish_ms)) return false;
    } else {
      std::fprintf(stderr, "dataplane-responder: unknown flag '%s'\n", arg.c_str());
      return false;
    }
  }
  return !flags->addresses.empty();
}

uint64_t TotalRx(const clusterdns::dataplane::WorkerStats& stats) {
  uint64_t sum = 0;
  for (size_t w = 0; w < stats.workers(); ++w) {
    for (size_t p = 0; p < stats.ports(); ++p) {
      const auto& c = stats.port(w, p);
      sum += c.Load(c.rx);
    }
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: dataplane-responder [EAL options] -- --ip=ADDR[,ADDR] [--seconds=N] "
                 "[--stop-after-rx=N] [--republish-ms=N]\n");
    return 2;
  }
  // Blocked in every thread (the EAL's included); taken by the watcher below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  DataplaneOptions options;
  options.addresses = flags.addresses;
  auto dataplane = Dataplane::Create(flags.eal_args, options);
  if (!dataplane.ok()) {
    std::fprintf(stderr, "dataplane-responder: %s\n", dataplane.status().ToString().c_str());
    return 2;
  }
  Dataplane& dp = **dataplane;
  uint64_t publishes = 0;
  {
    clusterdns::records::TablePublisher publisher(dp.grace_period());
    publisher.Publish(clusterdns::testing::KubeDnsBuilder()->Build());
    if (auto s = dp.Launch(&publisher); !s.ok()) {
      std::fprintf(stderr, "dataplane-responder: %s\n", s.ToString().c_str());
      return 2;
    }
    std::fprintf(stderr, "dataplane-responder: serving\n");

    std::thread watcher([&] {
      const auto start = std::chrono::steady_clock::now();
      const timespec tick = {0, 5'000'000};  // 5 ms: the packet limit is checked this often
      while (!dp.stop_requested()) {
        if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) break;
        if (flags.seconds > 0 && std::chrono::steady_clock::now() - start >=
                                     std::chrono::duration<double>(flags.seconds)) {
          break;
        }
        if (flags.stop_after_rx > 0 && TotalRx(dp.worker_stats()) >= flags.stop_after_rx) break;
      }
      dp.RequestStop();
    });
    std::thread republisher;
    if (flags.republish_ms > 0) {
      republisher = std::thread([&] {
        while (!dp.stop_requested()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(flags.republish_ms));
          publisher.Publish(clusterdns::testing::KubeDnsBuilder()->Build());
          ++publishes;
        }
      });
    }
    dp.RunMainLcore();
    watcher.join();
    if (republisher.joinable()) republisher.join();
    dp.Stop();  // the workers are gone before the publisher is
  }

  std::fputs(dp.worker_stats().Summary().c_str(), stdout);
  using clusterdns::records::QueryCounters;
  for (size_t w = 0; w < dp.worker_stats().workers(); ++w) {
    const QueryCounters& q = dp.worker_stats().queries(w);
    std::printf(
        "queries lcore=%u replies=%llu noerror=%llu nxdomain=%llu refused=%llu "
        "forwarded=%llu\n",
        dp.worker_stats().lcore(w), static_cast<unsigned long long>(q.replies()),
        static_cast<unsigned long long>(q.rcode(clusterdns::records::kRcodeNoError)),
        static_cast<unsigned long long>(q.rcode(clusterdns::records::kRcodeNxDomain)),
        static_cast<unsigned long long>(q.rcode(clusterdns::records::kRcodeRefused)),
        static_cast<unsigned long long>(q.forwarded.load(std::memory_order_relaxed)));
  }
  if (flags.republish_ms > 0) {
    std::printf("publisher publishes=%llu\n", static_cast<unsigned long long>(publishes));
  }
  std::fflush(stdout);
  return 0;
}
