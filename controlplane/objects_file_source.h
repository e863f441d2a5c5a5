// ObjectsFileSource: the offline source of cluster objects (--objects-file). It loads a JSON List
// as printed by `kubectl get services,endpointslices -A -o json` (LoadObjectsFile in
// objects_json.h), hands it to a SourceSink as a full listing, and reloads it when it changes.
//
// What counts as a change. A thread watches the file's DIRECTORY with inotify, so every way a
// file gets replaced is seen: an editor's write-to-temp-and-rename, `kubectl ... > file` (rewrite
// in place), and a Kubernetes ConfigMap volume's ..data symlink swap (the file itself gets no
// event there; its directory does). An event naming the file reloads it; any other event in the
// directory reloads it if stat() (which follows symlinks) reports another device, inode, size or
// mtime than at the last attempt. A stat() poll every `poll_interval` is the fallback (inotify
// unavailable, the file a symlink into a directory that is not watched, a directory replaced).
// Reading waits until `settle` has passed without an event (a writer that writes in pieces), but
// never longer than kMaxSettle after the first pending event.
//
// A reload that fails (file missing, half-written, invalid JSON) logs one line to stderr naming
// the file and the error, counts stats->errors and delivers nothing: the sink keeps the last good
// state. It is retried at the next change. A good reload is a full listing:
//   OnListStart(kService), OnService × N, OnListEnd(kService),
//   OnListStart(kEndpointSlice), OnSlice × M, OnListEnd(kEndpointSlice)
// and the controller diffs it against what it had. Items that are malformed are left out, each
// logged ("objects file PATH: skipped Service default/x: spec.ports[0].port: ...") and counted in
// stats->malformed; stats->lists, synced and last_sync_unix_ms are updated per good load.
//
// Threads and lifetime: LoadInitial() runs on the caller's thread, before Start(). Start() starts
// the watcher thread, which is then the only caller of the sink; Stop() (also run by the
// destructor) wakes it through an eventfd and joins it, promptly (no sleeping through a poll
// interval). The sink and stats must outlive this object. Not copyable or movable.
//
// Usage (main):
//   ObjectsFileSource file(path, &controller_sink, &file_stats, {});
//   if (absl::Status s = file.LoadInitial(); !s.ok()) { std::cerr << s.message() << "\n"; return 2; }
//   if (absl::Status s = file.Start(); !s.ok()) { ... }
//   ...
//   file.Stop();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controlplane/source_sink.h"
#include "controlplane/source_stats.h"

namespace clusterdns::controlplane {

class ObjectsFileSource {
 public:
  struct Options {
    // The fallback stat() poll: cheap (one syscall), and inotify sees almost everything first.
    absl::Duration poll_interval = absl::Seconds(1);
    // Quiet time after the last event before reading: long enough for a writer that writes a
    // large file in a few pieces, short enough that an edit shows within a blink.
    absl::Duration settle = absl::Milliseconds(20);
    // false: the stat() poll only (tests of the fallback; filesystems without inotify).
    bool use_inotify = true;
  };
  // A stream of events (a busy log file in the same directory) delays a reload at most this long.
  static constexpr absl::Duration kMaxSettle = absl::Seconds(1);

  ObjectsFileSource(std::string path, SourceSink* sink, SourceStats* stats, Options options);
  ~ObjectsFileSource();
  ObjectsFileSource(const ObjectsFileSource&) = delete;
  ObjectsFileSource& operator=(const ObjectsFileSource&) = delete;

  // Loads the file now and delivers it as a full listing. A missing or invalid file is returned
  // as the error (LoadObjectsFile's message, which names the file) and nothing is delivered.
  // Call before Start(), never while the watcher runs.
  absl::Status LoadInitial();

  // Adds the inotify watch on the directory and starts the watcher thread; a change made after
  // Start() returns is seen. Errors: already started, or the eventfd or the thread could not be
  // created. inotify failing is not an error: it is logged and the poll carries on alone.
  absl::Status Start();

  // Stops and joins the watcher. Idempotent; safe without Start().
  void Stop();

  const std::string& path() const { return path_; }

 private:
  // What stat() says of the file; nullopt when it cannot be stat'ed (missing).
  struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  std::optional<FileIdentity> StatFile() const;

  // Loads and delivers; records the identity of the attempt. Returns the load error, if any
  // (counted, not logged); a good load is logged when `log_success`.
  absl::Status Reload(bool log_success);
  void Run();
  // Adds the inotify watch on the directory if there is none; false if that failed.
  bool EnsureWatch();

  const std::string path_;
  const std::string dir_;       // the directory watched
  const std::string basename_;  // the file's name in it
  SourceSink* const sink_;
  SourceStats* const stats_;
  const Options options_;

  // Identity at the last load attempt, good or failed (the watcher thread only, or the caller
  // of LoadInitial before Start). A change is a difference from it.
  std::optional<FileIdentity> attempted_;
  bool attempted_once_ = false;

  int stop_fd_ = -1;     // eventfd: Stop() writes, the watcher polls it
  int inotify_fd_ = -1;  // owned by the watcher thread once started
  int watch_ = -1;       // the directory's watch descriptor, -1 when there is none
  std::thread thread_;
};

}  // namespace clusterdns::controlplane
