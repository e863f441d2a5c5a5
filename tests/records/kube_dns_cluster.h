// The cluster of the classic kube-dns walkthrough, plus a few Services for every record kind:
//   kube-system/kube-dns     10.254.0.3, ports dns 53/UDP and dns-tcp 53/TCP
//   default/redis-master     10.254.7.160, port 6379 (unnamed)
//   default/nginx            headless, slice with three endpoints (one not ready, one with
//                            hostname web-0), port http 80/TCP
//   default/dual             dual-stack 10.254.9.9 and fd00:10:254::9, port https 443/TCP
//   default/search           ExternalName www.example.com
// Zone flags: --service-cidr=10.254.0.0/16,fd00:10:254::/112 --pod-cidr=10.244.0.0/16.
#pragma once

#include <memory>
#include <vector>

#include "records/model.h"
#include "records/table_builder.h"
#include "records/zone_config.h"

namespace clusterdns::testing {

inline records::IpAddress Ip(const char* text) { return *records::IpAddress::Parse(text); }

inline records::ZoneConfig KubeDnsConfig() {
  records::ZoneConfig config;
  config.service_cidrs = {*records::IpPrefix::Parse("10.254.0.0/16"),
                          *records::IpPrefix::Parse("fd00:10:254::/112")};
  config.pod_cidrs = {*records::IpPrefix::Parse("10.244.0.0/16")};
  config.soa_serial = 12345;
  return config;
}

inline records::Service ClusterIpService(const char* ns, const char* name,
                                         std::vector<records::IpAddress> ips,
                                         std::vector<records::ServicePort> ports) {
  records::Service s;
  s.ns = ns;
  s.name = name;
  s.cluster_ips = std::move(ips);
  s.ports = std::move(ports);
  return s;
}

inline std::vector<records::Service> KubeDnsServices() {
  using records::Protocol;
  std::vector<records::Service> out;
  out.push_back(ClusterIpService("kube-system", "kube-dns", {Ip("10.254.0.3")},
                                 {{"dns", Protocol::kUdp, 53}, {"dns-tcp", Protocol::kTcp, 53}}));
  out.push_back(ClusterIpService("default", "redis-master", {Ip("10.254.7.160")},
                                 {{"", Protocol::kTcp, 6379}}));
  records::Service nginx;
  nginx.ns = "default";
  nginx.name = "nginx";
  nginx.headless = true;
  nginx.ports = {{"http", Protocol::kTcp, 80}};
  out.push_back(nginx);
  out.push_back(ClusterIpService("default", "dual", {Ip("10.254.9.9"), Ip("fd00:10:254::9")},
                                 {{"https", Protocol::kTcp, 443}}));
  records::Service search;
  search.ns = "default";
  search.name = "search";
  search.type = records::ServiceType::kExternalName;
  search.external_name = "www.example.com";
  out.push_back(search);
  return out;
}

inline std::vector<records::EndpointSlice> KubeDnsSlices() {
  records::EndpointSlice slice;
  slice.ns = "default";
  slice.name = "nginx-abcde";
  slice.service_name = "nginx";
  records::Endpoint a;
  a.addresses = {Ip("10.244.1.5")};
  a.ready = true;
  records::Endpoint b;
  b.addresses = {Ip("10.244.2.7")};
  b.hostname = "web-0";  // no conditions at all: counts as ready
  records::Endpoint c;
  c.addresses = {Ip("10.244.3.9")};
  c.ready = false;
  slice.endpoints = {a, b, c};
  slice.ports = {{"http", records::Protocol::kTcp, 80}};
  return {slice};
}

inline std::unique_ptr<records::TableBuilder> KubeDnsBuilder(
    records::ZoneConfig config = KubeDnsConfig()) {
  auto builder = records::TableBuilder::Create(config);
  for (auto& s : KubeDnsServices()) (*builder)->UpsertService(s);
  for (auto& s : KubeDnsSlices()) (*builder)->UpsertSlice(s);
  return std::move(*builder);
}

}  // namespace clusterdns::testing
