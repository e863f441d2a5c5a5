// A fake Kubernetes API server for tests; see fake_kube_api.h for the contract.
//
// One mutex (mu_) guards the store, the history, the snapshots, the registry of watches and the
// controls. Each watch has its own queue (mutex + condition variable) that the httplib content
// provider drains; lock order is mu_ then a watch's mutex, and a provider never takes mu_.
#include "tests/support/fake_kube_api/fake_kube_api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <httplib.h>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/fake_kube_api/connection_socket.h"
#include "tests/support/fake_kube_api/kube_wire.h"

namespace clusterdns::testing {
namespace {

using kube_wire::FindConnectionSocket;
using kube_wire::ObjectTemplate;
using kube_wire::PeerClosed;
using SteadyClock = std::chrono::steady_clock;

// resource_version() before the first change; etcd revisions of a young cluster look like this.
constexpr uint64_t kFirstResourceVersion = 1000;
// Watch streams are long-lived and each holds a pool thread for its whole life.
constexpr size_t kServerThreads = 64;
// How often a waiting stream or list rechecks shutdown, drops, deadlines and client hang-ups:
// short enough that the destructor and DropWatchConnections feel immediate, long enough not to spin.
constexpr auto kPollInterval = std::chrono::milliseconds(20);

struct ResourceInfo {
  const char* kind;
  const char* api_version;
  const char* list_kind;
};

int Index(FakeResource r) { return r == FakeResource::kServices ? 0 : 1; }

const ResourceInfo& Info(FakeResource r) {
  static constexpr ResourceInfo kInfo[2] = {
      {"Service", "v1", "ServiceList"},
      {"EndpointSlice", "discovery.k8s.io/v1", "EndpointSliceList"},
  };
  return kInfo[Index(r)];
}

// Go's strconv.ParseBool, which kube-apiserver uses for query flags.
bool ParseBool(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

struct Stored {
  ObjectTemplate object;
  uint64_t rv = 0;
};

struct Watcher {
  FakeResource resource = FakeResource::kServices;
  std::string ns;  // "" = every namespace
  bool bookmarks = false;
  int fd = -1;
  std::optional<SteadyClock::time_point> deadline;  // timeoutSeconds
  std::atomic<bool> closed{false};                  // ended, dropped or hung up

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> queue;  // lines to send, "\n" included; guarded by mu
  bool finish = false;            // end cleanly once the queue is sent; guarded by mu
  bool dropped = false;           // end abruptly; guarded by mu

  void Push(std::string line) {
    {
      std::lock_guard<std::mutex> lock(mu);
      queue.push_back(std::move(line));
    }
    cv.notify_one();
  }
  void Wake() {
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_one();
  }
};

struct Snapshot {
  uint64_t rv = 0;
  std::vector<std::pair<std::string, std::string>> items;  // key "ns/name", list item JSON; sorted
};

struct Event {
  FakeResource resource;
  uint64_t rv;
  std::string ns;
  std::string line;
};

}  // namespace

class FakeKubeApi::Impl {
 public:
  explicit Impl(FakeKubeApiOptions options)
      : options_(std::move(options)), token_(options_.bearer_token) {}
  ~Impl() { Stop(); }

  absl::Status Listen();
  void Stop();

  // Handlers.
  void Serve(std::optional<FakeResource> r, const std::string& ns, const httplib::Request& req,
             httplib::Response& res);
  void List(FakeResource r, const std::string& ns, const httplib::Request& req,
            httplib::Response& res);
  void Watch(FakeResource r, const std::string& ns, const httplib::Request& req,
             httplib::Response& res);
  bool Provide(const std::shared_ptr<Watcher>& w, httplib::DataSink& sink);
  // Waits up to d, or less when stopping; returns false when stopping.
  bool SleepUnlessStopping(absl::Duration d);

  // Queues `line` on the open watches of r that see namespace ns (nullptr: all of them).
  // Caller holds mu_.
  void Broadcast(FakeResource r, const std::string* ns, const std::string& line);
  // Broadcasts and keeps the event for watches that resume from an older rv. Caller holds mu_.
  void Record(FakeResource r, uint64_t rv, const std::string& ns, std::string line);
  void SetRequestStatus(size_t index, int status);

  const FakeKubeApiOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listen_thread_;
  int port_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> stalled_{false};

