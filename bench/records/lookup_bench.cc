// AnswerTable's own open addressing against abseil's SwissTable (flat_hash_map with heterogeneous
// lookup), one lookup at a time, on the keys of the 100k-Service table and the 50/50 query mix of
// respond_bench.cc: the measurement behind the table's choice of hash table (issue 2).
//   BM_LookupAnswerTable   HashFoldedName + AnswerTable::Find (the entry itself is the key)
//   BM_LookupSwissTable    absl::flat_hash_map<std::string, const uint8_t*>::find by string_view
//                          (it owns its keys, as the table does: entries store their names)
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "bench/records/synthetic_cluster.h"
#include "records/answer_table.h"
#include "records/wire_name.h"

namespace clusterdns::bench {
namespace {

struct LookupFixture {
  std::shared_ptr<const records::AnswerTable> table;
  absl::flat_hash_map<std::string, const uint8_t*> swiss;
  std::vector<records::NameKey> keys;  // folded, zero-padded, as respond() has them
};

LookupFixture& Fixture() {
  static LookupFixture* f = [] {
    auto* fx = new LookupFixture;
    const SyntheticCluster cluster = MakeCluster(100000);
    fx->table = LoadedBuilder(cluster)->Build();
    fx->swiss.reserve(fx->table->name_count());
    records::ForEachEntry(*fx->table, [&](records::EntryView e) {
      fx->swiss.emplace(records::EntryName(*fx->table, e), e.base);
    });
    for (const auto& q : MakeQueryMix(cluster, 1 << 16)) {
      fx->keys.emplace_back(*records::FoldedWireFromText(q.name));
    }
    return fx;
  }();
  return *f;
}

void BM_LookupAnswerTable(benchmark::State& state) {
  LookupFixture& f = Fixture();
  size_t i = 0;
  size_t hits = 0;
  for (auto _ : state) {
    const records::NameKey& k = f.keys[i++ & (f.keys.size() - 1)];
    const uint8_t* e = f.table->Find(records::HashFoldedName(k.bytes, k.len), k.bytes, k.len);
    hits += e != nullptr;
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LookupAnswerTable);

void BM_LookupSwissTable(benchmark::State& state) {
  LookupFixture& f = Fixture();
  size_t i = 0;
  size_t hits = 0;
  for (auto _ : state) {
    const records::NameKey& k = f.keys[i++ & (f.keys.size() - 1)];
    auto it = f.swiss.find(absl::string_view(reinterpret_cast<const char*>(k.bytes), k.len));
    hits += it != f.swiss.end();
    benchmark::DoNotOptimize(it);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LookupSwissTable);

}  // namespace
}  // namespace clusterdns::bench

BENCHMARK_MAIN();
