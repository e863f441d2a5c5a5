// Control-plane benchmark (issue 3), run by scripts/bench-controlplane.sh; not a test.
//
// A fake Kubernetes API server (in this process) holds N Services and N EndpointSlices; the
// clusterdns binary (a child process, so its memory is its own) syncs from it over loopback HTTP
// and serves on a kernel UDP socket. Measured, from outside, as a client sees it:
//   1. start → the first answer for the last Service of the list (initial sync);
//   2. programming latency of single-Service changes at a fixed rate: the fake API server emits
//      the MODIFIED event → the new address is answered on the socket (p50, p99, max);
//   3. a forced relist (history compacted, watches dropped): the peak RSS while it runs, and that
//      answers keep coming throughout;
//   4. clusterdns's peak RSS (VmHWM) over the whole run.
//   controlplane_bench CLUSTERDNS [services=100000] [changes=1000] [rate_per_s=100]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/controlplane/bench_objects.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"
#include "tests/support/fake_kube_api/fake_kube_api.h"
#include "tests/support/fake_kube_api/http_test_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using clusterdns::testing::FakeKubeApi;
using clusterdns::testing::FakeResource;
using clusterdns::bench::Ip;
using clusterdns::bench::Namespace;
using clusterdns::bench::ServiceJson;
using clusterdns::bench::SliceJson;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A port free for both TCP and UDP on 127.0.0.1 (clusterdns binds both on --listen).
int FreePort() {
  for (;;) {
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    const bool both = bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(udp);
    close(tcp);
    if (both) return ntohs(a.sin_port);
  }
}

// "VmRSS" or "VmHWM" of a process, in MB.
double ProcMb(pid_t pid, const char* field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + line.find(':') + 1) / 1024.0;
  }
  return 0;
}