  mutable std::mutex mu_;
  std::condition_variable state_cv_;  // stall and stop changes, for lists and delays waiting
  std::string token_;
  uint64_t rv_ = kFirstResourceVersion;
  uint64_t compacted_rv_ = kFirstResourceVersion;  // watches from an older rv get 410
  std::map<std::string, Stored> objects_[2];       // by "ns/name"
  std::vector<Event> history_;                     // since compacted_rv_, in rv order
  std::map<std::pair<int, uint64_t>, std::shared_ptr<const Snapshot>> snapshots_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  absl::Duration delay_ = absl::ZeroDuration();
  int fail_count_[2] = {0, 0};
  int fail_status_[2] = {0, 0};
  std::vector<Request> requests_;
};

absl::Status FakeKubeApi::Impl::Listen() {
  const bool tls = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
  if (tls) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError("fake kube API: TLS needs both tls_cert_file and tls_key_file");
    }
    server_ = std::make_unique<httplib::SSLServer>(
        options_.tls_cert_file.c_str(), options_.tls_key_file.c_str(),
        options_.client_ca_file.empty() ? nullptr : options_.client_ca_file.c_str());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  if (!server_->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fake kube API: cannot load TLS certificate ", options_.tls_cert_file, ", key ",
        options_.tls_key_file, " or client CA '", options_.client_ca_file, "'"));
  }
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // One request per connection: an idle keep-alive connection would hold the destructor for the
  // keep-alive timeout. The 1 s bounds a client that connects and never sends a request.
  server_->set_keep_alive_max_count(1);
  server_->set_keep_alive_timeout(1);
  // As the Go API server: no Nagle. A watch event is a chunk header, the line and a CRLF written
  // separately; with Nagle the last piece waits for the client's delayed ACK (~40 ms), which
  // shows up as a 33–40 ms programming latency in the control-plane benchmark.
  server_->set_tcp_nodelay(true);

  auto route = [this](const std::string& pattern, std::optional<FakeResource> r, bool namespaced) {
    server_->Get(pattern, [this, r, namespaced](const httplib::Request& req, httplib::Response& res) {
      Serve(r, namespaced ? req.matches[1].str() : std::string(), req, res);
    });
  };
  route(R"(/api/v1/services)", FakeResource::kServices, false);
  route(R"(/api/v1/namespaces/([^/]+)/services)", FakeResource::kServices, true);
  route(R"(/apis/discovery\.k8s\.io/v1/endpointslices)", FakeResource::kEndpointSlices, false);
  route(R"(/apis/discovery\.k8s\.io/v1/namespaces/([^/]+)/endpointslices)",
        FakeResource::kEndpointSlices, true);
  route(R"(.*)", std::nullopt, false);

  if (options_.port != 0) {
    port_ = server_->bind_to_port("127.0.0.1", options_.port) ? options_.port : -1;
  } else {
    port_ = server_->bind_to_any_port("127.0.0.1");
  }
  if (port_ <= 0) return absl::UnavailableError("fake kube API: cannot bind 127.0.0.1");
  listen_thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the listen loop runs, so the destructor must not race it.
  const auto give_up = SteadyClock::now() + std::chrono::seconds(5);
  while (!server_->is_running()) {
    if (SteadyClock::now() > give_up) {
      return absl::DeadlineExceededError("fake kube API: the server thread did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

void FakeKubeApi::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (const auto& w : watchers_) w->Wake();
  }
  state_cv_.notify_all();
  if (server_ != nullptr && listen_thread_.joinable()) {
    server_->stop();
    listen_thread_.join();  // also joins the pool, after every connection has ended
  }
}

bool FakeKubeApi::Impl::SleepUnlessStopping(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  state_cv_.wait_for(lock, absl::ToChronoNanoseconds(d), [this] { return stopping_.load(); });
  return !stopping_;
}

void FakeKubeApi::Impl::SetRequestStatus(size_t index, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[index].status = status;
}

void FakeKubeApi::Impl::Serve(std::optional<FakeResource> r, const std::string& ns,
                              const httplib::Request& req, httplib::Response& res) {
  Request record;
  record.path = req.path;
  for (const auto& [key, value] : req.params) record.params.emplace(key, value);
  record.authorization = req.get_header_value("Authorization");
  const auto watch_param = record.params.find("watch");
  record.watch = r.has_value() && watch_param != record.params.end() && ParseBool(watch_param->second);
  size_t index = 0;
  absl::Duration delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = requests_.size();
    requests_.push_back(record);
    delay = delay_;
  }
  auto fail = [&res](int code, std::string_view message) {
    res.status = code;
    res.set_content(kube_wire::StatusJson(code, message), "application/json");
  };

  if (r.has_value() && delay > absl::ZeroDuration() && !SleepUnlessStopping(delay)) {
    fail(503, "the server is shutting down");
  } else {
    int injected = 0;
    bool authorized = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      authorized = token_.empty() || record.authorization == "Bearer " + token_;
      if (authorized && r.has_value() && fail_count_[Index(*r)] > 0) {
        --fail_count_[Index(*r)];
        injected = fail_status_[Index(*r)];
      }
    }
    if (!authorized) {
      fail(401, "Unauthorized");
    } else if (!r.has_value()) {
      fail(404, "the server could not find the requested resource");
    } else if (injected != 0) {
      fail(injected, absl::StrCat("injected failure (HTTP ", injected, ")"));
    } else if (record.watch) {
      Watch(*r, ns, req, res);
    } else {
      List(*r, ns, req, res);
    }
  }
  SetRequestStatus(index, res.status);
}

