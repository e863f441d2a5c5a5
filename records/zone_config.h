// ZoneConfig: what the operator chose about the zones served (DESIGN.md "The zone" and
// "Interface"): domains, TTL, legacy kube2sky names, pod records, reverse zones, name servers.
// ServedZones: the same, resolved into folded wire names once, for the compiler and the table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "records/ip_address.h"

namespace clusterdns::records {

enum class PodRecords : uint8_t { kDisabled, kInsecure };

struct ZoneConfig {
  std::vector<std::string> domains = {"cluster.local"};  // --domain; the first is the primary
  uint32_t ttl = 30;                                      // --ttl, seconds
  bool legacy_names = true;                               // --legacy-names: s.n.Z beside s.n.svc.Z
  PodRecords pod_records = PodRecords::kDisabled;         // --pod-records
  std::vector<IpPrefix> service_cidrs;                    // --service-cidr: reverse zones
  std::vector<IpPrefix> pod_cidrs;                        // --pod-cidr: reverse zones
  std::vector<IpAddress> nameserver_addresses;            // --ip: A/AAAA of ns.dns.<primary>
  uint32_t soa_serial = 1;
  // SOA timers (seconds), as CoreDNS's kubernetes plugin publishes them.
  uint32_t soa_refresh = 7200;
  uint32_t soa_retry = 1800;
  uint32_t soa_expire = 86400;
};

enum class ZoneKind : uint8_t { kCluster, kReverse };

struct ServedZone {
  std::string apex;  // folded wire name
  ZoneKind kind = ZoneKind::kCluster;
  bool pod_records = false;  // answer a-b-c-d.<ns>.pod.<apex>
};

// The zones of a config in wire form. Reverse zones of a CIDR whose length is not on an octet
// (IPv4) or nibble (IPv6) boundary are split into the covering zones, as CoreDNS does
// (10.96.0.0/12 → 96.10.in-addr.arpa … 111.10.in-addr.arpa); at most 256 per CIDR.
struct ServedZones {
  std::vector<ServedZone> zones;  // cluster domains first, in flag order, then reverse zones
  std::string primary;            // folded wire name of the first domain
  std::string ns_name;            // ns.dns.<primary>
  std::string hostmaster_name;    // hostmaster.<primary>
  std::vector<IpPrefix> reverse_prefixes;  // service + pod CIDRs: PTRs are made for these only

  static absl::StatusOr<ServedZones> FromConfig(const ZoneConfig& config);
  // Whether some zone lies inside another (cluster.local and 10.in-addr.arpa do not; a
  // --domain=svc.cluster.local beside cluster.local would).
  bool nested = false;

  // Index into `zones` of the most specific zone containing `name` (folded wire), or -1. `hint`:
  // a zone to try first (the previous name's), for callers that look up many related names.
  int FindZone(std::string_view name, int hint = -1) const;
  bool ServesReverse(const IpAddress& ip) const;
};

}  // namespace clusterdns::records
