// Benchmarks of the records layer on a 100k-Service table (issue 2's targets):
//   BM_TableBuilderFullBuild   compile 100k Services from scratch; table bytes per Service
//   BM_TableBuilderOneChange   rebuild after one Service changed
//   BM_Respond                 respond() one query at a time over the 50/50 mix
//   BM_RespondBurst            the burst variant, 32 at a time
//   BM_RespondBurstInCache     the same on a 1k-Service table, which stays in the CPU caches: the
//                              compute alone, without DRAM misses
//   Instructions/...           both burst benchmarks for exactly 512 bursts, for callgrind
// Cycles are TSC cycles (rdtsc) per query; ns per query is the benchmark's time per item.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <memory>
#include <vector>

#include "bench/records/synthetic_cluster.h"
#include "records/respond.h"
#include "records/table_builder.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::bench {
namespace {

constexpr size_t kServices = 100000;
constexpr size_t kQueries = 1 << 16;

const SyntheticCluster& Cluster() {
  static const SyntheticCluster* cluster = new SyntheticCluster(MakeCluster(kServices));
  return *cluster;
}

struct Fixture {
  std::unique_ptr<records::TableBuilder> builder;
  std::shared_ptr<const records::AnswerTable> table;
  std::vector<std::vector<uint8_t>> queries;
};

Fixture* MakeFixture(const SyntheticCluster& cluster, std::unique_ptr<records::TableBuilder> builder) {
  auto* fx = new Fixture;
  fx->builder = std::move(builder);
  fx->table = fx->builder->Build();
  for (const auto& q : MakeQueryMix(cluster, kQueries)) {
    testing::QueryOptions options;
    options.edns = true;
    fx->queries.push_back(testing::BuildQuery(q.name, q.qtype, options));
  }
  return fx;
}

Fixture& SmallTable() {
  static Fixture* f = [] {
    static const SyntheticCluster* cluster = new SyntheticCluster(MakeCluster(1000));
    return MakeFixture(*cluster, LoadedBuilder(*cluster));
  }();
  return *f;
}

Fixture& Shared() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->builder = LoadedBuilder(Cluster());
    fx->table = fx->builder->Build();
    for (const auto& q : MakeQueryMix(Cluster(), kQueries)) {
      testing::QueryOptions options;
      options.edns = true;
      fx->queries.push_back(testing::BuildQuery(q.name, q.qtype, options));
    }
    return fx;
  }();
  return *f;
}

void BM_TableBuilderFullBuild(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();  // loading the objects is the source's work, not the compiler's
    auto builder = LoadedBuilder(Cluster());
    state.ResumeTiming();
    auto table = builder->Build();
    bytes = table->bytes();
    benchmark::DoNotOptimize(table);
  }
  state.counters["table_bytes_per_service"] = static_cast<double>(bytes) / kServices;
  state.counters["services"] = kServices;
}
BENCHMARK(BM_TableBuilderFullBuild)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_TableBuilderOneChange(benchmark::State& state) {
  Fixture& f = Shared();
  // Each Service's port flips between two values, so every iteration is a real change however
  // often a Service comes round again (an unchanged Service rebuilds nothing).
  static std::vector<uint16_t> port(kServices, 9000);
  static size_t i = 0;
  size_t shards = 0;
  for (auto _ : state) {
    const size_t index = (i++ * 7919) % kServices;
    records::Service s = Cluster().services[index];
    port[index] = port[index] == 9000 ? 9001 : 9000;
    s.ports[0].port = port[index];
    f.builder->UpsertService(std::move(s));
    f.table = f.builder->Build();
    shards += f.builder->last_build_stats().shards_rebuilt;
  }
  state.counters["shards_rebuilt"] = static_cast<double>(shards) / static_cast<double>(state.iterations());
  state.counters["shard_count"] = static_cast<double>(f.table->shard_count());
}
BENCHMARK(BM_TableBuilderOneChange)->Unit(benchmark::kMicrosecond);

void BM_Respond(benchmark::State& state) {
  Fixture& f = Shared();
  uint8_t buf[records::kUdpResponseRoom];
  records::RespondOptions options;
  size_t i = 0;
  uint64_t cycles = 0;
  for (auto _ : state) {
    const auto& q = f.queries[i++ & (kQueries - 1)];
    std::memcpy(buf, q.data(), q.size());
    uint64_t t0 = __rdtsc();
    auto r = records::Respond(*f.table, buf, q.size(), sizeof(buf), options);
    cycles += __rdtsc() - t0;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["cycles_per_query"] = static_cast<double>(cycles) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Respond);

void RunBurst(benchmark::State& state, Fixture& f) {
  constexpr size_t kBurst = records::kMaxBurst;
  static uint8_t bufs[kBurst][records::kUdpResponseRoom];
  records::RespondJob jobs[kBurst];
  records::RespondOptions options;
  size_t i = 0;
  uint64_t cycles = 0;
  for (auto _ : state) {
    for (size_t j = 0; j < kBurst; ++j) {
      const auto& q = f.queries[(i + j) & (kQueries - 1)];
      std::memcpy(bufs[j], q.data(), q.size());
      jobs[j] = records::RespondJob{bufs[j], static_cast<uint16_t>(q.size()),
                                    static_cast<uint16_t>(sizeof(bufs[j])), {}};
    }
    i += kBurst;
    uint64_t t0 = __rdtsc();
    records::RespondBurst(*f.table, jobs, kBurst, options);
    cycles += __rdtsc() - t0;
    benchmark::DoNotOptimize(jobs);
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
  state.counters["cycles_per_query"] =
      static_cast<double>(cycles) / static_cast<double>(state.iterations() * kBurst);
}
void BM_RespondBurst(benchmark::State& state) { RunBurst(state, Shared()); }
BENCHMARK(BM_RespondBurst);
void BM_RespondBurstInCache(benchmark::State& state) { RunBurst(state, SmallTable()); }
BENCHMARK(BM_RespondBurstInCache);
// The same, exactly 512 bursts each: scripts/bench-records.sh counts their instructions under
// callgrind, a figure that does not move with the machine's load. Not run by default.
BENCHMARK(BM_RespondBurst)->Name("Instructions/RespondBurst")->Iterations(512);
BENCHMARK(BM_RespondBurstInCache)->Name("Instructions/RespondBurstInCache")->Iterations(512);

}  // namespace
}  // namespace clusterdns::bench

BENCHMARK_MAIN();
