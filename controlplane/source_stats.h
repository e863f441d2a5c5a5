// SourceStats: counters a source of cluster objects keeps about itself, for /metrics and logs.
// The source is the only writer (relaxed stores); the metrics exporter reads with relaxed loads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace clusterdns::controlplane {

struct SourceStats {
  explicit SourceStats(std::string source_name) : name(std::move(source_name)) {}
  const std::string name;  // metrics label: "kubernetes/services", "kubernetes/endpointslices", "file"

  // relaxed everywhere: independent counters, no ordering with other memory is implied.
  std::atomic<uint64_t> added{0};      // watch events ADDED
  std::atomic<uint64_t> modified{0};   // watch events MODIFIED
  std::atomic<uint64_t> deleted{0};    // watch events DELETED
  std::atomic<uint64_t> bookmarks{0};  // watch events BOOKMARK
  std::atomic<uint64_t> errors{0};     // watch events ERROR, HTTP errors, unreadable files
  std::atomic<uint64_t> malformed{0};  // objects or lines skipped as malformed
  std::atomic<uint64_t> lists{0};      // full listings completed (the first sync counts)
  std::atomic<uint64_t> relists{0};    // listings forced by 410 Gone / expired resourceVersion
  std::atomic<uint64_t> reconnects{0}; // watch (re)connections after a failure or a timeout
  std::atomic<int64_t> last_sync_unix_ms{0};  // end of the last completed listing
  std::atomic<bool> synced{false};     // a full listing has completed at least once

  static void Bump(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
};

}  // namespace clusterdns::controlplane