void FakeKubeApi::Impl::List(FakeResource r, const std::string& ns, const httplib::Request& req,
                             httplib::Response& res) {
  auto fail = [&res](int code, std::string_view message) {
    res.status = code;
    res.set_content(kube_wire::StatusJson(code, message), "application/json");
  };
  if (stalled_) {
    // A silent server: hang until un-stalled, stopped, or the client gives up.
    const int fd = FindConnectionSocket(req);
    std::unique_lock<std::mutex> lock(mu_);
    while (stalled_ && !stopping_) {
      lock.unlock();
      if (PeerClosed(fd)) {
        res.status = 499;  // nobody reads it; recorded as "client went away"
        return;
      }
      lock.lock();
      state_cv_.wait_for(lock, kPollInterval);
    }
    if (stopping_) return fail(503, "the server is shutting down");
  }

  size_t limit = 0;
  if (req.has_param("limit")) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(req.get_param_value("limit"), &value) || value < 0) {
      return fail(400, "invalid limit: " + req.get_param_value("limit"));
    }
    limit = static_cast<size_t>(value);
  }
  if (options_.max_page_size > 0) {
    limit = limit == 0 ? options_.max_page_size : std::min(limit, options_.max_page_size);
  }

  std::shared_ptr<const Snapshot> snapshot;
  std::string start;
  std::string continue_token;
  size_t remaining = 0;
  std::vector<const std::pair<std::string, std::string>*> page;
  std::unique_lock<std::mutex> lock(mu_);
  const std::string token_param = req.get_param_value("continue");
  if (!token_param.empty()) {
    absl::StatusOr<kube_wire::ContinuePoint> point = kube_wire::DecodeContinue(token_param);
    if (!point.ok()) return fail(400, std::string(point.status().message()));
    auto it = snapshots_.find({Index(r), point->rv});
    if (it == snapshots_.end()) {
      return fail(410,
                  "The provided continue parameter is too old to display a consistent list "
                  "result. You can start a new list without the continue parameter.");
    }
    snapshot = it->second;
    start = point->start;
  } else {
    auto fresh = std::make_shared<Snapshot>();
    fresh->rv = rv_;
    for (const auto& [key, stored] : objects_[Index(r)]) {
      fresh->items.emplace_back(key, stored.object.Item(stored.rv));
    }
    snapshot = std::move(fresh);
  }
  const std::string prefix = ns.empty() ? "" : ns + "/";
  auto it = std::lower_bound(snapshot->items.begin(), snapshot->items.end(), start,
                             [](const auto& item, const std::string& key) { return item.first < key; });
  for (; it != snapshot->items.end(); ++it) {
    if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) continue;
    if (limit > 0 && page.size() == limit) {
      ++remaining;
    } else {
      page.push_back(&*it);
    }
  }
  if (remaining > 0) {
    snapshots_.emplace(std::make_pair(Index(r), snapshot->rv), snapshot);
    continue_token = kube_wire::EncodeContinue(snapshot->rv, page.back()->first);
  }
  lock.unlock();

  const ResourceInfo& info = Info(r);
  std::string body = absl::StrCat("{\"kind\":\"", info.list_kind, "\",\"apiVersion\":\"",
                                  info.api_version, "\",\"metadata\":{\"resourceVersion\":\"",
                                  snapshot->rv, "\"");
  if (remaining > 0) {
    absl::StrAppend(&body, ",\"continue\":", kube_wire::JsonQuote(continue_token),
                    ",\"remainingItemCount\":", remaining);
  }
  body += "},\"items\":[";
  for (size_t i = 0; i < page.size(); ++i) {
    if (i > 0) body += ',';
    body += page[i]->second;
  }
  body += "]}";
  res.status = 200;
  res.set_content(body, "application/json");
}

