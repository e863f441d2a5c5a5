// Informer: see informer.h.
#include "controlplane/kube/informer.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/kube/kube_json.h"

namespace clusterdns::controlplane {
namespace {

// A watch that the server ends this soon without sending a single line is treated as a failure
// (backed off), so a server or proxy that closes every watch at once is not hammered in a loop.
constexpr absl::Duration kShortestHealthyWatch = absl::Seconds(1);

absl::string_view Sv(std::string_view text) { return {text.data(), text.size()}; }

uint64_t SeedOrRandom(uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
}

}  // namespace

const char* Informer::ResourcePath(ObjectKind kind) {
  return kind == ObjectKind::kService ? "/api/v1/services"
                                      : "/apis/discovery.k8s.io/v1/endpointslices";
}

absl::StatusOr<std::unique_ptr<Informer>> Informer::Create(const KubeConnection& connection,
                                                           ObjectKind kind, SourceSink* sink,
                                                           SourceStats* stats,
                                                           InformerOptions options) {
  if (sink == nullptr || stats == nullptr) {
    return absl::InvalidArgumentError("informer: sink and stats are required");
  }
  HttpClientOptions http_options;
  http_options.connect_timeout = options.connect_timeout;
  absl::StatusOr<std::unique_ptr<HttpClient>> http = HttpClient::Create(connection, http_options);
  if (!http.ok()) return http.status();
  return std::unique_ptr<Informer>(
      new Informer(kind, sink, stats, std::move(options), std::move(*http)));
}

Informer::Informer(ObjectKind kind, SourceSink* sink, SourceStats* stats, InformerOptions options,
                   std::unique_ptr<HttpClient> http)
    : kind_(kind),
      sink_(sink),
      stats_(stats),
      options_(std::move(options)),
      http_(std::move(http)),
      backoff_(options_.backoff_initial, options_.backoff_max, options_.backoff_reset_after,
               SeedOrRandom(options_.seed)),
      // A different stream from the backoff's, from the same seed.
      rng_(SeedOrRandom(options_.seed) ^ 0x9e3779b97f4a7c15ULL),
      page_decoder_(kind),
      framer_(options_.max_line_bytes),
      event_decoder_(kind) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (!stop_.HasBeenNotified()) stop_.Notify();
  http_->Interrupt();
  if (thread_.joinable()) thread_.join();
}

void Informer::Log(std::string_view line) {
  const std::string text = absl::StrCat(stats_->name, ": ", Sv(line));
  if (options_.log) {
    options_.log(text);
  } else {
    std::fprintf(stderr, "clusterdns: %s\n", text.c_str());
  }
}

std::string Informer::Escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                            byte == '_' || byte == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

Informer::Outcome Informer::Guarded(Outcome (Informer::*step)(), std::string_view what) {
  // The informer thread is a library boundary: an exception from the sink (bad_alloc, say) or
  // from a decoder must not end the process. It fails this step; the loop backs off and retries.
  try {
    return (this->*step)();
  } catch (const std::exception& e) {
    failure_ = absl::StrCat(Sv(what), ": exception: ", e.what());
  } catch (...) {
    failure_ = absl::StrCat(Sv(what), ": unknown exception");
  }
  SourceStats::Bump(stats_->errors);
  return Outcome::kFailed;
}

void Informer::Run() {
  bool need_list = true;
  bool watched_since_list = false;
  while (!stop_.HasBeenNotified()) {
    if (need_list) {
      const Outcome listed = Guarded(&Informer::List, "list");
      if (listed == Outcome::kStopped) return;
      if (listed != Outcome::kDone) {
        // Until the next attempt, the sink serves what it had with what this one delivered, and
        // holds nothing else back (an HTTP 403 or 500 may last for minutes).
        Guarded(&Informer::AbortList, "list");
        if (listed == Outcome::kGone) SourceStats::Bump(stats_->relists);
        if (!WaitBackoff()) return;
        continue;
      }
      need_list = false;
      watched_since_list = false;
    }
    if (watched_since_list) SourceStats::Bump(stats_->reconnects);
    watched_since_list = true;
    switch (Guarded(&Informer::Watch, "watch")) {
      case Outcome::kStopped:
        return;
      case Outcome::kDone:
        break;
      case Outcome::kGone:
        SourceStats::Bump(stats_->relists);
        need_list = true;
        if (!WaitBackoff()) return;
        break;
      case Outcome::kFailed:
        if (!WaitBackoff()) return;
        break;
    }
  }
}

