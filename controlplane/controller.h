// Controller: the one writer of the answer table. Sources (Kubernetes informers, the objects file)
// hand it objects through SourceSinks; its own thread applies them to a TableBuilder, compiles what
// changed after a short coalescing window, and publishes the new table with TablePublisher.
//
// - Coalescing: the first change after a quiet period opens a window (default 1 ms); everything
//   that arrives within it goes into one build and one publish.
// - Listings: while any source is in the middle of a listing (OnListStart without OnListEnd), the
//   controller applies what arrives but publishes nothing, so readers keep the last complete table;
//   at OnListEnd the objects that source no longer lists are deleted and the result is published
//   once. The builder holds the one copy of the cluster's objects: the queue between sources and
//   the controller is bounded, so a relist of 100k objects never exists twice in memory. A listing
//   that breaks off (OnListAbort) deletes nothing and publishes what arrived: a relist that keeps
//   failing (HTTP 500, 403, a lost connection) holds nothing back between its attempts.
// - Several sources: each has its own sink and owns the objects it delivered; a listing deletes only
//   objects its own source delivered before. An object delivered by two sources: the last write
//   wins, and either's delete removes it.
// - Ready(): every source has completed its first listing and a table with it is published.
//
// Threads: AddSource, SetPublishCallback before Start. Sinks may be called from any thread (each
// sink from one thread at a time). Ready() from any thread. Start/Stop from the owning thread.
//
//   Controller controller(std::move(builder), &publisher, {});
//   SourceSink* file_sink = controller.AddSource("file");
//   controller.Start();
//   ObjectsFileSource file(path, file_sink, &stats, {});
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "controlplane/source_sink.h"
#include "records/table_builder.h"
#include "records/table_publisher.h"

namespace clusterdns::controlplane {

struct ControllerOptions {
  // How long the first change waits for others before a build (--coalesce-window).
  absl::Duration coalesce_window = absl::Milliseconds(1);
  // Changes queued between sources and the controller before a source's call blocks: enough to
  // keep the controller busy, small next to a full listing.
  size_t max_queued_changes = 4096;
};

// What one publish did, for /metrics and logs.
struct PublishReport {
  size_t names = 0;
  size_t bytes = 0;
  size_t shards = 0;
  uint64_t generation = 0;
  size_t shards_rebuilt = 0;
  size_t services_compiled = 0;
  // Seconds from each applied change's arrival at the controller to this publish.
  std::vector<double> latencies_seconds;
};

class Controller {
 public:
  Controller(std::unique_ptr<records::TableBuilder> builder, records::TablePublisher* publisher,
             ControllerOptions options);
  ~Controller();  // Stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // A sink for one source, named in logs ("file", "kubernetes/services"). Owned by the controller.
  SourceSink* AddSource(std::string name);
  // Called on the controller thread after every publish.
  void SetPublishCallback(std::function<void(const PublishReport&)> callback);

  // Publishes the initial table (zone apexes only, or what sinks delivered before Start) and
  // starts the thread.
  void Start();
  // Applies what is queued, publishes it if no listing is open, and joins. Idempotent.
  void Stop();

  // Whether every source has completed its first listing and a table with it is published. When
  // not ready and `why` is given, names what is missing ("source file: first listing not done").
  bool Ready(std::string* why = nullptr) const;

  // Tests: blocks until every change queued before the call is applied, and published unless a
  // listing is open. False on timeout.
  bool WaitApplied(absl::Duration timeout);
  uint64_t publishes() const { return publishes_.load(std::memory_order_relaxed); }

 private:
  class Sink;
  struct Change;
  struct SourceState {
    std::string name;
    // The number of this source's current (or last) listing, by kind. Objects carry the number
    // of the listing that last delivered them (TableBuilder::Origin); a completed listing
    // deletes those with an older one.
    uint32_t listing_number[2] = {0, 0};
    bool listing[2] = {false, false};
    bool started_kind[2] = {false, false};  // a listing of this kind was ever begun
    bool completed_kind[2] = {false, false};
  };

  void Enqueue(Change change);
  void Run();
  // Applies queued changes; returns how many (controller thread).
  size_t Drain(std::vector<Change>& batch);
  void Apply(Change& change);
  bool AnyListingOpen() const;
  void PublishIfDue(bool force);
  bool AllSourcesSynced() const;

  std::unique_ptr<records::TableBuilder> builder_;
  records::TablePublisher* publisher_;
  ControllerOptions options_;
  std::function<void(const PublishReport&)> on_publish_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<SourceState> sources_;  // by sink index; controller thread only (after Start)

  mutable std::mutex mu_;
  std::condition_variable changed_cv_;  // the controller waits for changes or stop
  std::condition_variable space_cv_;    // sources wait for room in the queue
  std::condition_variable applied_cv_;  // WaitApplied
  std::deque<Change> queue_;            // guarded by mu_
  uint64_t enqueued_ = 0;               // guarded by mu_: changes ever queued
  uint64_t settled_ = 0;                // guarded by mu_: changes applied and published (or held)
  bool stop_ = false;                   // guarded by mu_
  bool finished_ = false;               // guarded by mu_: the thread has exited
  std::string not_ready_;               // guarded by mu_: why Ready() is false

  // Controller thread only.
  std::vector<absl::Time> pending_arrivals_;  // arrival of each change not yet published
  bool dirty_ = false;                 // applied changes not yet published

  std::atomic<bool> ready_{false};  // release by the controller thread after a publish; acquire in Ready
  std::atomic<uint64_t> publishes_{0};
  std::thread thread_;
  bool started_ = false;
};

}  // namespace clusterdns::controlplane
