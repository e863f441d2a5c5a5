// entry_lines: how many cache lines of its entry each hit of the records benchmark's query mix
// reads (issue 2). At 100k Services every such line is a DRAM miss, and on the project's VM a
// random DRAM line costs ≈ 24 TSC cycles even with 32 prefetches in flight, so this count, not
// the prefetch schedule, sets most of the gap between the 100k mix and the in-cache table. It is
// the figure to watch when the entry layout changes.
//
//   build/bench/entry_lines [--services=100000] [--queries=65536]
//
// A hit reads its entry from the header through the end of the body of the asked type (the type
// table and the key included); lines are counted at the entry's real address in the table.
// Prints the mean and the distribution per query type, and the entry sizes that occur.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "bench/records/synthetic_cluster.h"
#include "records/answer_table.h"
#include "records/name_hash.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::bench {
namespace {

constexpr size_t kLine = 64;

// Bytes of `entry` that an answer to `qtype` reads: header, key, type table and that type's
// body (or the type table alone when the name has no such type: the SOA comes from the zone).
size_t HotBytes(const uint8_t* entry, uint16_t qtype) {
  const records::EntryView view{entry};
  const size_t ntypes = view.header()->ntypes;
  for (size_t i = 0; i < ntypes; ++i) {
    const records::TypeEntry t = view.type(i);
    if (t.qtype == qtype || (view.header()->flags & records::kEntryFlagCname) != 0) {
      return view.body_offset(i) + t.body_len;
    }
  }
  return view.body_offset(0);  // the end of the type table
}

int Run(size_t services, size_t queries) {
  const SyntheticCluster cluster = MakeCluster(services);
  const auto table = LoadedBuilder(cluster)->Build();

  std::map<uint16_t, std::map<size_t, size_t>> lines_by_type;  // qtype → lines → hits
  size_t hits = 0;
  size_t lines_total = 0;
  for (const SyntheticQuery& q : MakeQueryMix(cluster, queries)) {
    const std::vector<uint8_t> wire = testing::EncodeName(q.name);
    const records::NameKey key(
        std::string_view(reinterpret_cast<const char*>(wire.data()), wire.size()));
    const uint8_t* entry = table->Find(key.hash, key.bytes, key.len);
    if (entry == nullptr) continue;
    const uintptr_t first = reinterpret_cast<uintptr_t>(entry);
    const size_t lines = (first + HotBytes(entry, q.qtype) - 1) / kLine - first / kLine + 1;
    ++lines_by_type[q.qtype][lines];
    ++hits;
    lines_total += lines;
  }
  std::printf("%zu Services, %zu queries, %zu hits; table %.0f bytes a Service\n", services,
              queries, hits, static_cast<double>(table->bytes()) / static_cast<double>(services));
  std::printf("entry lines read a hit: %.2f (plus the slot's line)\n",
              hits ? static_cast<double>(lines_total) / static_cast<double>(hits) : 0.0);
  for (const auto& [qtype, histogram] : lines_by_type) {
    size_t n = 0;
    for (const auto& [lines, count] : histogram) n += count;
    std::printf("  qtype %u (%zu hits):", qtype, n);
    for (const auto& [lines, count] : histogram) {
      std::printf(" %zu lines %.1f%%", lines,
                  100.0 * static_cast<double>(count) / static_cast<double>(n));
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace
}  // namespace clusterdns::bench

int main(int argc, char** argv) {
  size_t services = 100000;
  size_t queries = 65536;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    bool ok = false;
    if (arg.rfind("--services=", 0) == 0) {
      ok = absl::SimpleAtoi(arg.substr(11), &services) && services > 0;
    } else if (arg.rfind("--queries=", 0) == 0) {
      ok = absl::SimpleAtoi(arg.substr(10), &queries) && queries > 0;
    }
    if (!ok) {
      std::fprintf(stderr, "usage: entry_lines [--services=100000] [--queries=65536] (bad: %s)\n",
                   arg.c_str());
      return 2;
    }
  }
  return clusterdns::bench::Run(services, queries);
}
