// App: construction order and teardown order of the control plane's parts (see app.h).
#include "controlplane/app.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/controller.h"
#include "controlplane/http/http_server.h"
#include "controlplane/http/metrics.h"
#include "controlplane/kube/kube_source.h"
#include "controlplane/listen/dns_listeners.h"
#include "controlplane/objects_file_source.h"
#include "records/status_macros.h"
#include "records/table_builder.h"
#include "records/table_publisher.h"

namespace clusterdns::controlplane {

inline constexpr char kVersion[] = "0.3.0";

// The forwarder's counters for /metrics (the forward library knows nothing of HTTP).
class ForwarderMetrics final : public ForwarderCounterSource {
 public:
  explicit ForwarderMetrics(const Forwarder* forwarder) : forwarder_(forwarder) {}
  ForwarderSnapshot SnapshotForwarder() const override {
    auto load = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    const ForwarderStats& s = forwarder_->stats();
    ForwarderSnapshot out;
    out.requests = load(s.requests);
    out.relayed = load(s.relayed);
    out.in_flight = load(s.in_flight);
    for (size_t i = 0; i < s.servfail.size(); ++i) {
      out.servfail_by_cause.emplace_back(
          std::string(ServfailCauseName(static_cast<ServfailCause>(i))), load(s.servfail[i]));
    }
    for (size_t i = 0; i < s.dropped.size(); ++i) {
      out.dropped_by_reason.emplace_back(
          std::string(ForwardDropReasonName(static_cast<ForwardDropReason>(i))),
          load(s.dropped[i]));
    }
    for (size_t i = 0; i < forwarder_->upstream_count(); ++i) {
      const UpstreamStats& u = forwarder_->upstream_stats(i);
      out.upstreams.push_back({forwarder_->upstream(i).ToString(), load(u.queries_sent),
                               load(u.answers), load(u.timeouts), load(u.tcp_retries),
                               load(u.errors)});
    }
    return out;
  }