bool Informer::WaitBackoff() {
  const absl::Duration delay = backoff_.NextDelay(absl::Now());
  Log(absl::StrCat(failure_, "; retrying in ",
                   absl::FormatDuration(absl::Trunc(delay, absl::Milliseconds(1)))));
  return !stop_.WaitForNotificationWithTimeout(delay);
}

Informer::Outcome Informer::Failed(const absl::Status& status, std::string_view what) {
  if (absl::IsCancelled(status) && stop_.HasBeenNotified()) return Outcome::kStopped;
  SourceStats::Bump(stats_->errors);
  failure_ = absl::StrCat(Sv(what), ": ", status.message());
  return Outcome::kFailed;
}

Informer::Outcome Informer::List() {
  const char* path = ResourcePath(kind_);
  sink_->OnListStart(kind_);
  std::string continue_token;
  std::string list_version;
  size_t items = 0;
  size_t pages = 0;
  do {
    std::string target = absl::StrCat(path, "?limit=", options_.page_size);
    if (!continue_token.empty()) absl::StrAppend(&target, "&continue=", Escape(continue_token));
    page_.Clear();
    absl::StatusOr<HttpResponse> response = http_->Get(
        {.target = target, .idle_timeout = options_.idle_timeout, .accept_compressed = options_.compressed_lists},
        [&](std::string_view chunk) {
          if (page_.size() + chunk.size() > options_.max_page_bytes) {
            return absl::ResourceExhaustedError(
                absl::StrCat("list page larger than ", options_.max_page_bytes, " bytes"));
          }
          page_.Append(chunk);
          return absl::OkStatus();
        });
    if (!response.ok()) return Failed(response.status(), "list");
    if (response->status == 410) {
      SourceStats::Bump(stats_->errors);
      failure_ = absl::StrCat("list: HTTP 410 (", DescribeErrorBody(response->error_body),
                              "): listing again from the start");
      return Outcome::kGone;
    }
    if (response->status != 200) {
      SourceStats::Bump(stats_->errors);
      failure_ = absl::StrCat("list: HTTP ", response->status, " (",
                              DescribeErrorBody(response->error_body), ")");
      return Outcome::kFailed;
    }
    absl::StatusOr<ListPageInfo> page =
        page_decoder_.Decode(page_, *sink_, [this](const absl::Status& skipped) {
          SourceStats::Bump(stats_->malformed);
          Log(absl::StrCat("list: skipped ", skipped.message()));
        });
    if (!page.ok()) {
      SourceStats::Bump(stats_->errors);
      failure_ = absl::StrCat("list: page ", pages + 1, ": ", page.status().message());
      return Outcome::kFailed;
    }
    ++pages;
    items += page->items;
    continue_token = std::move(page->continue_token);
    list_version = std::move(page->resource_version);
  } while (!continue_token.empty());
  page_.Release();  // the page buffer is not needed until the next listing
  resource_version_ = std::move(list_version);
  // Counted before the sink completes the listing (whoever sees the new table sees the count);
  // synced only after, so that /ready never runs ahead of the table.
  SourceStats::Bump(stats_->lists);
  stats_->last_sync_unix_ms.store(absl::ToUnixMillis(absl::Now()), std::memory_order_relaxed);
  sink_->OnListEnd(kind_);
  stats_->synced.store(true, std::memory_order_relaxed);
  Log(absl::StrCat("listed ", items, " objects in ", pages, " pages at resourceVersion ",
                   resource_version_));
  return Outcome::kDone;
}

Informer::Outcome Informer::AbortList() {
  sink_->OnListAbort(kind_);
  return Outcome::kDone;
}

std::string Informer::WatchTarget() {
  const int64_t min_s = std::max<int64_t>(1, absl::ToInt64Seconds(options_.min_watch_timeout));
  const int64_t max_s = std::max<int64_t>(min_s, absl::ToInt64Seconds(options_.max_watch_timeout));
  std::uniform_int_distribution<int64_t> timeout(min_s, max_s);
  return absl::StrCat(ResourcePath(kind_), "?watch=true&allowWatchBookmarks=true&resourceVersion=",
                      Escape(resource_version_), "&timeoutSeconds=", timeout(rng_));
}

