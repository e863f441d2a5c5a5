// The compiler: cluster objects → records, per DESIGN.md "The zone" (Kubernetes DNS-Based Service
// Discovery 1.1.0 plus the kube2sky legacy names). Pure functions of their inputs; callable from
// any thread. Rendering the records into answers is answer_renderer.h's job.
//
//   std::vector<Record> records;
//   std::vector<std::string> problems;
//   CompileService(zones, config, service, slices, &records, &problems);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "records/model.h"
#include "records/record.h"
#include "records/zone_config.h"

namespace clusterdns::records {

// Every record of one Service in every cluster zone (and its PTRs in the served reverse zones).
// `slices` are the EndpointSlices whose service_name is this Service (only used when headless).
// A Service that cannot be compiled (a name that is not a DNS label, an ExternalName that is not
// a domain name) adds nothing and appends one line naming it to `problems`.
//
// Legacy names (config.legacy_names) come as full records (kFull, for zone text) or as one
// marker per name (kMarkers: type 0, legacy = true) that the table turns into an alias of the
// s.n.svc twin; compiling them fully would double the work for answers the table never stores.
enum class LegacyRecords : uint8_t { kFull, kMarkers };
void CompileService(const ServedZones& zones, const ZoneConfig& config, const Service& service,
                    absl::Span<const EndpointSlice* const> slices, std::vector<Record>* out,
                    std::vector<std::string>* problems, LegacyRecords legacy = LegacyRecords::kFull);

// The records every zone has whatever the cluster holds: SOA and NS at each apex, the name
// server's A/AAAA (ns.dns.<primary>, from config.nameserver_addresses), dns-version TXT "1.1.0"
// in the cluster zones.
void CompileZoneApexes(const ServedZones& zones, const ZoneConfig& config,
                       std::vector<Record>* out);

// SOA rdata suffix (serial, refresh, retry, expire, minimum), network order.
std::string SoaTimers(const ZoneConfig& config);

// Appends to `out` the ancestors of `owner` strictly between it and the apex of its zone: the
// names that exist only as parents (empty non-terminals unless they have records of their own).
void AncestorsBelowApex(const ServedZones& zones, std::string_view owner,
                        std::vector<std::string_view>* out);
// The same when the caller knows the size of the owner's zone apex.
void AncestorsBelowApex(std::string_view owner, size_t apex_size,
                        std::vector<std::string_view>* out);

}  // namespace clusterdns::records
