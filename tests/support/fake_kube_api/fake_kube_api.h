// A fake Kubernetes API server for tests: Services and EndpointSlices over HTTP(S) with the real
// list/watch wire format (cpp-httplib server on 127.0.0.1, ephemeral port), plus fault injection.
//
// Wire format, as kube-apiserver speaks it:
//   GET /api/v1/services, /api/v1/namespaces/{ns}/services,
//       /apis/discovery.k8s.io/v1/endpointslices, /apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices
//   LIST  (no watch param): {"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"R"
//         [,"continue":"TOKEN","remainingItemCount":N]},"items":[...]}; items sorted by "ns/name",
//         without kind/apiVersion. limit=N (and max_page_size) paginate; continue=TOKEN serves the
//         next page of the same snapshot (its rv); an unknown/compacted token answers 410 Expired.
//   WATCH (watch=1|true): 200, chunked application/json, one {"type":T,"object":{...}} per line,
//         objects WITH kind/apiVersion. resourceVersion=R replays retained events with rv > R, then
//         live ones; R older than the retained history (CompactHistory) gives one ERROR line with a
//         410 Expired Status and the stream ends. No resourceVersion or "0": ADDED for every current
//         object first. allowWatchBookmarks=true enables SendBookmark(); timeoutSeconds=N ends the
//         stream cleanly after N seconds.
//   Errors are Status objects: 401 Unauthorized (bearer token), 404 NotFound (other paths),
//         400 BadRequest (malformed parameters), 410 Expired, and whatever FailNextRequests injects.
//
// Connections are not kept alive: every response carries "Connection: close" (so the destructor
// never waits on an idle keep-alive connection). A watch whose client goes away is noticed within
// ~50 ms even while nothing is sent, so open_watches() counts only live streams.
//
// Threads: every public method is thread-safe and may be called while requests are in flight.
// Start() ignores SIGPIPE process-wide (OpenSSL writes to sockets with write(2), and a client that
// hangs up mid-stream would otherwise kill the test process).
//
// Usage:
//   absl::StatusOr<std::unique_ptr<FakeKubeApi>> api = FakeKubeApi::Start({.bearer_token = "t0k"});
//   ASSERT_TRUE(api.ok()) << api.status();
//   (*api)->Apply(FakeResource::kServices, R"({"kind":"Service","apiVersion":"v1",
//       "metadata":{"namespace":"default","name":"web"},"spec":{"clusterIP":"10.96.0.10"}})");
//   client.Connect((*api)->url());   // then list/watch
//   ASSERT_TRUE((*api)->WaitForOpenWatches(FakeResource::kServices, 1, absl::Seconds(2)));
//   (*api)->Delete(FakeResource::kServices, "default", "web");   // DELETED on the open watch
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace clusterdns::testing {

enum class FakeResource { kServices, kEndpointSlices };

struct FakeKubeApiOptions {
  // Non-empty: every request must carry "Authorization: Bearer <token>", else 401 + Status JSON.
  std::string bearer_token;
  // Both set: serve https instead of http.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: require a client certificate signed by this CA (PEM file).
  std::string client_ca_file;
  // 0: honour the client's limit; else cap every page (also of a list without limit) at this many.
  size_t max_page_size = 0;
  // 0: an ephemeral port. Else this port (a test that restarts the "API server" where its
  // clients expect it).
  int port = 0;
};

class FakeKubeApi {
 public:
  // Binds 127.0.0.1 on an ephemeral port and serves on background threads (a pool of 64: watch
  // streams are long-lived). Fails when the certificate/key cannot be loaded or nothing binds.
  static absl::StatusOr<std::unique_ptr<FakeKubeApi>> Start(FakeKubeApiOptions options = {});
  // Ends every stream (abruptly), stops the server and joins its threads; takes well under 1 s.
  ~FakeKubeApi();
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  int port() const;
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT" (no trailing slash).
  std::string url() const;

  // The object store. `object_json` is a full JSON object (kind/apiVersion are replaced by the
  // resource's own; metadata.namespace and metadata.name identify it; any whitespace layout). The
  // server assigns the next resourceVersion (one global counter over both resources, starting
  // after 1000), writes it into metadata.resourceVersion of its stored copy and sends ADDED (new)
  // or MODIFIED (existing ns/name) to every open watch of that resource. Returns the rv, or 0 when
  // the JSON is malformed or has no metadata.name (the reason goes to stderr; nothing changes).
  uint64_t Apply(FakeResource r, std::string_view object_json);
  // Removes ns/name and sends DELETED with its last state (under the new rv). 0 if absent.
  uint64_t Delete(FakeResource r, std::string_view ns, std::string_view name);
  // The newest rv (1000 before the first change).
  uint64_t resource_version() const;

  // Faults and controls; each takes effect immediately, also on streams already open.
  // Token rotation: from now on only this token is accepted ("" turns auth off).
  void SetBearerToken(std::string token);
  // Forgets event history and list snapshots: a watch from an rv older than now, or any earlier
  // list "continue" token, now fails with 410 Expired.
  void CompactHistory();
  // Abruptly closes every open watch stream (no terminating chunk: the client sees a truncated
  // chunked body).
  void DropWatchConnections();
  // Writes `line` + "\n" raw into every open watch of r (in order with queued events).
  void InjectWatchLine(FakeResource r, std::string line);
  // A BOOKMARK event with the current rv to the open watches of r that asked for bookmarks.
  void SendBookmark(FakeResource r);
  // While stalled, watches send nothing (queued events go out after un-stall, timeoutSeconds is
  // suspended) and new lists hang until un-stalled.
  void SetStall(bool stalled);
  // Every list/watch response starts only after d (0 turns it off).
  void SetResponseDelay(absl::Duration d);
  // The next `count` requests for r (list or watch, after the auth check) get this HTTP status
  // and a Status body.
  void FailNextRequests(FakeResource r, int count, int http_status);

  // Observations, for assertions.
  struct Request {
    std::string path;                           // "/api/v1/services"
    std::map<std::string, std::string> params;  // decoded query parameters (first value of each)
    std::string authorization;                  // the Authorization header, as sent
    int status = 0;                             // the HTTP status answered (0 while undecided)
    bool watch = false;
  };
  // Every request so far, in arrival order.
  std::vector<Request> requests() const;
  // Watch streams of r that are open now (registered and neither ended nor dropped).
  int open_watches(FakeResource r) const;
  // Blocks until at least n watches of r are open (true) or the timeout passes (false).
  bool WaitForOpenWatches(FakeResource r, int n, absl::Duration timeout) const;

  class Impl;

 private:
  explicit FakeKubeApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace clusterdns::testing
