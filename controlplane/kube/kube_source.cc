// KubeSource: see kube_source.h.
#include "controlplane/kube/kube_source.h"

#include <utility>

namespace clusterdns::controlplane {

absl::StatusOr<std::unique_ptr<KubeSource>> KubeSource::Create(const KubeConnection& connection,
                                                               SourceSink* services_sink,
                                                               SourceSink* slices_sink,
                                                               InformerOptions options) {
  if (services_sink == nullptr || slices_sink == nullptr) {
    return absl::InvalidArgumentError("kubernetes source: a sink for each kind is required");
  }
  std::unique_ptr<KubeSource> source(new KubeSource());
  InformerOptions slice_options = options;
  if (slice_options.seed != 0) ++slice_options.seed;
  absl::StatusOr<std::unique_ptr<Informer>> services = Informer::Create(
      connection, ObjectKind::kService, services_sink, &source->service_stats_, std::move(options));
  if (!services.ok()) return services.status();
  absl::StatusOr<std::unique_ptr<Informer>> slices =
      Informer::Create(connection, ObjectKind::kEndpointSlice, slices_sink, &source->slice_stats_,
                       std::move(slice_options));
  if (!slices.ok()) return slices.status();
  source->services_ = std::move(*services);
  source->slices_ = std::move(*slices);
  return source;
}

KubeSource::~KubeSource() { Stop(); }

void KubeSource::Start() {
  services_->Start();
  slices_->Start();
}

void KubeSource::Stop() {
  // Each Stop interrupts at once and then joins; two sequential Stops cost two short joins.
  if (services_ != nullptr) services_->Stop();
  if (slices_ != nullptr) slices_->Stop();
}

bool KubeSource::synced() const { return services_->synced() && slices_->synced(); }

std::vector<const SourceStats*> KubeSource::stats() const {
  return {&service_stats_, &slice_stats_};
}

}  // namespace clusterdns::controlplane