class DnsClient {
 public:
  explicit DnsClient(int port) : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    server_.sin_family = AF_INET;
    server_.sin_port = htons(static_cast<uint16_t>(port));
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{0, 2000};  // 2 ms: a lost query is simply asked again
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~DnsClient() { close(fd_); }
  // The first A record's address, "NXDOMAIN"/rcode text, or "" when nothing came back.
  std::string AskA(const std::string& name) {
    std::vector<uint8_t> q = clusterdns::testing::BuildQuery(name, 1);
    clusterdns::testing::SetId(q, ++id_);
    sendto(fd_, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&server_), sizeof(server_));
    uint8_t buf[1500];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return "";
      auto m = clusterdns::testing::DecodeMessage(buf, static_cast<size_t>(n));
      if (!m.ok() || m->id != id_) continue;  // a late answer to an earlier query
      if (m->rcode != 0) return absl::StrCat("rcode ", m->rcode);
      return m->answer.empty() ? "NODATA" : m->answer[0].rdata_text;
    }
  }

 private:
  int fd_;
  sockaddr_in server_{};
  uint16_t id_ = 0;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CLUSTERDNS [services] [changes] [rate_per_s]\n", argv[0]);
    return 2;
  }
  const std::string clusterdns = argv[1];
  const size_t services = argc > 2 ? std::stoul(argv[2]) : 100000;
  const size_t changes = argc > 3 ? std::stoul(argv[3]) : 1000;
  const double rate = argc > 4 ? std::stod(argv[4]) : 100;

  auto api = FakeKubeApi::Start({});
  if (!api.ok()) {
    std::fprintf(stderr, "fake API server: %s\n", std::string(api.status().message()).c_str());
    return 1;
  }
  const auto load_start = Clock::now();
  for (size_t i = 0; i < services; ++i) {
    (*api)->Apply(FakeResource::kServices, ServiceJson(i, services, Ip(i, 96)));
    (*api)->Apply(FakeResource::kEndpointSlices, SliceJson(i, services));
  }
  std::printf("fake API server: %zu Services + %zu EndpointSlices loaded in %.0f ms\n", services,
              services, Ms(Clock::now() - load_start));

  const int dns_port = FreePort();
  const int http_port = FreePort();
  const std::string listen = absl::StrCat("--listen=127.0.0.1:", dns_port);
  const std::string http = absl::StrCat("--http-addr=127.0.0.1:", http_port);
  const std::string master = absl::StrCat("--kube-master-url=", (*api)->url());
  const auto start = Clock::now();
  const double start_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const pid_t pid = fork();
  if (pid == 0) {
    execl(clusterdns.c_str(), clusterdns.c_str(), listen.c_str(), http.c_str(), master.c_str(),
          "--service-cidr=10.96.0.0/12", "--upstream=none", static_cast<char*>(nullptr));
    _exit(127);
  }

  // 1. Initial sync: the last Service of the list answered.
  DnsClient dns(dns_port);
  const size_t last = services % 10 == 0 ? services - 2 : services - 1;  // not headless
  const std::string last_name = absl::StrCat("svc-", last, ".", Namespace(last, services), ".svc.cluster.local");
  std::string got;
  while ((got = dns.AskA(last_name)) != Ip(last, 96)) {
    if (Clock::now() - start > std::chrono::seconds(60)) {
      std::fprintf(stderr, "no answer for %s after 60 s (last: %s)\n", last_name.c_str(), got.c_str());
      kill(pid, SIGKILL);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const double sync_ms = Ms(Clock::now() - start);
  std::printf("initial sync: first answer for the last Service %.0f ms after start (RSS %.0f MB)\n",
              sync_ms, ProcMb(pid, "VmRSS"));
  {
    // Where the time went: each listing's end (the sources' last sync) against the first answer;
    // what is left after the later of the two is the full build and the publish.
    auto metrics = clusterdns::testing::HttpGet(absl::StrCat("http://127.0.0.1:", http_port, "/metrics"), {});
    for (const char* source : {"kubernetes/services", "kubernetes/endpointslices"}) {
      const std::string key = absl::StrCat("clusterdns_source_last_sync_timestamp_seconds{source=\"", source, "\"} ");
      const size_t at = metrics.body.find(key);
      if (at == std::string::npos) continue;
      const double t = std::atof(metrics.body.c_str() + at + key.size());
      std::printf("  %s listed %.0f ms after start\n", source, (t - start_unix) * 1000);
    }
  }

  // 2. Single-Service changes at `rate` per second.
  std::vector<double> latencies;
  const auto period = std::chrono::duration<double>(1.0 / rate);
  auto next = Clock::now();
  for (size_t c = 0; c < changes; ++c) {
    size_t i = (c * 7919) % services;
    if (i % 10 == 9) --i;  // a ClusterIP Service
    const std::string name = absl::StrCat("svc-", i, ".", Namespace(i, services), ".svc.cluster.local");
    const std::string new_ip = Ip(i + 1 + (c % 200) * 4096, 200);
    const auto t0 = Clock::now();
    (*api)->Apply(FakeResource::kServices, ServiceJson(i, services, new_ip));
    while (dns.AskA(name) != new_ip) {
      if (Clock::now() - t0 > std::chrono::seconds(5)) {
        std::fprintf(stderr, "change %zu (%s → %s) not answered after 5 s\n", c, name.c_str(), new_ip.c_str());
        kill(pid, SIGKILL);
        return 1;
      }
    }
    latencies.push_back(Ms(Clock::now() - t0));
    next += std::chrono::duration_cast<Clock::duration>(period);
    std::this_thread::sleep_until(next);
  }
  std::printf("programming latency over %zu changes at %.0f/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              changes, rate, Percentile(latencies, 0.5), Percentile(latencies, 0.99),
              *std::max_element(latencies.begin(), latencies.end()));

  // 3. A forced relist of both kinds: drop the watches, change one object of each kind while the
  // informers back off, and compact the history, so both resume from a resourceVersion that is
  // gone (410) and list everything again.
  const double rss_before = ProcMb(pid, "VmRSS");
  (*api)->DropWatchConnections();
  (*api)->Apply(FakeResource::kServices, ServiceJson(0, services, Ip(7, 201)));
  (*api)->Apply(FakeResource::kEndpointSlices, SliceJson(1, services));
  (*api)->CompactHistory();
  const auto relist_start = Clock::now();
  double rss_peak = rss_before;
  size_t asked = 0, answered = 0;
  bool relisted = false;
  while (Clock::now() - relist_start < std::chrono::seconds(30)) {
    rss_peak = std::max(rss_peak, ProcMb(pid, "VmRSS"));
    ++asked;
    // Any address will do (phase 2 may have moved it): the Service must never go missing.
    answered += dns.AskA(last_name).rfind("10.", 0) == 0;
    auto metrics = clusterdns::testing::HttpGet(absl::StrCat("http://127.0.0.1:", http_port, "/metrics"), {});
    const std::string want = "clusterdns_source_lists_total{source=\"kubernetes/endpointslices\"} 2";
    const std::string want_s = "clusterdns_source_lists_total{source=\"kubernetes/services\"} 2";
    if (metrics.body.find(want) != std::string::npos && metrics.body.find(want_s) != std::string::npos) {
      relisted = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::printf("forced relist: %s in %.0f ms; RSS %.0f MB before, peak %.0f MB during; %zu of %zu "
              "queries during it answered\n",
              relisted ? "complete" : "NOT complete", Ms(Clock::now() - relist_start), rss_before,
              rss_peak, answered, asked);

  const double hwm = ProcMb(pid, "VmHWM");
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::printf("clusterdns peak RSS (VmHWM): %.0f MB; exit %d\n", hwm,
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return relisted ? 0 : 1;
}