void FakeKubeApi::Impl::Watch(FakeResource r, const std::string& ns, const httplib::Request& req,
                              httplib::Response& res) {
  auto fail = [&res](int code, std::string_view message) {
    res.status = code;
    res.set_content(kube_wire::StatusJson(code, message), "application/json");
  };
  const std::string rv_param = req.get_param_value("resourceVersion");
  uint64_t from_rv = 0;
  if (!rv_param.empty() && !absl::SimpleAtoi(rv_param, &from_rv)) {
    return fail(400, "invalid resource version: " + rv_param);
  }
  auto w = std::make_shared<Watcher>();
  w->resource = r;
  w->ns = ns;
  w->bookmarks = ParseBool(req.get_param_value("allowWatchBookmarks"));
  if (req.has_param("timeoutSeconds")) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(req.get_param_value("timeoutSeconds"), &seconds) || seconds < 0) {
      return fail(400, "invalid timeoutSeconds: " + req.get_param_value("timeoutSeconds"));
    }
    if (seconds > 0) w->deadline = SteadyClock::now() + std::chrono::seconds(seconds);
  }
  w->fd = FindConnectionSocket(req);
  // httplib would gzip an application/json body for a client that accepts it, and its streaming
  // compressor holds events back until a block fills; kube-apiserver never compresses a watch.
  // The Request is a non-const local of httplib's, so editing it through const_cast is defined.
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");

  {
    std::lock_guard<std::mutex> lock(mu_);
    auto visible = [&ns](const std::string& object_ns) { return ns.empty() || ns == object_ns; };
    if (from_rv != 0 && from_rv < compacted_rv_) {
      const std::string status = absl::StrCat(
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          "\"message\":\"too old resource version: ",
          from_rv, " (", rv_, ")\",\"reason\":\"Expired\",\"code\":410}");
      w->queue.push_back(kube_wire::WatchLine("ERROR", status));
      w->finish = true;  // not registered: it ends right after the ERROR line
    } else {
      if (from_rv == 0) {
        for (const auto& [key, stored] : objects_[Index(r)]) {
          if (visible(stored.object.ns)) {
            w->queue.push_back(kube_wire::WatchLine("ADDED", stored.object.Full(stored.rv)));
          }
        }
      } else {
        for (const Event& e : history_) {
          if (e.resource == r && e.rv > from_rv && visible(e.ns)) w->queue.push_back(e.line);
        }
      }
      watchers_.push_back(w);
    }
  }
  res.status = 200;
  res.set_chunked_content_provider(
      "application/json",
      [this, w](size_t /*offset*/, httplib::DataSink& sink) { return Provide(w, sink); },
      [this, w](bool /*success*/) {
        w->closed = true;
        std::lock_guard<std::mutex> lock(mu_);
        watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
      });
}

// One call sends at most one line (one chunk, as kube-apiserver flushes per event), ends the
// stream, or returns false to make httplib close the socket without the terminating chunk.
bool FakeKubeApi::Impl::Provide(const std::shared_ptr<Watcher>& w, httplib::DataSink& sink) {
  std::unique_lock<std::mutex> lock(w->mu);
  while (true) {
    if (stopping_ || w->dropped) {
      w->closed = true;
      return false;
    }
    if (!stalled_) {
      if (!w->queue.empty()) {
        std::string line = std::move(w->queue.front());
        w->queue.pop_front();
        lock.unlock();
        if (!sink.write(line.data(), line.size())) {
          w->closed = true;
          return false;
        }
        return true;
      }
      if (w->finish || (w->deadline.has_value() && SteadyClock::now() >= *w->deadline)) {
        w->closed = true;
        lock.unlock();
        sink.done();
        return true;
      }
    }
    if (PeerClosed(w->fd)) {
      w->closed = true;
      return false;
    }
    w->cv.wait_for(lock, kPollInterval);
  }
}

void FakeKubeApi::Impl::Broadcast(FakeResource r, const std::string* ns, const std::string& line) {
  for (const auto& w : watchers_) {
    if (w->resource != r || w->closed) continue;
    if (ns != nullptr && !w->ns.empty() && w->ns != *ns) continue;
    w->Push(line);
  }
}

void FakeKubeApi::Impl::Record(FakeResource r, uint64_t rv, const std::string& ns,
                               std::string line) {
  Broadcast(r, &ns, line);
  history_.push_back(Event{r, rv, ns, std::move(line)});
}

// ---------------------------------------------------------------------------------------------

