// The clusterdns binary's flags (DESIGN.md "Interface") beyond the zone flags of zone_flags.h,
// and their translation into an AppConfig. Errors name the flag and the bad value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/app.h"

namespace clusterdns::controlplane {

// Flags that may be given several times (their values accumulate, comma-joined).
std::vector<std::string> RepeatableAppFlags();

// "1048576", "64K", "32M", "1G" (powers of 1024) → bytes; the error names --`flag`.
absl::StatusOr<size_t> ParseByteSize(std::string_view flag, std::string_view text);

// Reads every flag (zone flags included) into an AppConfig; the environment supplies the
// in-cluster configuration (KUBERNETES_SERVICE_HOST) when no other Kubernetes flag is given.
// `dataplane`: EAL arguments were given, so the DPDK ports serve (--listen becomes optional and
// --ip required).
absl::StatusOr<AppConfig> AppConfigFromFlags(bool dataplane = false);

}  // namespace clusterdns::controlplane
