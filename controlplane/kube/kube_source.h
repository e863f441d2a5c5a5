// KubeSource: the Kubernetes API as a source of cluster objects: two informers (informer.h), one
// for Services and one for EndpointSlices, each on its own thread, each with its own SourceSink
// (SourceSink's contract: one calling thread per sink object) and its own SourceStats
// ("kubernetes/services", "kubernetes/endpointslices").
//
// Threads: Create / Start / Stop from one owner thread (Stop is prompt and joins both informers;
// idempotent; the destructor calls it). synced() and stats() from any thread. The sinks are
// called from the informer threads and must outlive the KubeSource.
//
// Usage:
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<KubeSource> kube,
//       KubeSource::Create(connection, &services_sink, &slices_sink, InformerOptions()));
//   kube->Start();
//   ... /ready answers 200 once kube->synced() ...
//   kube->Stop();
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/kube/informer.h"
#include "controlplane/kube/kube_connection.h"
#include "controlplane/source_sink.h"
#include "controlplane/source_stats.h"

namespace clusterdns::controlplane {

class KubeSource {
 public:
  // Errors: a server URL that cannot be used, a null sink. Nothing is contacted yet. The seed in
  // options (if non-zero) seeds the Services informer; the EndpointSlices one gets seed + 1.
  static absl::StatusOr<std::unique_ptr<KubeSource>> Create(const KubeConnection& connection,
                                                            SourceSink* services_sink,
                                                            SourceSink* slices_sink,
                                                            InformerOptions options);
  ~KubeSource();
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  void Start();
  void Stop();

  // Both informers have completed a full listing at least once.
  bool synced() const;

  // The two informers' counters (Services first), alive as long as the KubeSource.
  std::vector<const SourceStats*> stats() const;

 private:
  KubeSource() = default;

  // Stats first: they outlive the informers that write them.
  SourceStats service_stats_{"kubernetes/services"};
  SourceStats slice_stats_{"kubernetes/endpointslices"};
  std::unique_ptr<Informer> services_;
  std::unique_ptr<Informer> slices_;
};

}  // namespace clusterdns::controlplane
