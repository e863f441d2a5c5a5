// The zone flags of DESIGN.md "Interface", shared by clusterdns and clusterdns-zone:
//   --domain=cluster.local[,…]  --ttl=30  --legacy-names=true  --pod-records=disabled|insecure
//   --service-cidr=CIDR[,…]  --pod-cidr=CIDR[,…]  --ip=ADDR[,…]
// Flags are abseil flags; DESIGN.md spells them with dashes, abseil with underscores, so
// NormalizeFlagNames rewrites "--legacy-names" to "--legacy_names" before parsing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "records/zone_config.h"

namespace clusterdns::controlplane {

// Rewrites dashes in flag names (not values) to underscores, in place, up to a bare "--".
void NormalizeFlagNames(int argc, char** argv);

// The ZoneConfig the flags describe; errors name the flag and the bad value.
absl::StatusOr<records::ZoneConfig> ZoneConfigFromFlags();

}  // namespace clusterdns::controlplane
