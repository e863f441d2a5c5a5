// ObjectsFileSource: inotify on the directory + a stat() poll, settle, reload, full listing.
// See objects_file_source.h for the contract.
#include "controlplane/objects_file_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/objects_json.h"

namespace clusterdns::controlplane {
namespace {

using Clock = std::chrono::steady_clock;

// Events that can mean the file (or the symlink chain leading to it) was replaced or rewritten.
// IN_MODIFY is left out on purpose: a writer still writing is waited for (IN_CLOSE_WRITE).
constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// One whole line per write, so lines from different threads do not interleave.
void LogLine(const std::string& line) {
  const std::string out = line + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
}

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ObjectsFileSource::ObjectsFileSource(std::string path, SourceSink* sink, SourceStats* stats,
                                     Options options)
    : path_(std::move(path)),
      dir_([this] {
        const std::string parent = std::filesystem::path(path_).parent_path().string();
        return parent.empty() ? std::string(".") : parent;
      }()),
      basename_(std::filesystem::path(path_).filename().string()),
      sink_(sink),
      stats_(stats),
      options_(options) {}

ObjectsFileSource::~ObjectsFileSource() { Stop(); }

std::optional<ObjectsFileSource::FileIdentity> ObjectsFileSource::StatFile() const {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino, st.st_size,
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                          st.st_mtim.tv_nsec};
}

absl::Status ObjectsFileSource::Reload(bool log_success) {
  // The identity before reading: if the file changes while it is read, the next look differs.
  attempted_ = StatFile();
  attempted_once_ = true;
  absl::StatusOr<ObjectList> list = LoadObjectsFile(path_);
  if (!list.ok()) {
    SourceStats::Bump(stats_->errors);
    return list.status();
  }
  if (log_success) {
    LogLine(absl::StrCat("objects file ", path_, ": reloaded: ", list->services.size(),
                         " services, ", list->slices.size(), " endpoint slices, ",
                         list->skipped.size(), " skipped"));
  }
  for (const std::string& skipped : list->skipped) {
    LogLine(absl::StrCat("objects file ", path_, ": skipped ", skipped));
    SourceStats::Bump(stats_->malformed);
  }
  // Both listings open before either ends: the controller publishes nothing while one is open,
  // so the file's Services and its slices reach the table in one publish, never a table with the
  // new Services and the old slices.
  sink_->OnListStart(ObjectKind::kService);
  sink_->OnListStart(ObjectKind::kEndpointSlice);
  for (records::Service& service : list->services) sink_->OnService(std::move(service));
  for (records::EndpointSlice& slice : list->slices) sink_->OnSlice(std::move(slice));
  sink_->OnListEnd(ObjectKind::kService);
  sink_->OnListEnd(ObjectKind::kEndpointSlice);
  // relaxed: independent counters for the exporter (source_stats.h).
  SourceStats::Bump(stats_->lists);
  stats_->last_sync_unix_ms.store(UnixMillisNow(), std::memory_order_relaxed);
  stats_->synced.store(true, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status ObjectsFileSource::LoadInitial() { return Reload(/*log_success=*/false); }

absl::Status ObjectsFileSource::Start() {
  if (thread_.joinable() || stop_fd_ >= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("objects file ", path_, ": watcher already started"));
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat("objects file ", path_, ": eventfd"));
  }
  if (options_.use_inotify) {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      const int error = errno;
      LogLine(absl::StrCat("objects file ", path_, ": inotify unavailable (", std::strerror(error),
                           "); polling every ", absl::FormatDuration(options_.poll_interval)));
    }
  }
  // The watch exists before Start() returns, so a change made after it is an event; a change
  // made before it is caught by the watcher's first stat().
  EnsureWatch();
  try {
    thread_ = std::thread(&ObjectsFileSource::Run, this);
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("objects file ", path_, ": cannot start the watcher thread: ", e.what()));
  }
  return absl::OkStatus();
}

