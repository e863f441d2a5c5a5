// App: the whole clusterdns control plane wired together, as the binary runs it: sources
// (objects file, Kubernetes) → Controller → TablePublisher → kernel-socket listeners, plus the
// HTTP endpoints. main() parses flags into an AppConfig, starts an App and waits for a signal;
// tests start an App in-process the same way.
//
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<App> app, App::Start(config));
//   ... wait for SIGTERM ...
//   app->Stop();
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/forward/forwarder.h"
#include "controlplane/http/metrics.h"
#include "controlplane/kube/kube_connection.h"
#include "controlplane/listen/listen_address.h"
#include "records/query_counters.h"
#include "records/answer_cache.h"
#include "records/table_publisher.h"
#include "records/zone_config.h"

namespace clusterdns::controlplane {

struct AppConfig {
  records::ZoneConfig zone;
  std::string objects_file;                 // empty: no file source
  std::optional<KubeConnection> kubernetes;  // nullopt: no Kubernetes source
  std::vector<ListenAddress> listen;
  std::string http_addr = "127.0.0.1:8080";  // empty: no HTTP server
  absl::Duration coalesce_window = absl::Milliseconds(1);
  absl::Duration tcp_idle_timeout = absl::Seconds(10);
  int max_tcp_connections = 1024;
  // Names outside the served zones: forwarded to forward.upstreams; none: REFUSED.
  ForwarderOptions forward;
  // The cache of upstream answers that every answering thread consults (with forwarding only;
  // cache.max_entries 0: none). forward.cache is set by Start.
  records::AnswerCacheOptions cache;
  // Kubernetes informer tuning (tests shorten these).
  absl::Duration kube_idle_timeout = absl::Minutes(3);
  absl::Duration kube_backoff_initial = absl::Milliseconds(200);
  absl::Duration kube_backoff_max = absl::Seconds(30);

  // The DPDK dataplane, when main created one (before App::Start, so that its workers' CPUs are
  // set aside before any control-plane thread starts). Not owned; they outlive the App.
  records::GracePeriod* dataplane_grace = nullptr;  // the workers' QSBR
  const WorkerCounterSource* dataplane_workers = nullptr;
  const ExceptionPathCounterSource* dataplane_exception_path = nullptr;
  const ForwardPathCounterSource* dataplane_forward_path = nullptr;
  std::vector<const records::QueryCounters*> dataplane_counters;
};

class App {
 public:
  // Binds every socket, loads the objects file, starts every thread. Errors name the flag or file
  // that is wrong; nothing is left running on error.
  static absl::StatusOr<std::unique_ptr<App>> Start(AppConfig config);
  ~App();  // Stop()
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  void Stop();  // idempotent; stops sources, listeners, the controller, then HTTP

  std::vector<ListenAddress> listening() const;  // actual ports (port 0 resolved)
  int http_port() const;                          // 0 without an HTTP server
  bool ready() const;
  // What the dataplane's workers read tables from (Dataplane::Launch).
  const records::TablePublisher* publisher() const;
  // The cache of upstream answers the workers consult too; null without one.
  const records::AnswerCache* answer_cache() const;
  // What the dataplane's forward path hands queries to; null without forwarding.
  QueryForwarder* query_forwarder() const;

 private:
  struct Parts;
  explicit App(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace clusterdns::controlplane
