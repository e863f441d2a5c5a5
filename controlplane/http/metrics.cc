// Metrics (metrics.h): reads every registered counter block at scrape time and serializes the
// result with prometheus-cpp's TextSerializer (which escapes label values and writes HELP/TYPE).
#include "controlplane/http/metrics.h"

#include <atomic>
#include <cctype>
#include <cmath>
#include <sstream>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"
#include "prometheus/text_serializer.h"

namespace clusterdns::controlplane {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

// Counters are integers here; a double holds them exactly up to 2^53 (centuries at line rate).
void AddCounter(MetricFamily& family, Labels labels, uint64_t value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = static_cast<double>(value);
  family.metric.push_back(std::move(m));
}

void AddGauge(MetricFamily& family, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  family.metric.push_back(std::move(m));
}

// relaxed: each counter has one writer; a scrape needs untorn words, not ordering.
uint64_t Load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

// Rcodes that respond() can produce get a series even at zero, so that rate() and absent()
// behave from the first scrape; other slots only once something was counted there.
bool AlwaysExported(const std::string& rcode_name) {
  return !rcode_name.empty() && !std::isdigit(static_cast<unsigned char>(rcode_name[0]));
}

}  // namespace

Metrics::Metrics(std::string version, absl::Time start_time)
    : version_(std::move(version)),
      start_time_seconds_(absl::ToDoubleSeconds(start_time - absl::UnixEpoch())) {}

void Metrics::AddQueryCounters(std::string path_label, const records::QueryCounters* counters) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  for (QueryPath& path : query_paths_) {
    if (path.label == path_label) {
      path.blocks.push_back(counters);
      return;
    }
  }
  query_paths_.push_back(QueryPath{std::move(path_label), {counters}});
}

void Metrics::AddSource(const SourceStats* source) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  sources_.push_back(source);
}

void Metrics::SetWorkerSource(const WorkerCounterSource* source) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  workers_ = source;
}

void Metrics::SetExceptionPathSource(const ExceptionPathCounterSource* source) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  exception_path_ = source;
}

void Metrics::SetForwarderSource(const ForwarderCounterSource* source) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  forwarder_ = source;
}

void Metrics::SetForwardPathSource(const ForwardPathCounterSource* source) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  forward_path_ = source;
}

void Metrics::SetAnswerCache(const records::AnswerCache* cache) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  cache_ = cache;
}

void Metrics::SetTable(size_t names, size_t bytes, size_t shards, uint64_t generation) {
  std::lock_guard<std::mutex> lock(state_mu_);
  table_names_ = names;
  table_bytes_ = bytes;
  table_shards_ = shards;
  table_generation_ = generation;
}

void Metrics::CountPublish(size_t shards_rebuilt) {
  std::lock_guard<std::mutex> lock(state_mu_);
  ++publishes_;
  shards_rebuilt_ += shards_rebuilt;
}

void Metrics::ObserveProgrammingLatency(double seconds) {
  if (std::isnan(seconds)) return;
  if (seconds < 0) seconds = 0;
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  std::lock_guard<std::mutex> lock(state_mu_);
  ++latency_counts_[bucket];
  latency_sum_ += seconds;
  ++latency_count_;
}