void ObjectsFileSource::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    // An eventfd write of 8 bytes only fails on counter overflow, which a single write cannot do.
    [[maybe_unused]] const ssize_t n = write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  inotify_fd_ = -1;
  stop_fd_ = -1;
  watch_ = -1;
}

bool ObjectsFileSource::EnsureWatch() {
  if (inotify_fd_ < 0) return false;
  if (watch_ >= 0) return true;
  watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(), kWatchMask | IN_ONLYDIR);
  return watch_ >= 0;
}

void ObjectsFileSource::Run() {
  const auto poll_interval = std::chrono::duration_cast<Clock::duration>(
      absl::ToChronoNanoseconds(options_.poll_interval));
  const auto settle =
      std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(options_.settle));
  const auto max_settle =
      std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(kMaxSettle));

  bool watch_failure_logged = false;
  auto ensure_watch = [&] {
    if (inotify_fd_ < 0) return;
    if (EnsureWatch()) {
      watch_failure_logged = false;
    } else if (!watch_failure_logged) {
      const int error = errno;
      watch_failure_logged = true;
      LogLine(absl::StrCat("objects file ", path_, ": cannot watch directory ", dir_, " (",
                           std::strerror(error), "); polling every ",
                           absl::FormatDuration(options_.poll_interval)));
    }
  };
  ensure_watch();

  // A pending reload: read at `settle_at` unless another event pushes it back; `force` when an
  // event named the file itself (its identity may look unchanged after a same-size rewrite
  // within one timestamp tick).
  // (Plain values and a flag rather than std::optional: g++ 12 warns maybe-uninitialized.)
  bool pending = false;
  Clock::time_point settle_at{};
  Clock::time_point pending_since{};
  bool force = false;
  auto note_event = [&](Clock::time_point now) {
    if (!pending) pending_since = now;
    pending = true;
    settle_at = std::min(now + settle, pending_since + max_settle);
  };
  // A change between LoadInitial() and Start() (or no LoadInitial at all) is picked up now.
  if (!attempted_once_ || StatFile() != attempted_) {
    note_event(Clock::now());
    force = !attempted_once_;
  }
  Clock::time_point next_poll = Clock::now() + poll_interval;

  alignas(struct inotify_event) char buffer[16 * 1024];
  while (true) {
    const Clock::time_point deadline = pending ? std::min(next_poll, settle_at) : next_poll;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const int timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 60'000));
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {watch_ >= 0 ? inotify_fd_ : -1, POLLIN, 0}};
    if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
      const int error = errno;
      LogLine(absl::StrCat("objects file ", path_, ": poll failed (", std::strerror(error),
                           "); no more reloads"));
      return;
    }
    if (fds[0].revents != 0) return;  // Stop()

    Clock::time_point now = Clock::now();
    if (fds[1].revents != 0) {
      while (true) {
        const ssize_t n = read(inotify_fd_, buffer, sizeof buffer);
        if (n <= 0) break;  // EAGAIN: drained
        for (ssize_t offset = 0; offset < n;) {
          const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
          offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
          if ((event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0 && watch_ >= 0) {
            // The directory went away or moved: the path now means something else. Watch it
            // again at the next poll tick, when (if) it exists.
            inotify_rm_watch(inotify_fd_, watch_);
            watch_ = -1;
          }
          if ((event->mask & IN_IGNORED) != 0) watch_ = -1;
          if (event->len > 0 && basename_ == event->name) force = true;
          note_event(now);
        }
      }
    }

    now = Clock::now();
    if (now >= next_poll) {
      next_poll = now + poll_interval;
      ensure_watch();
      if (!pending && StatFile() != attempted_) note_event(now);
    }
    if (pending && now >= settle_at) {
      pending = false;
      const bool forced = std::exchange(force, false);
      if (!forced && StatFile() == attempted_) continue;  // an unrelated file in the directory
      if (absl::Status status = Reload(/*log_success=*/true); !status.ok()) {
        LogLine(absl::StrCat(status.message(), " (keeping the last good objects)"));
      }
    }
  }
}

}  // namespace clusterdns::controlplane
