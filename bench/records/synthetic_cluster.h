// A synthetic cluster for benchmarks: N Services spread over namespaces, ClusterIP with 1–3
// named ports each, every tenth one headless with 5 ready endpoints in one EndpointSlice; and a
// query mix of existing names and search-path expansions that end in NXDOMAIN, in random order.
// Seeded: the same arguments give the same cluster and queries. LoadedBuilder compiles a cluster
// as every benchmark does (cluster.local, Service CIDR 10.96.0.0/12).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "records/model.h"
#include "records/table_builder.h"
#include "records/zone_config.h"

namespace clusterdns::bench {

struct SyntheticCluster {
  std::vector<records::Service> services;
  std::vector<records::EndpointSlice> slices;
};

inline SyntheticCluster MakeCluster(size_t service_count, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  SyntheticCluster c;
  c.services.reserve(service_count);
  const size_t namespaces = std::max<size_t>(1, service_count / 1000);
  static const char* kPortNames[] = {"http", "https", "grpc", "metrics", "admin", "redis"};
  for (size_t i = 0; i < service_count; ++i) {
    records::Service s;
    s.ns = "ns-" + std::to_string(i % namespaces);
    s.name = "svc-" + std::to_string(i);
    const int ports = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < ports; ++p) {
      s.ports.push_back({kPortNames[(i + p) % 6], records::Protocol::kTcp,
                         static_cast<uint16_t>(8000 + p)});
    }
    if (i % 10 == 9) {
      s.headless = true;
      records::EndpointSlice slice;
      slice.ns = s.ns;
      slice.name = s.name + "-abcde";
      slice.service_name = s.name;
      for (int e = 0; e < 5; ++e) {
        records::Endpoint ep;
        uint8_t b[4] = {10, static_cast<uint8_t>(64 + (i >> 16)), static_cast<uint8_t>(i >> 8),
                        static_cast<uint8_t>(e * 40 + (i % 40))};
        ep.addresses = {records::IpAddress::V4(b)};
        ep.ready = true;
        slice.endpoints.push_back(ep);
      }
      for (const auto& port : s.ports) slice.ports.push_back({port.name, port.protocol, port.port});
      c.slices.push_back(std::move(slice));
    } else {
      uint8_t b[4] = {10, static_cast<uint8_t>(96 + (i >> 16)), static_cast<uint8_t>(i >> 8),
                      static_cast<uint8_t>(i)};
      s.cluster_ips = {records::IpAddress::V4(b)};
    }
    c.services.push_back(std::move(s));
  }
  return c;
}

// Query names (text) and types: half existing names (Service A, named-port SRV, legacy),
// half search-path expansions of external names, shuffled.
struct SyntheticQuery {
  std::string name;
  uint16_t qtype;
};

inline std::vector<SyntheticQuery> MakeQueryMix(const SyntheticCluster& c, size_t count,
                                                uint32_t seed = 2) {
  std::mt19937 rng(seed);
  static const char* kExternal[] = {"google.com", "api.stripe.com", "github.com",
                                    "s3.amazonaws.com", "registry.npmjs.org", "pypi.org"};
  static const char* kSearch[] = {".default.svc.cluster.local", ".svc.cluster.local", ".cluster.local"};
  std::vector<SyntheticQuery> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      const auto& s = c.services[rng() % c.services.size()];
      switch (rng() % 4) {
        case 0:
        case 1:
          out.push_back({s.name + "." + s.ns + ".svc.cluster.local", 1});
          break;
        case 2:
          out.push_back({"_" + s.ports[0].name + "._tcp." + s.name + "." + s.ns + ".svc.cluster.local", 33});
          break;
        default:
          out.push_back({s.name + "." + s.ns + ".svc.cluster.local", 28});  // NODATA
          break;
      }
    } else {
      out.push_back({std::string(kExternal[rng() % 6]) + kSearch[rng() % 3], 1});
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// A TableBuilder holding every Service and slice of `cluster`, in the benchmarks' zone
// (cluster.local, Service CIDR 10.96.0.0/12). Build() it for the table.
inline std::unique_ptr<records::TableBuilder> LoadedBuilder(const SyntheticCluster& cluster) {
  records::ZoneConfig config;
  config.service_cidrs = {*records::IpPrefix::Parse("10.96.0.0/12")};
  auto builder = std::move(*records::TableBuilder::Create(config));
  for (const auto& s : cluster.services) builder->UpsertService(s);
  for (const auto& s : cluster.slices) builder->UpsertSlice(s);
  return builder;
}

}  // namespace clusterdns::bench
