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

}  // namespace clusterdns::records