 private:
  const Forwarder* forwarder_;
};

struct App::Parts {
  std::unique_ptr<records::EpochGracePeriod> grace;
  std::unique_ptr<records::CombinedGracePeriod> combined;  // with the dataplane's QSBR
  std::unique_ptr<records::TablePublisher> publisher;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<SourceStats> file_stats;
  std::unique_ptr<ObjectsFileSource> file;
  std::unique_ptr<KubeSource> kube;
  // Before its readers (the listeners) and its writer (the forwarder): destroyed after them.
  std::unique_ptr<records::AnswerCache> cache;
  std::unique_ptr<DnsListeners> listeners;
  // Declared after the listeners: destroyed (stopped) first, as its reply callbacks send on the
  // listeners' sockets.
  std::unique_ptr<Forwarder> forwarder;
  std::unique_ptr<ForwarderMetrics> forwarder_metrics;
  std::unique_ptr<HttpServer> http;
  bool stopped = false;
};

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

App::~App() { Stop(); }

absl::StatusOr<std::unique_ptr<App>> App::Start(AppConfig config) {
  auto p = std::make_unique<Parts>();
  CDNS_ASSIGN_OR_RETURN(std::unique_ptr<records::TableBuilder> builder,
                        records::TableBuilder::Create(config.zone));
  // One reader slot per listener thread (a UDP and a TCP thread per address).
  p->grace = std::make_unique<records::EpochGracePeriod>(std::max<size_t>(1, 2 * config.listen.size()));
  records::GracePeriod* grace = p->grace.get();
  if (config.dataplane_grace != nullptr) {
    p->combined = std::make_unique<records::CombinedGracePeriod>(
        std::vector<records::GracePeriod*>{config.dataplane_grace, p->grace.get()});
    grace = p->combined.get();
  }
  p->publisher = std::make_unique<records::TablePublisher>(grace);
  p->metrics = std::make_unique<Metrics>(kVersion);
  if (config.dataplane_workers != nullptr) p->metrics->SetWorkerSource(config.dataplane_workers);
  if (config.dataplane_exception_path != nullptr) {
    p->metrics->SetExceptionPathSource(config.dataplane_exception_path);
  }
  if (config.dataplane_forward_path != nullptr) {
    p->metrics->SetForwardPathSource(config.dataplane_forward_path);
  }
  for (const records::QueryCounters* c : config.dataplane_counters) {
    p->metrics->AddQueryCounters("dataplane", c);
  }
  p->controller = std::make_unique<Controller>(
      std::move(builder), p->publisher.get(),
      ControllerOptions{.coalesce_window = config.coalesce_window});
  Metrics* metrics = p->metrics.get();
  p->controller->SetPublishCallback([metrics](const PublishReport& r) {
    metrics->SetTable(r.names, r.bytes, r.shards, r.generation);
    metrics->CountPublish(r.shards_rebuilt);
    for (double s : r.latencies_seconds) metrics->ObserveProgrammingLatency(s);
  });

  // Every sink exists before the controller starts.
  SourceSink* file_sink = nullptr;
  SourceSink* services_sink = nullptr;
  SourceSink* slices_sink = nullptr;
  if (!config.objects_file.empty()) file_sink = p->controller->AddSource("file");
  if (config.kubernetes) {
    services_sink = p->controller->AddSource("kubernetes/services");
    slices_sink = p->controller->AddSource("kubernetes/endpointslices");
  }

  // Sockets first: a port in use fails before anything runs.
  DnsListenerOptions listen_options;
  const bool forwarding = !config.forward.upstreams.empty();
  listen_options.respond.refuse_outside_zones = !forwarding;  // --upstream=none: REFUSED
  listen_options.respond.recursion_available = forwarding;
  // The forwarder serves the --listen sockets and the dataplane's forward path.
  if (forwarding && (!config.listen.empty() || config.dataplane_grace != nullptr)) {
    if (config.cache.max_entries > 0) {
      p->cache = std::make_unique<records::AnswerCache>(config.cache, grace);
      config.forward.cache = p->cache.get();
      listen_options.respond.cache = p->cache.get();
      p->metrics->SetAnswerCache(p->cache.get());
    }
    p->forwarder = std::make_unique<Forwarder>(config.forward);
    CDNS_RETURN_IF_ERROR(p->forwarder->Start());
    listen_options.forwarder = p->forwarder.get();
    p->forwarder_metrics = std::make_unique<ForwarderMetrics>(p->forwarder.get());
    p->metrics->SetForwarderSource(p->forwarder_metrics.get());
  }
  listen_options.tcp_idle_timeout = config.tcp_idle_timeout;
  listen_options.max_tcp_connections = config.max_tcp_connections;
  if (!config.listen.empty()) {
    CDNS_ASSIGN_OR_RETURN(p->listeners,
                          DnsListeners::Bind(config.listen, p->publisher.get(), p->grace.get(),
                                             /*first_reader_id=*/0, listen_options));
    for (const records::QueryCounters* c : p->listeners->counters()) {
      p->metrics->AddQueryCounters("listen", c);
    }
  }

  p->controller->Start();  // publishes the zone apexes: every listener has a table from here on
  if (file_sink != nullptr) {
    p->file_stats = std::make_unique<SourceStats>("file");
    p->file = std::make_unique<ObjectsFileSource>(config.objects_file, file_sink,
                                                  p->file_stats.get(), ObjectsFileSource::Options{});
    CDNS_RETURN_IF_ERROR(p->file->LoadInitial());
    CDNS_RETURN_IF_ERROR(p->file->Start());
    p->metrics->AddSource(p->file_stats.get());
  }
  if (config.kubernetes) {
    InformerOptions informer;
    informer.idle_timeout = config.kube_idle_timeout;
    informer.backoff_initial = config.kube_backoff_initial;
    informer.backoff_max = config.kube_backoff_max;
    CDNS_ASSIGN_OR_RETURN(p->kube, KubeSource::Create(*config.kubernetes, services_sink,
                                                      slices_sink, informer));
    for (const SourceStats* s : p->kube->stats()) p->metrics->AddSource(s);
  }
  if (!config.http_addr.empty()) {
    Controller* controller = p->controller.get();
    CDNS_ASSIGN_OR_RETURN(p->http, HttpServer::Start(config.http_addr, p->metrics.get(), [controller] {
      std::string why;
      if (controller->Ready(&why)) return Readiness::Ready();
      return Readiness::NotReady(why);
    }));
  }
  if (p->listeners) p->listeners->Start();
  if (p->kube) p->kube->Start();

  std::vector<std::string> serving;
  if (p->listeners) {
    for (const ListenAddress& a : p->listeners->bound()) serving.push_back(a.ToString());
  }
  std::vector<std::string> sources;
  if (p->file) sources.push_back("file " + config.objects_file);
  if (config.kubernetes) sources.push_back("kubernetes " + config.kubernetes->server);
  if (config.dataplane_grace != nullptr) serving.push_back("(and the DPDK ports)");
  std::vector<std::string> upstreams;
  for (const UpstreamAddress& u : config.forward.upstreams) upstreams.push_back(u.ToString());
  std::fprintf(stderr,
               "clusterdns: serving %s on udp+tcp [%s], http %s, sources [%s], upstreams [%s]\n",
               absl::StrJoin(config.zone.domains, ",").c_str(),
               absl::StrJoin(serving, " ").c_str(),
               p->http ? absl::StrCat(config.http_addr, " (port ", p->http->port(), ")").c_str() : "off",
               absl::StrJoin(sources, ", ").c_str(),
               upstreams.empty() ? "none: REFUSED" : absl::StrJoin(upstreams, " ").c_str());
  return std::unique_ptr<App>(new App(std::move(p)));
}

void App::Stop() {
  if (parts_ == nullptr || parts_->stopped) return;
  parts_->stopped = true;
  if (parts_->kube) parts_->kube->Stop();
  if (parts_->file) parts_->file->Stop();
  // The forwarder first: what it still holds is answered (SERVFAIL) through the listeners'
  // sockets, which stay open until they stop.
  if (parts_->forwarder) parts_->forwarder->Stop();
  if (parts_->listeners) parts_->listeners->Stop();
  parts_->controller->Stop();
  if (parts_->http) parts_->http->Stop();
}

std::vector<ListenAddress> App::listening() const {
  return parts_->listeners ? parts_->listeners->bound() : std::vector<ListenAddress>{};
}

int App::http_port() const { return parts_->http ? parts_->http->port() : 0; }

bool App::ready() const { return parts_->controller->Ready(); }

const records::AnswerCache* App::answer_cache() const { return parts_->cache.get(); }

QueryForwarder* App::query_forwarder() const { return parts_->forwarder.get(); }

const records::TablePublisher* App::publisher() const { return parts_->publisher.get(); }

}  // namespace clusterdns::controlplane
