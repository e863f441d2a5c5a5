// Readiness helpers (readiness.h).
#include "controlplane/http/readiness.h"

#include <atomic>

namespace clusterdns::controlplane {

Readiness SourcesSynced(const std::vector<const SourceStats*>& sources) {
  if (sources.empty()) return Readiness::NotReady("no source of cluster objects configured");
  std::string pending;
  size_t count = 0;
  for (const SourceStats* s : sources) {
    // relaxed: a flag that only goes false → true; no data is read on the strength of it.
    if (s->synced.load(std::memory_order_relaxed)) continue;
    if (!pending.empty()) pending += ", ";
    pending += s->name;
    ++count;
  }
  if (count == 0) return Readiness::Ready();
  return Readiness::NotReady((count == 1 ? "source not synced: " : "sources not synced: ") +
                             pending);
}

}  // namespace clusterdns::controlplane