std::string Metrics::Render() const {
  std::vector<QueryPath> query_paths;
  std::vector<const SourceStats*> sources;
  const WorkerCounterSource* workers;
  const ExceptionPathCounterSource* exception_path;
  const ForwarderCounterSource* forwarder;
  const records::AnswerCache* cache;
  const ForwardPathCounterSource* forward_path;
  {
    std::lock_guard<std::mutex> lock(registry_mu_);
    query_paths = query_paths_;
    sources = sources_;
    workers = workers_;
    exception_path = exception_path_;
    forwarder = forwarder_;
    cache = cache_;
    forward_path = forward_path_;
  }

  std::vector<MetricFamily> families;

  // Process.
  MetricFamily build_info =
      Family("clusterdns_build_info", "clusterdns build; the value is always 1", MetricType::Gauge);
  AddGauge(build_info, {{"version", version_}}, 1);
  families.push_back(std::move(build_info));
  MetricFamily start_time = Family("clusterdns_start_time_seconds",
                                   "Unix time the process started, in seconds", MetricType::Gauge);
  AddGauge(start_time, {}, start_time_seconds_);
  families.push_back(std::move(start_time));

  // Queries, summed over the blocks of each path.
  MetricFamily by_rcode =
      Family("clusterdns_queries_total", "DNS replies sent, by answering path and response code",
             MetricType::Counter);
  MetricFamily by_qtype =
      Family("clusterdns_queries_by_qtype_total",
             "DNS replies sent, by answering path and query type", MetricType::Counter);
  MetricFamily truncated = Family("clusterdns_truncated_total",
                                  "DNS replies sent with TC set (too large for the client's limit)",
                                  MetricType::Counter);
  MetricFamily forwarded =
      Family("clusterdns_forwarded_total",
             "Queries for names outside every served zone, handed upstream", MetricType::Counter);
  MetricFamily cache_hits =
      Family("clusterdns_cache_hits_total",
             "Replies from the cache of upstream answers, by answering path (also counted in "
             "clusterdns_queries_total)",
             MetricType::Counter);
  MetricFamily dropped = Family("clusterdns_dropped_total",
                                "Queries dropped without a reply, by reason", MetricType::Counter);
  for (const QueryPath& path : query_paths) {
    for (size_t rcode = 0; rcode < records::kRcodeSlots; ++rcode) {
      uint64_t sum = 0;
      for (const records::QueryCounters* c : path.blocks) sum += Load(c->by_rcode[rcode]);
      // The last slot counts every rcode from it upwards.
      std::string name = rcode + 1 == records::kRcodeSlots
                             ? std::string("other")
                             : records::RcodeName(static_cast<uint8_t>(rcode));
      if (sum == 0 && !AlwaysExported(name)) continue;
      AddCounter(by_rcode, {{"path", path.label}, {"rcode", std::move(name)}}, sum);
    }
    for (size_t slot = 0; slot < static_cast<size_t>(records::QtypeSlot::kCount); ++slot) {
      uint64_t sum = 0;
      for (const records::QueryCounters* c : path.blocks) sum += Load(c->by_qtype[slot]);
      AddCounter(
          by_qtype,
          {{"path", path.label},
           {"qtype", std::string(records::QtypeSlotName(static_cast<records::QtypeSlot>(slot)))}},
          sum);
    }
    uint64_t tc = 0;
    uint64_t fwd = 0;
    uint64_t hits = 0;
    for (const records::QueryCounters* c : path.blocks) {
      tc += Load(c->truncated);
      fwd += Load(c->forwarded);
      hits += Load(c->cache_hits);
    }
    AddCounter(truncated, {{"path", path.label}}, tc);
    AddCounter(forwarded, {{"path", path.label}}, fwd);
    AddCounter(cache_hits, {{"path", path.label}}, hits);
    // Slot 0 is DropReason::kNone, never counted.
    for (size_t reason = 1; reason < static_cast<size_t>(records::DropReason::kCount); ++reason) {
      uint64_t sum = 0;
      for (const records::QueryCounters* c : path.blocks) sum += Load(c->drops[reason]);
      AddCounter(dropped,
                 {{"path", path.label},
                  {"reason",
                   std::string(records::DropReasonName(static_cast<records::DropReason>(reason)))}},
                 sum);
    }
  }
  families.push_back(std::move(by_rcode));
  families.push_back(std::move(by_qtype));
  families.push_back(std::move(truncated));
  families.push_back(std::move(forwarded));
  families.push_back(std::move(cache_hits));
  families.push_back(std::move(dropped));

  // Sources of cluster objects.
  MetricFamily events = Family(
      "clusterdns_source_events_total",
      "Watch events by source and type (type error also counts HTTP errors and unreadable files)",
      MetricType::Counter);
  MetricFamily malformed =
      Family("clusterdns_source_malformed_total",
             "Objects or lines skipped as malformed, by source", MetricType::Counter);
  MetricFamily lists = Family("clusterdns_source_lists_total", "Full listings completed, by source",
                              MetricType::Counter);
  MetricFamily relists = Family("clusterdns_source_relists_total",
                                "Listings forced by 410 Gone (expired resourceVersion), by source",
                                MetricType::Counter);
  MetricFamily reconnects =
      Family("clusterdns_source_reconnects_total",
             "Watch reconnections after a failure or a timeout, by source", MetricType::Counter);
  MetricFamily last_sync =
      Family("clusterdns_source_last_sync_timestamp_seconds",
             "Unix time the last full listing completed, by source (0 = never)", MetricType::Gauge);
  MetricFamily synced =
      Family("clusterdns_source_synced",
             "1 once a full listing of the source has completed, else 0", MetricType::Gauge);
  for (const SourceStats* s : sources) {
    const std::pair<const char*, const std::atomic<uint64_t>*> types[] = {
        {"added", &s->added},
        {"modified", &s->modified},
        {"deleted", &s->deleted},
        {"bookmark", &s->bookmarks},
        {"error", &s->errors}};
    for (const auto& [type, counter] : types) {
      AddCounter(events, {{"source", s->name}, {"type", type}}, Load(*counter));
    }
    AddCounter(malformed, {{"source", s->name}}, Load(s->malformed));
    AddCounter(lists, {{"source", s->name}}, Load(s->lists));
    AddCounter(relists, {{"source", s->name}}, Load(s->relists));
    AddCounter(reconnects, {{"source", s->name}}, Load(s->reconnects));
    // relaxed: independent gauges (see SourceStats).
    AddGauge(last_sync, {{"source", s->name}},
             static_cast<double>(s->last_sync_unix_ms.load(std::memory_order_relaxed)) / 1000.0);
    AddGauge(synced, {{"source", s->name}}, s->synced.load(std::memory_order_relaxed) ? 1 : 0);
  }
  families.push_back(std::move(events));
  families.push_back(std::move(malformed));
  families.push_back(std::move(lists));
  families.push_back(std::move(relists));
  families.push_back(std::move(reconnects));
  families.push_back(std::move(last_sync));
  families.push_back(std::move(synced));

  // The answer table and its programming.
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    MetricFamily names =
        Family("clusterdns_table_names", "Names in the published answer table", MetricType::Gauge);
    AddGauge(names, {}, static_cast<double>(table_names_));
    families.push_back(std::move(names));
    MetricFamily bytes =
        Family("clusterdns_table_bytes", "Bytes of slots and arenas of the published answer table",
               MetricType::Gauge);
    AddGauge(bytes, {}, static_cast<double>(table_bytes_));
    families.push_back(std::move(bytes));
    MetricFamily shards = Family("clusterdns_table_shards", "Shards of the published answer table",
                                 MetricType::Gauge);
    AddGauge(shards, {}, static_cast<double>(table_shards_));
    families.push_back(std::move(shards));
    MetricFamily generation =
        Family("clusterdns_table_generation", "Generation number of the published answer table",
               MetricType::Gauge);
    AddGauge(generation, {}, static_cast<double>(table_generation_));
    families.push_back(std::move(generation));
    MetricFamily publishes =
        Family("clusterdns_table_publishes_total", "Answer tables published", MetricType::Counter);
    AddCounter(publishes, {}, publishes_);
    families.push_back(std::move(publishes));
    MetricFamily rebuilt = Family("clusterdns_table_shards_rebuilt_total",
                                  "Shards rebuilt over all publishes", MetricType::Counter);
    AddCounter(rebuilt, {}, shards_rebuilt_);
    families.push_back(std::move(rebuilt));

    MetricFamily latency =
        Family("clusterdns_programming_latency_seconds",
               "Seconds from a watch event received to the table with it published",
               MetricType::Histogram);
    ClientMetric m;
    m.histogram.sample_count = latency_count_;
    m.histogram.sample_sum = latency_sum_;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += latency_counts_[i];
      m.histogram.bucket.push_back(ClientMetric::Bucket{cumulative, kLatencyBuckets[i]});
    }
    // The serializer adds le="+Inf" with sample_count, which includes the last slot.
    latency.metric.push_back(std::move(m));
    families.push_back(std::move(latency));
  }

  // Dataplane workers.
  std::vector<WorkerCounterSnapshot> snapshots;
  if (workers != nullptr) snapshots = workers->SnapshotWorkers();
  MetricFamily rx = Family("clusterdns_worker_rx_packets_total",
                           "Packets received by a worker queue", MetricType::Counter);
  MetricFamily tx = Family("clusterdns_worker_tx_packets_total", "Packets sent by a worker queue",
                           MetricType::Counter);
  MetricFamily tx_dropped =
      Family("clusterdns_worker_tx_dropped_total", "Packets refused by the TX queue and freed",
             MetricType::Counter);
  MetricFamily exceptions = Family("clusterdns_worker_exceptions_total",
                                   "Packets handed to the exception path", MetricType::Counter);
  MetricFamily polls = Family("clusterdns_worker_polls_total",
                              "RX polls, busy (returned packets) or idle", MetricType::Counter);
  MetricFamily cycles = Family("clusterdns_worker_cycles_total",
                               "TSC cycles spent in busy or idle polls", MetricType::Counter);
  MetricFamily drops = Family("clusterdns_worker_drops_total",
                              "Packets dropped by a worker, by reason", MetricType::Counter);
  for (const WorkerCounterSnapshot& w : snapshots) {
    const Labels base = {{"lcore", std::to_string(w.lcore)},
                         {"port", std::to_string(w.port)},
                         {"queue", std::to_string(w.queue)}};
    auto with = [&base](const char* name, std::string value) {
      Labels labels = base;
      labels.push_back({name, std::move(value)});
      return labels;
    };
    AddCounter(rx, base, w.rx_packets);
    AddCounter(tx, base, w.tx_packets);
    AddCounter(tx_dropped, base, w.tx_dropped);
    AddCounter(exceptions, base, w.exceptions);
    AddCounter(polls, with("state", "busy"), w.busy_polls);
    AddCounter(polls, with("state", "idle"), w.idle_polls);
    AddCounter(cycles, with("state", "busy"), w.busy_cycles);
    AddCounter(cycles, with("state", "idle"), w.idle_cycles);
    for (const auto& [reason, count] : w.drops_by_reason) {
      AddCounter(drops, with("reason", reason), count);
    }
  }
  families.push_back(std::move(rx));
  families.push_back(std::move(tx));
  families.push_back(std::move(tx_dropped));
  families.push_back(std::move(exceptions));
  families.push_back(std::move(polls));
  families.push_back(std::move(cycles));
  families.push_back(std::move(drops));

  // The dataplane's exception path: what the workers did not answer, to the kernel and back.
  std::vector<ExceptionPathSnapshot> taps;
  if (exception_path != nullptr) taps = exception_path->SnapshotExceptionPath();
  MetricFamily exception_frames = Family(
      "clusterdns_exception_frames_total",
      "Frames through the exception path: to_kernel (workers to the TAP thread), tap_tx (into the "
      "kernel), tap_rx (out of the kernel), kernel_tx (sent on the data port)",
      MetricType::Counter);
  MetricFamily exception_drops =
      Family("clusterdns_exception_dropped_total",
             "Frames the exception path freed, by where: ring_full, tap_tx, from_kernel_full, "
             "kernel_tx",
             MetricType::Counter);
  for (const ExceptionPathSnapshot& t : taps) {
    auto labels = [&t](const char* name, const char* value) {
      return Labels{{"port", std::to_string(t.port)}, {"tap", t.tap}, {name, value}};
    };
    AddCounter(exception_frames, labels("direction", "to_kernel"), t.to_kernel);
    AddCounter(exception_frames, labels("direction", "tap_tx"), t.tap_tx);
    AddCounter(exception_frames, labels("direction", "tap_rx"), t.tap_rx);
    AddCounter(exception_frames, labels("direction", "kernel_tx"), t.kernel_tx);
    AddCounter(exception_drops, labels("where", "ring_full"), t.ring_full);
    AddCounter(exception_drops, labels("where", "tap_tx"), t.tap_tx_dropped);
    AddCounter(exception_drops, labels("where", "from_kernel_full"), t.from_kernel_full);
    AddCounter(exception_drops, labels("where", "kernel_tx"), t.kernel_tx_dropped);
  }
  families.push_back(std::move(exception_frames));
  families.push_back(std::move(exception_drops));

  // The upstream forwarder: only with --upstream (the families are absent otherwise).
  if (forwarder != nullptr) {
    const ForwarderSnapshot f = forwarder->SnapshotForwarder();
    MetricFamily requests = Family("clusterdns_forward_requests_total",
                                   "Queries for names outside the served zones handed to the "
                                   "forwarder",
                                   MetricType::Counter);
    AddCounter(requests, {}, f.requests);
    MetricFamily relayed = Family("clusterdns_forward_relayed_total",
                                  "Forwarded queries answered with an upstream's answer",
                                  MetricType::Counter);
    AddCounter(relayed, {}, f.relayed);
    MetricFamily servfail = Family("clusterdns_forward_servfail_total",
                                   "Forwarded queries answered SERVFAIL, by cause",
                                   MetricType::Counter);
    for (const auto& [cause, count] : f.servfail_by_cause) {
      AddCounter(servfail, {{"cause", cause}}, count);
    }
    MetricFamily answers_dropped = Family("clusterdns_forward_dropped_total",
                                  "Upstream answers dropped unused (forged or late), by reason",
                                  MetricType::Counter);
    for (const auto& [reason, count] : f.dropped_by_reason) {
      AddCounter(answers_dropped, {{"reason", reason}}, count);
    }
    MetricFamily in_flight = Family("clusterdns_forward_in_flight",
                                    "Forwarded queries waiting for an upstream", MetricType::Gauge);
    AddGauge(in_flight, {}, static_cast<double>(f.in_flight));
    MetricFamily up_queries = Family("clusterdns_upstream_queries_total",
                                     "UDP queries sent to an upstream, one per try (TCP tries: "
                                     "clusterdns_upstream_tcp_retries_total)",
                                     MetricType::Counter);
    MetricFamily up_answers = Family("clusterdns_upstream_answers_total",
                                     "Answers accepted from an upstream, over UDP or TCP",
                                     MetricType::Counter);
    MetricFamily up_timeouts = Family("clusterdns_upstream_timeouts_total",
                                      "Tries an upstream did not answer in time",
                                      MetricType::Counter);
    MetricFamily up_tcp = Family("clusterdns_upstream_tcp_retries_total",
                                 "Truncated answers retried over TCP", MetricType::Counter);
    MetricFamily up_errors = Family("clusterdns_upstream_errors_total",
                                    "Tries that failed at once (ICMP unreachable, send or TCP errors)",
                                    MetricType::Counter);
    for (const ForwarderSnapshot::Upstream& u : f.upstreams) {
      const Labels labels = {{"upstream", u.address}};
      AddCounter(up_queries, labels, u.queries);
      AddCounter(up_answers, labels, u.answers);
      AddCounter(up_timeouts, labels, u.timeouts);
      AddCounter(up_tcp, labels, u.tcp_retries);
      AddCounter(up_errors, labels, u.errors);
    }
    for (MetricFamily* family : {&requests, &relayed, &servfail, &answers_dropped, &in_flight, &up_queries,
                                 &up_answers, &up_timeouts, &up_tcp, &up_errors}) {
      families.push_back(std::move(*family));
    }
  }

  if (forward_path != nullptr) {
    const ForwardPathSnapshot f = forward_path->SnapshotForwardPath();
    MetricFamily packets = Family(
        "clusterdns_forward_path_packets_total",
        "Queries for names outside the zones on the dataplane's forward path (worker → ring → "
        "forwarder → the port's slow-path TX queue, or worker 0), by stage",
        MetricType::Counter);
    const std::pair<const char*, uint64_t> stages[] = {
        {"handed_over", f.handed_over}, {"ring_full", f.ring_full},
        {"submitted", f.submitted},     {"not_submitted", f.not_submitted},
        {"replied", f.replied},         {"truncated", f.truncated},
        {"reply_dropped", f.reply_dropped}, {"tx", f.tx},
        {"tx_dropped", f.tx_dropped}};
    for (const auto& [stage, value] : stages) AddCounter(packets, {{"stage", stage}}, value);
    families.push_back(std::move(packets));
  }

  if (cache != nullptr) {
    const records::CacheStats& s = cache->stats();
    MetricFamily entries = Family("clusterdns_cache_entries",
                                  "Upstream answers in the cache", MetricType::Gauge);
    AddGauge(entries, {}, static_cast<double>(cache->entries()));
    MetricFamily bytes = Family("clusterdns_cache_bytes",
                                "Bytes the cached upstream answers take", MetricType::Gauge);
    AddGauge(bytes, {}, static_cast<double>(cache->bytes()));
    MetricFamily inserts = Family("clusterdns_cache_inserts_total",
                                  "Upstream answers stored in the cache", MetricType::Counter);
    AddCounter(inserts, {}, Load(s.inserts));
    MetricFamily evictions =
        Family("clusterdns_cache_evictions_total",
               "Cached answers removed, by reason (capacity: the bounds; expired: found expired "
               "by the eviction hand; replaced: a newer answer for the same question; "
               "bucket_full: the oldest of a hash bucket's 8 answers, for a new one)",
               MetricType::Counter);
    for (size_t i = 0; i < static_cast<size_t>(records::CacheEviction::kCount); ++i) {
      AddCounter(evictions,
                 {{"reason", records::CacheEvictionName(static_cast<records::CacheEviction>(i))}},
                 Load(s.evictions[i]));
    }
    MetricFamily not_stored =
        Family("clusterdns_cache_not_stored_total",
               "Upstream answers relayed but not cached, by reason", MetricType::Counter);
    for (size_t i = 1; i < static_cast<size_t>(records::CacheSkip::kCount); ++i) {
      AddCounter(not_stored, {{"reason", records::CacheSkipName(static_cast<records::CacheSkip>(i))}},
                 Load(s.skipped[i]));
    }
    for (MetricFamily* family : {&entries, &bytes, &inserts, &evictions, &not_stored}) {
      families.push_back(std::move(*family));
    }
  }

  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

}  // namespace clusterdns::controlplane
