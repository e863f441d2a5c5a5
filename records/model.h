// The cluster object model: the parts of Kubernetes Service and EndpointSlice objects that DNS
// needs, and nothing else (CoreDNS's object/service.go does the same to keep memory down). Built
// by the JSON decoders in controlplane/, consumed by the compiler in records/. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "records/ip_address.h"

namespace clusterdns::records {

enum class Protocol : uint8_t { kTcp, kUdp, kSctp };

// "tcp", "udp", "sctp": the label used in SRV owner names (_port._proto.…).
const char* ProtocolLabel(Protocol protocol);

enum class ServiceType : uint8_t { kClusterIP, kNodePort, kLoadBalancer, kExternalName };

struct ServicePort {
  std::string name;  // may be empty (an unnamed single port)
  Protocol protocol = Protocol::kTcp;
  uint16_t port = 0;
  bool operator==(const ServicePort&) const = default;
};

struct Service {
  std::string ns;    // metadata.namespace
  std::string name;  // metadata.name
  std::string resource_version;
  ServiceType type = ServiceType::kClusterIP;
  // spec.clusterIP == "None": answered from the EndpointSlices instead of cluster_ips.
  bool headless = false;
  std::vector<IpAddress> cluster_ips;  // spec.clusterIPs (or spec.clusterIP), v4 and/or v6
  std::string external_name;           // spec.externalName, for kExternalName
  std::vector<ServicePort> ports;
  bool publish_not_ready_addresses = false;
};

enum class AddressType : uint8_t { kIPv4, kIPv6, kFqdn };

struct Endpoint {
  std::vector<IpAddress> addresses;
  // conditions.*: absent (nullopt) is distinct from false. A missing `ready` counts as ready.
  std::optional<bool> ready;
  std::optional<bool> serving;
  std::optional<bool> terminating;
  std::string hostname;  // may be empty
  bool operator==(const Endpoint&) const = default;
};

struct EndpointPort {
  std::string name;  // may be empty
  Protocol protocol = Protocol::kTcp;
  std::optional<uint16_t> port;  // absent means "all ports" in the API; no SRV then
  bool operator==(const EndpointPort&) const = default;
};

struct EndpointSlice {
  std::string ns;
  std::string name;
  std::string resource_version;
  std::string service_name;  // label kubernetes.io/service-name; empty → belongs to no Service
  AddressType address_type = AddressType::kIPv4;
  std::vector<Endpoint> endpoints;
  std::vector<EndpointPort> ports;
};

// Whether two versions of a Service answer the same in DNS: everything but resource_version. The
// change filter of TableBuilder: a relist, or a status-only update, that changes nothing DNS sees
// rebuilds nothing. (EndpointSlices are compared packed: records/packed_slice.h.)
bool SameDnsContent(const Service& a, const Service& b);

}  // namespace clusterdns::records