FakeKubeApi::FakeKubeApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeKubeApi::~FakeKubeApi() = default;

absl::StatusOr<std::unique_ptr<FakeKubeApi>> FakeKubeApi::Start(FakeKubeApiOptions options) {
  // OpenSSL writes with write(2): a client hanging up mid-stream would raise SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status status = impl->Listen(); !status.ok()) return status;
  return std::unique_ptr<FakeKubeApi>(new FakeKubeApi(std::move(impl)));
}

int FakeKubeApi::port() const { return impl_->port_; }

std::string FakeKubeApi::url() const {
  const bool tls = !impl_->options_.tls_cert_file.empty();
  return absl::StrCat(tls ? "https" : "http", "://127.0.0.1:", impl_->port_);
}

uint64_t FakeKubeApi::Apply(FakeResource r, std::string_view object_json) {
  const ResourceInfo& info = Info(r);
  absl::StatusOr<ObjectTemplate> object = kube_wire::ParseObject(object_json, info.kind, info.api_version);
  if (!object.ok()) {
    std::fprintf(stderr, "FakeKubeApi::Apply(%s): %s\n", info.kind,
                 std::string(object.status().message()).c_str());
    return 0;
  }
  std::lock_guard<std::mutex> lock(impl_->mu_);
  const uint64_t rv = ++impl_->rv_;
  const std::string key = object->Key();
  auto& objects = impl_->objects_[Index(r)];
  const bool existed = objects.count(key) > 0;
  std::string line = kube_wire::WatchLine(existed ? "MODIFIED" : "ADDED", object->Full(rv));
  const std::string ns = object->ns;
  objects[key] = Stored{*std::move(object), rv};
  impl_->Record(r, rv, ns, std::move(line));
  return rv;
}

uint64_t FakeKubeApi::Delete(FakeResource r, std::string_view ns, std::string_view name) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto& objects = impl_->objects_[Index(r)];
  auto it = objects.find(absl::StrCat(std::string(ns), "/", std::string(name)));
  if (it == objects.end()) return 0;
  const uint64_t rv = ++impl_->rv_;
  std::string line = kube_wire::WatchLine("DELETED", it->second.object.Full(rv));
  const std::string object_ns = it->second.object.ns;
  objects.erase(it);
  impl_->Record(r, rv, object_ns, std::move(line));
  return rv;
}

uint64_t FakeKubeApi::resource_version() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->rv_;
}

void FakeKubeApi::SetBearerToken(std::string token) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->token_ = std::move(token);
}

void FakeKubeApi::CompactHistory() {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->history_.clear();
  impl_->compacted_rv_ = impl_->rv_;
  impl_->snapshots_.clear();
}

void FakeKubeApi::DropWatchConnections() {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  for (const auto& w : impl_->watchers_) {
    {
      std::lock_guard<std::mutex> watcher_lock(w->mu);
      w->dropped = true;
      w->closed = true;
    }
    w->cv.notify_one();
  }
}

void FakeKubeApi::InjectWatchLine(FakeResource r, std::string line) {
  line += '\n';
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->Broadcast(r, nullptr, line);
}

void FakeKubeApi::SendBookmark(FakeResource r) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  const std::string line = kube_wire::BookmarkLine(Info(r).kind, Info(r).api_version, impl_->rv_);
  for (const auto& w : impl_->watchers_) {
    if (w->resource == r && w->bookmarks && !w->closed) w->Push(line);
  }
}

void FakeKubeApi::SetStall(bool stalled) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->stalled_ = stalled;
  for (const auto& w : impl_->watchers_) w->Wake();
  impl_->state_cv_.notify_all();
}

void FakeKubeApi::SetResponseDelay(absl::Duration d) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->delay_ = d;
}

void FakeKubeApi::FailNextRequests(FakeResource r, int count, int http_status) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->fail_count_[Index(r)] = count;
  impl_->fail_status_[Index(r)] = http_status;
}

std::vector<FakeKubeApi::Request> FakeKubeApi::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->requests_;
}

int FakeKubeApi::open_watches(FakeResource r) const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return static_cast<int>(std::count_if(
      impl_->watchers_.begin(), impl_->watchers_.end(),
      [r](const std::shared_ptr<Watcher>& w) { return w->resource == r && !w->closed; }));
}

bool FakeKubeApi::WaitForOpenWatches(FakeResource r, int n, absl::Duration timeout) const {
  const absl::Time give_up = absl::Now() + timeout;
  while (open_watches(r) < n) {
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace clusterdns::testing
