// Readiness: what GET /ready reports. The HTTP server calls a ReadyFn for every /ready request and
// answers 200 "ready\n" or 503 "not ready: <reason>\n".
//
// Threads: a ReadyFn runs on an HTTP worker thread, possibly on several at once; it must be
// thread-safe and quick (read atomics or take a short lock, never wait on the network).
//
//   ReadyFn ready = [&] { return SourcesSynced({&services_stats, &slices_stats}); };
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "controlplane/source_stats.h"

namespace clusterdns::controlplane {

struct Readiness {
  bool ready = false;
  std::string reason;  // when not ready: why, one line ("source file has not synced")

  static Readiness Ready() { return Readiness{true, ""}; }
  static Readiness NotReady(std::string why) { return Readiness{false, std::move(why)}; }
};

using ReadyFn = std::function<Readiness()>;

// Ready once every source has completed a full listing (SourceStats::synced); otherwise the reason
// names the sources that have not: "sources not synced: kubernetes/services, file". No sources at
// all counts as not ready (nothing to answer from). Relaxed loads; any thread.
Readiness SourcesSynced(const std::vector<const SourceStats*>& sources);

}  // namespace clusterdns::controlplane
