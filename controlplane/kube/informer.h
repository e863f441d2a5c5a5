// Informer: keeps one kind of Kubernetes object (Services or EndpointSlices, across all
// namespaces) flowing into a SourceSink: a paginated list, then a watch from the list's
// resourceVersion, forever, on its own thread. The shape of client-go's reflector.
//
// Protocol:
//  - List: GET /api/v1/services?limit=500[&continue=...] (or /apis/discovery.k8s.io/v1/
//    endpointslices), each page decoded as it is read and its items streamed to the sink between
//    OnListStart and OnListEnd. At most one page is buffered; the client never keeps the objects.
//  - Watch: ?watch=true&allowWatchBookmarks=true&resourceVersion=RV&timeoutSeconds=N (N drawn
//    from [min_watch_timeout, max_watch_timeout], spreading reconnects as client-go does). Each
//    line is decoded as it arrives; ADDED / MODIFIED → OnService / OnSlice, DELETED → OnDelete,
//    BOOKMARK advances RV only. Every applied event and bookmark advances RV.
//  - The server ending the watch (timeoutSeconds) → a new watch from RV at once.
//  - 410 Gone / Expired (HTTP 410 on a list page or a watch, or an ERROR event with code 410) →
//    a new listing (stats.relists). The sink keeps serving its old table until OnListEnd.
//  - Anything else that breaks a request (connection refused or lost, TLS failure, no byte for
//    idle_timeout, HTTP 401 / 403 / 429 / 5xx, an ERROR event of another code, a line that is not
//    JSON) → wait a jittered exponential backoff, then watch again from RV (no relist), or
//    restart the listing if it was the listing that failed. A 401 is retried with a freshly read
//    token (the HTTP client reads it per request).
//  - A malformed object (in a list page or an event) is skipped, counted in stats.malformed and
//    logged once with the decoder's message naming the object and field; the rest applies.
//
// Threads: Start() launches the informer thread; every sink call and every stats write comes from
// it. Stop() (any thread but the informer's own, e.g. from a sink callback) interrupts whatever
// it is doing, a stalled request included, within milliseconds, and joins it; idempotent, and
// called by the destructor. The sink and stats must outlive the informer. synced() may be called
// from any thread.
//
// Usage:
//   SourceStats stats("kubernetes/services");
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<Informer> informer,
//       Informer::Create(connection, ObjectKind::kService, &sink, &stats, InformerOptions()));
//   informer->Start();
//   ...
//   informer->Stop();
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "controlplane/kube/backoff.h"
#include "controlplane/kube/http_client.h"
#include "controlplane/kube/kube_connection.h"
#include "controlplane/kube/line_framer.h"
#include "controlplane/kube/list_page.h"
#include "controlplane/kube/padded_buffer.h"
#include "controlplane/kube/watch_event.h"
#include "controlplane/source_sink.h"
#include "controlplane/source_stats.h"

