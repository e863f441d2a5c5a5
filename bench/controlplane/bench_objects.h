// The objects of the control-plane benchmarks: Service and EndpointSlice JSON as the API server
// sends them, for a synthetic cluster of N Services (one EndpointSlice each: 1–3 endpoints, 5 for
// the headless tenth; 1–3 named ports). Deterministic in (i, services).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"

namespace clusterdns::bench {

inline std::string Ip(size_t i, int base) {
  return absl::StrCat("10.", base + (i >> 16), ".", (i >> 8) & 255, ".", i & 255);
}

inline std::string Namespace(size_t i, size_t services) {
  return absl::StrCat("ns-", i % std::max<size_t>(1, services / 1000));
}

inline std::string ServiceJson(size_t i, size_t services, const std::string& cluster_ip) {
  const bool headless = i % 10 == 9;
  const std::string ip = headless ? "None" : cluster_ip;
  const std::string name = absl::StrCat("svc-", i);
  std::string ports;
  static const char* kPortNames[] = {"http", "https", "grpc", "metrics", "admin", "redis"};
  for (size_t p = 0; p < 1 + i % 3; ++p) {
    absl::StrAppend(&ports, p ? "," : "", R"({"name":")", kPortNames[(i + p) % 6],
                    R"(","port":)", 8000 + p, R"(,"protocol":"TCP","targetPort":)", 8000 + p, "}");
  }
  return absl::StrCat(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")", name, R"(","namespace":")",
      Namespace(i, services), R"(","uid":"00000000-0000-4000-8000-)", absl::StrCat(1000000000000 + i),
      R"(","creationTimestamp":"2026-11-25T10:00:00Z","labels":{"app":")", name,
      R"("}},"spec":{"type":"ClusterIP","clusterIP":")", ip, R"(","clusterIPs":[")", ip,
      R"("],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","ports":[)", ports,
      R"(],"selector":{"app":")", name, R"("},"sessionAffinity":"None"},"status":{"loadBalancer":{}}})");
}

inline std::string SliceJson(size_t i, size_t services) {
  const std::string name = absl::StrCat("svc-", i);
  std::string endpoints;
  const size_t count = i % 10 == 9 ? 5 : 1 + i % 3;
  for (size_t e = 0; e < count; ++e) {
    absl::StrAppend(&endpoints, e ? "," : "", R"({"addresses":[")",
                    Ip((i * 5 + e) & 0xffffff, 64), R"("],"conditions":{"ready":true,"serving":true,"terminating":false},"nodeName":"node-)",
                    e, R"("})");
  }
  return absl::StrCat(
      R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":")", name,
      R"(-abcde","namespace":")", Namespace(i, services),
      R"(","labels":{"kubernetes.io/service-name":")", name,
      R"(","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}},"addressType":"IPv4","endpoints":[)",
      endpoints, R"(],"ports":[{"name":"http","port":8000,"protocol":"TCP"}]})");
}

}  // namespace clusterdns::bench
