// Where the control plane's memory goes (issue 3's peak-RSS target), run by
// scripts/bench-controlplane.sh after the scenario; not a test.
//
// Decodes the benchmark's N Services and N EndpointSlices from the same JSON the fake API server
// sends, hands them to a TableBuilder as the controller does, builds the table, then applies a
// relist of every object; after each step it prints the bytes the allocator holds for the
// program (jemalloc's stats.allocated when the program runs on jemalloc, else mallinfo2) and the
// process's RSS and peak RSS (VmRSS, VmHWM).
//   memory_breakdown [services=100000]
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench/controlplane/bench_objects.h"
#include "controlplane/objects_json.h"
#include "records/table_builder.h"
#include "records/zone_config.h"
#include "simdjson.h"

extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace {

using clusterdns::bench::Ip;
using clusterdns::bench::ServiceJson;
using clusterdns::bench::SliceJson;
namespace records = clusterdns::records;
namespace cp = clusterdns::controlplane;

size_t AllocatedBytes() {
  if (mallctl != nullptr) {
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);
    size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0) return allocated;
  }
  return mallinfo2().uordblks;
}

// kB from /proc/self/status.
long StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

size_t last_allocated = 0;

void Report(const char* step) {
  const size_t now = AllocatedBytes();
  std::printf("%-44s allocated %7.1f MB (%+7.1f)   RSS %6.1f MB   peak %6.1f MB\n", step,
              now / 1e6, (static_cast<double>(now) - static_cast<double>(last_allocated)) / 1e6,
              StatusKb("VmRSS") / 1e3, StatusKb("VmHWM") / 1e3);
  last_allocated = now;
}

template <typename T, typename Decode>
std::vector<T> DecodeAll(const std::vector<std::string>& texts, Decode decode) {
  simdjson::ondemand::parser parser;
  std::vector<T> out;
  out.reserve(texts.size());
  for (const std::string& text : texts) {
    simdjson::padded_string padded(text);
    simdjson::ondemand::document doc = parser.iterate(padded);
    auto object = doc.get_object();
    if (object.error()) std::abort();
    auto decoded = decode(object.value_unsafe());
    if (!decoded.ok()) std::abort();
    out.push_back(*std::move(decoded));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t services = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  std::vector<std::string> service_json, slice_json;
  for (size_t i = 0; i < services; ++i) {
    service_json.push_back(ServiceJson(i, services, Ip(i, 96)));
    slice_json.push_back(SliceJson(i, services));
  }
  Report("JSON texts (not part of clusterdns)");

  records::ZoneConfig config;
  auto created = records::TableBuilder::Create(config);
  if (!created.ok()) return 1;
  std::unique_ptr<records::TableBuilder> builder = *std::move(created);

  size_t before = AllocatedBytes();
  auto decoded_services = DecodeAll<records::Service>(service_json, cp::DecodeService);
  Report("decoded Services (as the decoder hands them over)");
  for (auto& s : decoded_services) builder->UpsertService(std::move(s));
  std::vector<records::Service>().swap(decoded_services);
  Report("... moved into the builder");
  std::printf("  = Services in the builder: %.1f MB\n", (AllocatedBytes() - before) / 1e6);

  before = AllocatedBytes();
  auto decoded_slices = DecodeAll<records::EndpointSlice>(slice_json, cp::DecodeEndpointSlice);
  Report("decoded EndpointSlices");
  for (auto& s : decoded_slices) builder->UpsertSlice(std::move(s));
  std::vector<records::EndpointSlice>().swap(decoded_slices);
  Report("... moved into the builder (packed)");
  std::printf("  = EndpointSlices in the builder: %.1f MB\n", (AllocatedBytes() - before) / 1e6);

  std::shared_ptr<const records::AnswerTable> table = builder->Build();
  Report("first Build (table + build state)");
  std::printf("  table: %.1f MB in %zu names (content; blocks round up to allocator classes)\n",
              table->bytes() / 1e6, table->name_count());

  // A relist: every object delivered again (unchanged), as the controller applies a listing.
  for (size_t i = 0; i < services; ++i) {
    auto s = DecodeAll<records::Service>({service_json[i]}, cp::DecodeService);
    builder->UpsertService(std::move(s[0]));
  }
  Report("relist of the Services applied");
  for (size_t i = 0; i < services; ++i) {
    auto s = DecodeAll<records::EndpointSlice>({slice_json[i]}, cp::DecodeEndpointSlice);
    builder->UpsertSlice(std::move(s[0]));
  }
  Report("relist of the EndpointSlices applied");
  table = builder->Build();
  Report("Build after the relist");
  return 0;
}