namespace clusterdns::controlplane {

struct InformerOptions {
  // Items per list page: the page size kubectl and client-go's pager use. Bounds the one page
  // buffered in memory (~500 objects, a few hundred KiB).
  size_t page_size = 500;
  // Watch timeoutSeconds, drawn uniformly from [min, max] per watch (client-go: 5–10 min), so
  // that many clients do not reconnect in step. Whole seconds, at least 1.
  absl::Duration min_watch_timeout = absl::Minutes(5);
  absl::Duration max_watch_timeout = absl::Minutes(10);
  // No byte for this long on a list or a watch → the connection is dropped and retried. API
  // servers send a bookmark at least every minute to a watch with allowWatchBookmarks, so three
  // minutes of silence means a dead connection (a half-open TCP, a stuck proxy).
  absl::Duration idle_timeout = absl::Minutes(3);
  // Retry delays: full jitter, doubling from backoff_initial up to backoff_max; the doubling
  // starts over after backoff_reset_after without a failure (see backoff.h).
  absl::Duration backoff_initial = absl::Milliseconds(200);
  absl::Duration backoff_max = absl::Seconds(30);
  absl::Duration backoff_reset_after = absl::Minutes(2);
  // Seeds the backoff jitter and the watch timeouts. 0 → from std::random_device.
  uint64_t seed = 0;
  absl::Duration connect_timeout = absl::Seconds(10);
  // A list page larger than this is refused (an error, retried): one page of 500 Services is well
  // under 1 MiB; 256 MiB means a broken server, not a big cluster.
  size_t max_page_bytes = size_t{256} << 20;
  // A watch line larger than this is an error (LineFramer's cap).
  size_t max_line_bytes = LineFramer::kDefaultMaxLineBytes;
  // Ask for gzip-compressed list pages. Off by default: clusterdns runs next to the API server on
  // a datacenter network, where inflating 200k objects costs more CPU (on both ends: the server
  // deflates them too) than the bytes cost on the wire. Measured with 100k Services and 100k
  // EndpointSlices on 2 cores: zlib was 5% of clusterdns's CPU during the initial sync.
  bool compressed_lists = false;
  // Where log lines go (one line each, without a newline, already prefixed with the stats name).
  // Empty → stderr as "clusterdns: <line>". Called from the informer thread.
  std::function<void(std::string_view line)> log;
};

class Informer {
 public:
  // Errors: the HTTP client's (a server URL that cannot be parsed). sink and stats must be
  // non-null and outlive the informer.
  static absl::StatusOr<std::unique_ptr<Informer>> Create(const KubeConnection& connection,
                                                          ObjectKind kind, SourceSink* sink,
                                                          SourceStats* stats,
                                                          InformerOptions options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();  // once; launches the thread
  void Stop();   // prompt, joins; idempotent

  // A full listing has completed at least once (stays true across relists).
  bool synced() const { return stats_->synced.load(std::memory_order_relaxed); }

  // The list or watch path of a kind: "/api/v1/services",
  // "/apis/discovery.k8s.io/v1/endpointslices".
  static const char* ResourcePath(ObjectKind kind);

 private:
  // How a list or a watch ended.
  enum class Outcome : uint8_t {
    kDone,     // list complete / watch ended by the server cleanly: go on at once
    kGone,     // 410: relist
    kFailed,   // anything else: back off, then retry
    kStopped,  // Stop()
  };

  Informer(ObjectKind kind, SourceSink* sink, SourceStats* stats, InformerOptions options,
           std::unique_ptr<HttpClient> http);
  void Run();
  Outcome Guarded(Outcome (Informer::*step)(), std::string_view what);
  Outcome List();
  Outcome AbortList();  // tells the sink the listing broke off; kDone
  Outcome Watch();
  Outcome Failed(const absl::Status& status, std::string_view what);
  absl::Status HandleLine(std::string_view line);
  void Apply(WatchEvent& event);
  bool WaitBackoff();  // logs failure_; false: stopped
  void Log(std::string_view line);
  std::string WatchTarget();
  static std::string Escape(std::string_view text);

  const ObjectKind kind_;
  SourceSink* const sink_;
  SourceStats* const stats_;
  const InformerOptions options_;
  std::unique_ptr<HttpClient> http_;

  // Informer-thread state.
  std::string resource_version_;  // last seen; "" → list next
  Backoff backoff_;
  std::mt19937_64 rng_;
  ListPageDecoder page_decoder_;
  PaddedBuffer page_;
  LineFramer framer_;
  WatchEventDecoder event_decoder_;
  // Why HandleLine ended the current watch (it counted and described it already).
  enum class Abort : uint8_t { kNone, kGone, kErrorEvent, kGarbage };
  Abort watch_abort_ = Abort::kNone;
  size_t watch_lines_ = 0;  // lines handled on the current watch
  std::string failure_;     // what went wrong last, logged with the backoff delay

  absl::Notification stop_;  // Stop() was called: ends backoff waits
  absl::Mutex lifecycle_mu_;
  std::thread thread_ ABSL_GUARDED_BY(lifecycle_mu_);
  bool started_ ABSL_GUARDED_BY(lifecycle_mu_) = false;
};

}  // namespace clusterdns::controlplane
