// Tests of Metrics (controlplane/http/metrics.h) and of the strict text-format parser the tests
// rely on (prometheus_text.h).
#include "controlplane/http/metrics.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/dns_constants.h"
#include "tests/controlplane/http/prometheus_text.h"

namespace clusterdns::controlplane {
namespace {

using ::clusterdns::testing::ParsePromText;
using ::clusterdns::testing::PromText;
using ::testing::HasSubstr;
using ::testing::Optional;

records::RespondResult Reply(uint8_t rcode, uint16_t qtype, bool truncated = false) {
  records::RespondResult r;
  r.verdict = records::Verdict::kReply;
  r.rcode = rcode;
  r.qtype = qtype;
  r.truncated = truncated;
  return r;
}

records::RespondResult Drop(records::DropReason reason) {
  records::RespondResult r;
  r.verdict = records::Verdict::kDrop;
  r.drop = reason;
  return r;
}

records::RespondResult Forward() {
  records::RespondResult r;
  r.verdict = records::Verdict::kForward;
  return r;
}

PromText MustParse(const std::string& text) {
  absl::StatusOr<PromText> parsed = ParsePromText(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  return parsed.ok() ? *parsed : PromText{};
}

class FakeWorkers : public WorkerCounterSource {
 public:
  std::vector<WorkerCounterSnapshot> SnapshotWorkers() const override { return workers; }
  std::vector<WorkerCounterSnapshot> workers;
};

class FakeForwarder : public ForwarderCounterSource {
 public:
  ForwarderSnapshot SnapshotForwarder() const override { return snapshot; }
  ForwarderSnapshot snapshot;
};

class FakeExceptionPath : public ExceptionPathCounterSource {
 public:
  std::vector<ExceptionPathSnapshot> SnapshotExceptionPath() const override { return taps; }
  std::vector<ExceptionPathSnapshot> taps;
};

TEST(Metrics, SumsQueryCounterBlocksPerPath) {
  records::QueryCounters listen_a, listen_b, dataplane;
  listen_a.Count(Reply(records::kRcodeNoError, records::kTypeA));
  listen_a.Count(Reply(records::kRcodeNxDomain, records::kTypeAaaa));
  listen_b.Count(Reply(records::kRcodeNoError, records::kTypeA, /*truncated=*/true));
  listen_b.Count(Reply(records::kRcodeBadVers, 65));  // an unnamed qtype counts as "other"
  listen_b.Count(Drop(records::DropReason::kResponse));
  listen_b.Count(Forward());
  listen_b.Count(Reply(200, records::kTypeA));  // past the named slots: rcode "other"
  dataplane.Count(Reply(records::kRcodeNoError, records::kTypeSrv));

  Metrics metrics("test");
  metrics.AddQueryCounters("listen", &listen_a);
  metrics.AddQueryCounters("dataplane", &dataplane);
  metrics.AddQueryCounters("listen", &listen_b);
  const PromText text = MustParse(metrics.Render());

  auto by = [&text](const char* family, const char* path, const char* key, const char* value) {
    return text.Value(family, {{"path", path}, {key, value}});
  };
  auto rcode = [&](const char* path, const char* name) {
    return by("clusterdns_queries_total", path, "rcode", name);
  };
  auto qtype = [&](const char* path, const char* name) {
    return by("clusterdns_queries_by_qtype_total", path, "qtype", name);
  };
  auto dropped = [&](const char* reason) {
    return by("clusterdns_dropped_total", "listen", "reason", reason);
  };
  EXPECT_THAT(rcode("listen", "NOERROR"), Optional(2.0));
  EXPECT_THAT(rcode("listen", "other"), Optional(1.0));
  EXPECT_EQ(rcode("listen", "23"), std::nullopt);
  EXPECT_THAT(rcode("listen", "NXDOMAIN"), Optional(1.0));
  EXPECT_THAT(rcode("listen", "BADVERS"), Optional(1.0));
  EXPECT_THAT(rcode("listen", "REFUSED"), Optional(0.0));
  EXPECT_THAT(rcode("dataplane", "NOERROR"), Optional(1.0));
  EXPECT_EQ(rcode("listen", "7"), std::nullopt);  // unnamed rcodes appear only once counted

  EXPECT_THAT(qtype("listen", "A"), Optional(3.0));
  EXPECT_THAT(qtype("listen", "AAAA"), Optional(1.0));
  EXPECT_THAT(qtype("listen", "other"), Optional(1.0));
  EXPECT_THAT(qtype("listen", "SRV"), Optional(0.0));
  EXPECT_THAT(qtype("dataplane", "SRV"), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_truncated_total", {{"path", "listen"}}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_truncated_total", {{"path", "dataplane"}}), Optional(0.0));
  EXPECT_THAT(text.Value("clusterdns_forwarded_total", {{"path", "listen"}}), Optional(1.0));
  EXPECT_THAT(dropped("response"), Optional(1.0));
  EXPECT_THAT(dropped("short_header"), Optional(0.0));
  EXPECT_THAT(dropped("no_room"), Optional(0.0));
  EXPECT_EQ(dropped("none"), std::nullopt);

  // One series per path, not per block.
  const auto* tc = text.Find("clusterdns_truncated_total");
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(tc->samples.size(), 2u);
}

TEST(Metrics, ExceptionPathCountersFromTheSource) {
  FakeExceptionPath path;
  ExceptionPathSnapshot t;
  t.port = 1;
  t.tap = "cdns-tap1";
  t.to_kernel = 11;
  t.ring_full = 2;
  t.tap_tx = 9;
  t.tap_tx_dropped = 1;
  t.tap_rx = 13;
  t.from_kernel_full = 3;
  t.kernel_tx = 10;
  t.kernel_tx_dropped = 4;
  path.taps = {t};
  Metrics metrics("test");
  metrics.SetExceptionPathSource(&path);
  const PromText text = MustParse(metrics.Render());
  auto labels = [](const char* k, const char* v) {
    return std::map<std::string, std::string>{{"port", "1"}, {"tap", "cdns-tap1"}, {k, v}};
  };
  EXPECT_THAT(text.Value("clusterdns_exception_frames_total", labels("direction", "to_kernel")),
              Optional(11.0));
  EXPECT_THAT(text.Value("clusterdns_exception_frames_total", labels("direction", "tap_tx")),
              Optional(9.0));
  EXPECT_THAT(text.Value("clusterdns_exception_frames_total", labels("direction", "tap_rx")),
              Optional(13.0));
  EXPECT_THAT(text.Value("clusterdns_exception_frames_total", labels("direction", "kernel_tx")),
              Optional(10.0));
  EXPECT_THAT(text.Value("clusterdns_exception_dropped_total", labels("where", "ring_full")),
              Optional(2.0));
  EXPECT_THAT(text.Value("clusterdns_exception_dropped_total", labels("where", "tap_tx")),
              Optional(1.0));
  EXPECT_THAT(
      text.Value("clusterdns_exception_dropped_total", labels("where", "from_kernel_full")),
      Optional(3.0));
  EXPECT_THAT(text.Value("clusterdns_exception_dropped_total", labels("where", "kernel_tx")),
              Optional(4.0));
  metrics.SetExceptionPathSource(nullptr);
  EXPECT_TRUE(MustParse(metrics.Render()).Find("clusterdns_exception_frames_total")->samples.empty());
}

TEST(Metrics, ForwarderCountersOnlyWithAForwarder) {
  Metrics metrics("test");
  EXPECT_EQ(MustParse(metrics.Render()).Find("clusterdns_forward_requests_total"), nullptr)
      << "no forwarding families with --upstream=none";
  FakeForwarder forwarder;
  forwarder.snapshot.requests = 10;
  forwarder.snapshot.relayed = 7;
  forwarder.snapshot.in_flight = 2;
  forwarder.snapshot.servfail_by_cause = {{"deadline", 1}, {"cap", 0}};
  forwarder.snapshot.dropped_by_reason = {{"spoofed_id", 3}};
  forwarder.snapshot.upstreams = {{"198.18.0.1:53", 9, 7, 2, 1, 0}};
  metrics.SetForwarderSource(&forwarder);
  const PromText text = MustParse(metrics.Render());
  EXPECT_THAT(text.Value("clusterdns_forward_requests_total", {}), Optional(10.0));
  EXPECT_THAT(text.Value("clusterdns_forward_relayed_total", {}), Optional(7.0));
  EXPECT_THAT(text.Value("clusterdns_forward_in_flight", {}), Optional(2.0));
  EXPECT_THAT(text.Value("clusterdns_forward_servfail_total", {{"cause", "deadline"}}),
              Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_forward_dropped_total", {{"reason", "spoofed_id"}}),
              Optional(3.0));
  const std::map<std::string, std::string> up = {{"upstream", "198.18.0.1:53"}};
  EXPECT_THAT(text.Value("clusterdns_upstream_queries_total", up), Optional(9.0));
  EXPECT_THAT(text.Value("clusterdns_upstream_answers_total", up), Optional(7.0));
  EXPECT_THAT(text.Value("clusterdns_upstream_timeouts_total", up), Optional(2.0));
  EXPECT_THAT(text.Value("clusterdns_upstream_tcp_retries_total", up), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_upstream_errors_total", up), Optional(0.0));
}

TEST(Metrics, AnswerCacheFamiliesOnlyWithACache) {
  Metrics metrics("test");
  EXPECT_EQ(MustParse(metrics.Render()).Find("clusterdns_cache_entries"), nullptr);
  records::NoReadersGracePeriod grace;
  records::AnswerCache cache(records::AnswerCacheOptions{}, &grace);
  // An answer for www.example.com A (TTL 60), and one that cannot be stored (TC).
  std::vector<uint8_t> answer = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                                 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
                                 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
  ASSERT_EQ(cache.Offer(answer, 100), records::CacheSkip::kNone);
  answer[2] |= 0x02;  // TC
  ASSERT_EQ(cache.Offer(answer, 100), records::CacheSkip::kUncacheable);
  metrics.SetAnswerCache(&cache);
  records::QueryCounters counters;
  counters.Count(records::RespondResult{.verdict = records::Verdict::kReply, .cached = true});
  metrics.AddQueryCounters("dataplane", &counters);
  const PromText text = MustParse(metrics.Render());
  EXPECT_THAT(text.Value("clusterdns_cache_hits_total", {{"path", "dataplane"}}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_cache_entries", {}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_cache_bytes", {}), Optional(static_cast<double>(cache.bytes())));
  EXPECT_GT(cache.bytes(), answer.size());
  EXPECT_THAT(text.Value("clusterdns_cache_inserts_total", {}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_cache_evictions_total", {{"reason", "capacity"}}), Optional(0.0));
  EXPECT_THAT(text.Value("clusterdns_cache_evictions_total", {{"reason", "bucket_full"}}),
              Optional(0.0));
  EXPECT_THAT(text.Value("clusterdns_cache_not_stored_total", {{"reason", "uncacheable"}}),
              Optional(1.0));
  metrics.SetAnswerCache(nullptr);
  EXPECT_EQ(MustParse(metrics.Render()).Find("clusterdns_cache_entries"), nullptr);
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
  records::QueryCounters counters;
  SourceStats source("file");
  FakeWorkers workers;
  workers.workers.push_back(WorkerCounterSnapshot{});
  Metrics metrics("test");
  metrics.AddQueryCounters("listen", &counters);
  metrics.AddSource(&source);
  metrics.SetWorkerSource(&workers);
  const PromText text = MustParse(metrics.Render());

  const std::map<std::string, std::string> expected = {
      {"clusterdns_build_info", "gauge"},
      {"clusterdns_start_time_seconds", "gauge"},
      {"clusterdns_queries_total", "counter"},
      {"clusterdns_queries_by_qtype_total", "counter"},
      {"clusterdns_truncated_total", "counter"},
      {"clusterdns_forwarded_total", "counter"},
      {"clusterdns_cache_hits_total", "counter"},
      {"clusterdns_dropped_total", "counter"},
      {"clusterdns_source_events_total", "counter"},
      {"clusterdns_source_malformed_total", "counter"},
      {"clusterdns_source_lists_total", "counter"},
      {"clusterdns_source_relists_total", "counter"},
      {"clusterdns_source_reconnects_total", "counter"},
      {"clusterdns_source_last_sync_timestamp_seconds", "gauge"},
      {"clusterdns_source_synced", "gauge"},
      {"clusterdns_table_names", "gauge"},
      {"clusterdns_table_bytes", "gauge"},
      {"clusterdns_table_shards", "gauge"},
      {"clusterdns_table_generation", "gauge"},
      {"clusterdns_table_publishes_total", "counter"},
      {"clusterdns_table_shards_rebuilt_total", "counter"},
      {"clusterdns_programming_latency_seconds", "histogram"},
      {"clusterdns_worker_rx_packets_total", "counter"},
      {"clusterdns_worker_tx_packets_total", "counter"},
      {"clusterdns_worker_tx_dropped_total", "counter"},
      {"clusterdns_worker_exceptions_total", "counter"},
      {"clusterdns_worker_polls_total", "counter"},
      {"clusterdns_worker_cycles_total", "counter"},
      {"clusterdns_worker_drops_total", "counter"},
      {"clusterdns_exception_frames_total", "counter"},
      {"clusterdns_exception_dropped_total", "counter"},
  };
  for (const auto& [name, type] : expected) {
    const auto* family = text.Find(name);
    ASSERT_NE(family, nullptr) << name;
    EXPECT_EQ(family->type, type) << name;
    EXPECT_FALSE(family->help.empty()) << name;
  }
  EXPECT_EQ(text.families.size(), expected.size());
}

TEST(Metrics, EmptyMetricsStillParse) {
  Metrics metrics("test");
  const PromText text = MustParse(metrics.Render());
  EXPECT_THAT(text.Value("clusterdns_table_generation"), Optional(0.0));
  const auto* queries = text.Find("clusterdns_queries_total");
  ASSERT_NE(queries, nullptr);
  EXPECT_TRUE(queries->samples.empty());
}

TEST(Metrics, BuildInfoAndStartTime) {
  Metrics metrics("1.2.3-test", absl::FromUnixMillis(1700000000250));
  const PromText text = MustParse(metrics.Render());
  EXPECT_THAT(text.Value("clusterdns_build_info", {{"version", "1.2.3-test"}}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_start_time_seconds"), Optional(1700000000.25));
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics metrics("test");
  metrics.ObserveProgrammingLatency(0.00005);       // le 0.0001
  metrics.ObserveProgrammingLatency(0.0001);        // exactly on a bound: le 0.0001
  metrics.ObserveProgrammingLatency(0.003);         // le 0.005
  metrics.ObserveProgrammingLatency(20);            // only +Inf
  metrics.ObserveProgrammingLatency(-1);            // a clock step: counts as 0
  metrics.ObserveProgrammingLatency(std::nan(""));  // ignored
  const std::string body = metrics.Render();
  const PromText text = MustParse(body);
  const std::string name = "clusterdns_programming_latency_seconds";
  auto bucket = [&](const std::string& le) { return text.Value(name + "_bucket", {{"le", le}}); };
  EXPECT_THAT(bucket("0.0001"), Optional(3.0));
  EXPECT_THAT(bucket("0.00025"), Optional(3.0));
  EXPECT_THAT(bucket("0.0025"), Optional(3.0));
  EXPECT_THAT(bucket("0.005"), Optional(4.0));
  EXPECT_THAT(bucket("10"), Optional(4.0));
  EXPECT_THAT(bucket("+Inf"), Optional(5.0));
  EXPECT_THAT(text.Value(name + "_count"), Optional(5.0));
  const std::optional<double> sum = text.Value(name + "_sum");
  ASSERT_TRUE(sum.has_value());
  EXPECT_NEAR(*sum, 20.00315, 1e-9);
  const auto* family = text.Find(name);
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->samples.size(),
            Metrics::kLatencyBuckets.size() + 1 + 2);  // buckets, +Inf, sum, count
}

TEST(Metrics, TableGaugesAndPublishCounters) {
  Metrics metrics("test");
  metrics.SetTable(12345, 6789012, 64, 41);
  metrics.SetTable(12346, 6789100, 64, 42);  // the latest wins
  metrics.CountPublish(64);
  metrics.CountPublish(1);
  const PromText text = MustParse(metrics.Render());
  EXPECT_THAT(text.Value("clusterdns_table_names"), Optional(12346.0));
  EXPECT_THAT(text.Value("clusterdns_table_bytes"), Optional(6789100.0));
  EXPECT_THAT(text.Value("clusterdns_table_shards"), Optional(64.0));
  EXPECT_THAT(text.Value("clusterdns_table_generation"), Optional(42.0));
  EXPECT_THAT(text.Value("clusterdns_table_publishes_total"), Optional(2.0));
  EXPECT_THAT(text.Value("clusterdns_table_shards_rebuilt_total"), Optional(65.0));
}

TEST(Metrics, SourceStatsAppear) {
  SourceStats services("kubernetes/services");
  SourceStats slices("kubernetes/endpointslices");
  services.added = 10;
  services.modified = 3;
  services.deleted = 2;
  services.bookmarks = 7;
  services.errors = 1;
  services.malformed = 4;
  services.lists = 2;
  services.relists = 1;
  services.reconnects = 5;
  services.last_sync_unix_ms = 1700000000123;
  services.synced = true;
  Metrics metrics("test");
  metrics.AddSource(&services);
  metrics.AddSource(&slices);
  const PromText text = MustParse(metrics.Render());
  const std::string s = "kubernetes/services";
  auto events = [&](const std::string& source, const std::string& type) {
    return text.Value("clusterdns_source_events_total", {{"source", source}, {"type", type}});
  };
  EXPECT_THAT(events(s, "added"), Optional(10.0));
  EXPECT_THAT(events(s, "modified"), Optional(3.0));
  EXPECT_THAT(events(s, "deleted"), Optional(2.0));
  EXPECT_THAT(events(s, "bookmark"), Optional(7.0));
  EXPECT_THAT(events(s, "error"), Optional(1.0));
  EXPECT_THAT(events("kubernetes/endpointslices", "added"), Optional(0.0));
  EXPECT_THAT(text.Value("clusterdns_source_malformed_total", {{"source", s}}), Optional(4.0));
  EXPECT_THAT(text.Value("clusterdns_source_lists_total", {{"source", s}}), Optional(2.0));
  EXPECT_THAT(text.Value("clusterdns_source_relists_total", {{"source", s}}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_source_reconnects_total", {{"source", s}}), Optional(5.0));
  EXPECT_THAT(text.Value("clusterdns_source_last_sync_timestamp_seconds", {{"source", s}}),
              Optional(1700000000.123));
  EXPECT_THAT(text.Value("clusterdns_source_synced", {{"source", s}}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_source_synced", {{"source", "kubernetes/endpointslices"}}),
              Optional(0.0));
}

TEST(Metrics, WorkerCountersFromTheSource) {
  FakeWorkers workers;
  WorkerCounterSnapshot w0;
  w0.lcore = 2;
  w0.port = 0;
  w0.queue = 1;
  w0.rx_packets = 1000;
  w0.tx_packets = 990;
  w0.tx_dropped = 3;
  w0.exceptions = 7;
  w0.busy_polls = 40;
  w0.idle_polls = 60;
  w0.busy_cycles = 123456789;
  w0.idle_cycles = 987654321;
  w0.drops_by_reason = {{"not_for_us", 5}, {"bad_checksum", 2}};
  WorkerCounterSnapshot w1;
  w1.lcore = 3;
  w1.queue = 2;
  w1.rx_packets = 1;
  workers.workers = {w0, w1};

  Metrics metrics("test");
  metrics.SetWorkerSource(&workers);
  const PromText text = MustParse(metrics.Render());
  const std::map<std::string, std::string> q0 = {{"lcore", "2"}, {"port", "0"}, {"queue", "1"}};
  auto with = [](std::map<std::string, std::string> labels, const char* k, const char* v) {
    labels[k] = v;
    return labels;
  };
  EXPECT_THAT(text.Value("clusterdns_worker_rx_packets_total", q0), Optional(1000.0));
  EXPECT_THAT(text.Value("clusterdns_worker_tx_packets_total", q0), Optional(990.0));
  EXPECT_THAT(text.Value("clusterdns_worker_tx_dropped_total", q0), Optional(3.0));
  EXPECT_THAT(text.Value("clusterdns_worker_exceptions_total", q0), Optional(7.0));
  EXPECT_THAT(text.Value("clusterdns_worker_polls_total", with(q0, "state", "busy")),
              Optional(40.0));
  EXPECT_THAT(text.Value("clusterdns_worker_polls_total", with(q0, "state", "idle")),
              Optional(60.0));
  EXPECT_THAT(text.Value("clusterdns_worker_cycles_total", with(q0, "state", "busy")),
              Optional(123456789.0));
  EXPECT_THAT(text.Value("clusterdns_worker_cycles_total", with(q0, "state", "idle")),
              Optional(987654321.0));
  EXPECT_THAT(text.Value("clusterdns_worker_drops_total", with(q0, "reason", "not_for_us")),
              Optional(5.0));
  EXPECT_THAT(text.Value("clusterdns_worker_drops_total", with(q0, "reason", "bad_checksum")),
              Optional(2.0));
  EXPECT_THAT(text.Value("clusterdns_worker_rx_packets_total",
                         {{"lcore", "3"}, {"port", "0"}, {"queue", "2"}}),
              Optional(1.0));

  metrics.SetWorkerSource(nullptr);
  const PromText without = MustParse(metrics.Render());
  ASSERT_NE(without.Find("clusterdns_worker_rx_packets_total"), nullptr);
  EXPECT_TRUE(without.Find("clusterdns_worker_rx_packets_total")->samples.empty());
}

TEST(Metrics, LabelValuesAreEscaped) {
  const std::string nasty = "a\"b\\c\nd";
  records::QueryCounters counters;
  SourceStats source(nasty);
  source.lists = 1;
  Metrics metrics("v\"1\\\n");
  metrics.AddQueryCounters(nasty, &counters);
  metrics.AddSource(&source);
  const std::string body = metrics.Render();
  EXPECT_THAT(body, HasSubstr(R"(source="a\"b\\c\nd")"));
  EXPECT_THAT(body, HasSubstr(R"(version="v\"1\\\n")"));
  const PromText text = MustParse(body);
  EXPECT_THAT(text.Value("clusterdns_source_lists_total", {{"source", nasty}}), Optional(1.0));
  EXPECT_THAT(text.Value("clusterdns_truncated_total", {{"path", nasty}}), Optional(0.0));
  EXPECT_THAT(text.Value("clusterdns_build_info", {{"version", "v\"1\\\n"}}), Optional(1.0));
}

TEST(Metrics, LargeCountersAreExact) {
  records::QueryCounters counters;
  counters.by_rcode[records::kRcodeNoError].store(uint64_t{1} << 40);
  Metrics metrics("test");
  metrics.AddQueryCounters("dataplane", &counters);
  const PromText text = MustParse(metrics.Render());
  EXPECT_THAT(text.Value("clusterdns_queries_total", {{"path", "dataplane"}, {"rcode", "NOERROR"}}),
              Optional(static_cast<double>(uint64_t{1} << 40)));
}

// The checker must catch what it claims to catch, or the tests above prove nothing.
TEST(PromTextParser, AcceptsAWellFormedExposition) {
  const std::string ok =
      "# HELP a_total An a.\n"
      "# TYPE a_total counter\n"
      "a_total{x=\"1\",y=\"q\\\"\"} 3\n"
      "a_total 4 1700000000000\n"
      "# HELP h A histogram.\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"0.5\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\n"
      "h_sum 3.5\n"
      "h_count 2\n"
      "\n"
      "# a comment\n"
      "# HELP g A gauge with \\\\ and \\n in its help.\n"
      "# TYPE g gauge\n"
      "g{v=\"a\"} .5\n"
      "g{v=\"b\"} 1e3\n"
      "g{v=\"c\"} -Inf\n"
      "g{v=\"d\"} NaN\n"
      "g{v=\"e\"} 2. -17\n";
  absl::StatusOr<PromText> text = ParsePromText(ok);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(text->Value("g", {{"v", "a"}}), Optional(0.5));
  EXPECT_THAT(text->Value("g", {{"v", "b"}}), Optional(1000.0));
  EXPECT_THAT(text->Value("g", {{"v", "c"}}), Optional(-HUGE_VAL));
  EXPECT_THAT(text->Value("g", {{"v", "e"}}), Optional(2.0));
  ASSERT_NE(text->Find("g"), nullptr);
  EXPECT_EQ(text->Find("g")->help, "A gauge with \\ and \n in its help.");
  EXPECT_THAT(text->Value("a_total", {{"x", "1"}, {"y", "q\""}}), Optional(3.0));
}

TEST(PromTextParser, RejectsMalformedExpositions) {
  const std::string head = "# HELP a A.\n# TYPE a gauge\n";
  const std::string hist = "# HELP h H.\n# TYPE h histogram\n";
  struct Bad {
    std::string text;
    std::string why;  // a piece of the error the checker must give
  };
  const std::vector<Bad> bad = {
      {"# HELP a A.\na 1\n", "before its TYPE"},
      {"# TYPE a gauge\na 1\n", "before its HELP"},
      {"a 1\n# HELP a A.\n# TYPE a gauge\n", "before its TYPE"},
      {head + "a 1", "no newline"},
      {head + "a one\n", "bad value"},
      {head + "a 1e\n", "bad value"},
      {head + "a .\n", "bad value"},
      {head + "a 1 x\n", "bad timestamp"},
      {"# HELP a bad \\t escape.\n# TYPE a gauge\na 1\n", "bad escape in HELP"},
      {head + "a{x=\"\\t\"} 1\n", "bad escape"},
      {head + "a{x=\"1} 1\n", "unterminated"},
      {head + "a{1x=\"1\"} 1\n", "bad label name"},
      {head + "a{x=\"1\"} 1\na{x=\"1\"} 2\n", "duplicate series"},
      {head + "a{x=\"1\",x=\"2\"} 1\n", "duplicate label"},
      {head + "a{x=\"1\"}1\n", "expected a space"},
      {"# HELP a A.\n# TYPE a meter\na 1\n", "unknown type"},
      {head + "a{x=\"1\"} 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n", "not contiguous"},
      {head + "a 1\n# HELP a again.\n", "after the family's samples"},
      {"# HELP c C.\n# TYPE c counter\nc -1\n", "non-negative"},
      {hist + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
       "not cumulative"},
      {hist + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no +Inf"},
      {hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
       "differs from _count"},
      {hist + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum "
              "1\nh_count 1\n",
       "le not ascending"},
      {hist + "h_bucket{le=\"+Inf\"} 1\nh_sum 1\n", "missing _count"},
      {hist + "h_bucket 1\nh_sum 1\nh_count 1\n", "le label misplaced"},
  };
  for (const Bad& b : bad) {
    absl::StatusOr<PromText> parsed = ParsePromText(b.text);
    ASSERT_FALSE(parsed.ok()) << b.text;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(b.why)) << b.text;
  }
}

}  // namespace
}  // namespace clusterdns::controlplane