Informer::Outcome Informer::Watch() {
  framer_.Reset();
  watch_abort_ = Abort::kNone;
  watch_lines_ = 0;
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> response = http_->Get(
      {.target = WatchTarget(), .idle_timeout = options_.idle_timeout},
      [this](std::string_view chunk) {
        return framer_.Feed(chunk, [this](std::string_view line) { return HandleLine(line); });
      });
  if (!response.ok()) {
    switch (watch_abort_) {
      case Abort::kGone:
        return Outcome::kGone;
      case Abort::kErrorEvent:
      case Abort::kGarbage:
        failure_ = absl::StrCat("watch: ", response.status().message());
        return Outcome::kFailed;
      case Abort::kNone:
        break;
    }
    return Failed(response.status(), "watch");
  }
  if (response->status == 410) {
    SourceStats::Bump(stats_->errors);
    failure_ = absl::StrCat("watch: HTTP 410 (", DescribeErrorBody(response->error_body),
                            "): listing again");
    return Outcome::kGone;
  }
  if (response->status != 200) {
    SourceStats::Bump(stats_->errors);
    failure_ = absl::StrCat("watch: HTTP ", response->status, " (",
                            DescribeErrorBody(response->error_body), ")");
    return Outcome::kFailed;
  }
  if (framer_.pending_bytes() != 0) {
    SourceStats::Bump(stats_->errors);
    failure_ = absl::StrCat("watch: the stream ended in the middle of a line (",
                            framer_.pending_bytes(), " bytes)");
    return Outcome::kFailed;
  }
  if (watch_lines_ == 0 && absl::Now() - start < kShortestHealthyWatch) {
    SourceStats::Bump(stats_->errors);
    failure_ = "watch: the server ended the watch at once, with no event";
    return Outcome::kFailed;
  }
  return Outcome::kDone;
}

absl::Status Informer::HandleLine(std::string_view line) {
  ++watch_lines_;
  absl::StatusOr<WatchEvent> event = event_decoder_.Decode(line);
  if (!event.ok()) {
    SourceStats::Bump(stats_->malformed);
    if (absl::IsDataLoss(event.status())) {
      // Garbage: nothing after it on this stream can be trusted.
      watch_abort_ = Abort::kGarbage;
      return absl::DataLossError(absl::StrCat(
          event.status().message(), "; watching again from resourceVersion ", resource_version_));
    }
    Log(absl::StrCat("watch: skipped a line: ", event.status().message()));
    return absl::OkStatus();
  }
  if (event->type == WatchEventType::kError) {
    SourceStats::Bump(stats_->errors);
    const std::string status = absl::StrCat("ERROR event ", event->error_code, " ",
                                            event->error_reason, ": ", event->error_message);
    if (event->error_code == 410) {
      watch_abort_ = Abort::kGone;
      failure_ = absl::StrCat("watch: ", status, ": listing again");
    } else {
      watch_abort_ = Abort::kErrorEvent;
    }
    return absl::AbortedError(status);
  }
  Apply(*event);
  return absl::OkStatus();
}

void Informer::Apply(WatchEvent& event) {
  switch (event.type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified:
      if (!event.object_error.ok()) {
        SourceStats::Bump(stats_->malformed);
        Log(absl::StrCat("watch: ", WatchEventTypeName(event.type), ": skipped ",
                         event.object_error.message()));
        return;
      }
      // Counted before the sink sees it: whoever observes the change also sees the count.
      SourceStats::Bump(event.type == WatchEventType::kAdded ? stats_->added : stats_->modified);
      if (event.service.has_value()) sink_->OnService(std::move(*event.service));
      if (event.slice.has_value()) sink_->OnSlice(std::move(*event.slice));
      break;
    case WatchEventType::kDeleted:
      SourceStats::Bump(stats_->deleted);
      sink_->OnDelete(kind_, std::move(event.ns), std::move(event.name));
      break;
    case WatchEventType::kBookmark:
      SourceStats::Bump(stats_->bookmarks);
      break;
    case WatchEventType::kError:
      return;  // handled by HandleLine
  }
  if (!event.resource_version.empty()) resource_version_ = std::move(event.resource_version);
}

}  // namespace clusterdns::controlplane
