// Small helpers of the cluster object model.
#include "records/model.h"

namespace clusterdns::records {

const char* ProtocolLabel(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "tcp";
}

bool SameDnsContent(const Service& a, const Service& b) {
  return a.ns == b.ns && a.name == b.name && a.type == b.type && a.headless == b.headless &&
         a.cluster_ips == b.cluster_ips && a.external_name == b.external_name &&
         a.ports == b.ports && a.publish_not_ready_addresses == b.publish_not_ready_addresses;
}

}  // namespace clusterdns::records
