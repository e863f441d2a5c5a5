// Cluster objects → records. The shapes of the names and records follow DESIGN.md "The zone";
// where the spec leaves a choice, CoreDNS's kubernetes plugin is the reference.
#include "records/compiler.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

// A single DNS label from an object's field: non-empty, at most 63 bytes, no dot. Folded.
bool AppendLabel(std::string_view label, std::string* wire) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.find('.') != std::string_view::npos) return false;
  wire->push_back(static_cast<char>(label.size()));
  size_t start = wire->size();
  wire->append(label);
  FoldName(reinterpret_cast<uint8_t*>(wire->data() + start), label.size());
  return true;
}

// label + "." + suffix as a wire name; empty on an invalid label or an over-long name.
std::string Child(std::string_view label, std::string_view suffix) {
  std::string wire;
  wire.reserve(1 + label.size() + suffix.size());
  if (!AppendLabel(label, &wire)) return {};
  wire.append(suffix);
  if (wire.size() > kMaxNameWireLength) return {};
  return wire;
}

std::string AddressRdata(const IpAddress& ip) {
  return std::string(reinterpret_cast<const char*>(ip.bytes()), ip.size());
}

uint16_t AddressRrType(const IpAddress& ip) { return ip.is_v4() ? kTypeA : kTypeAaaa; }

std::string SrvPrefix(uint16_t port) {
  std::string prefix;
  PutBe16(&prefix, 0);    // priority
  PutBe16(&prefix, 100);  // weight
  PutBe16(&prefix, port);
  return prefix;
}

// Appends records of one Service; CompileService sorts and deduplicates them at the end.
class Emitter {
 public:
  Emitter(uint32_t ttl, std::vector<Record>* out) : ttl_(ttl), out_(out) {}

  void Address(const std::string& owner, const IpAddress& ip) {
    Add(Record{owner, AddressRrType(ip), ttl_, AddressRdata(ip), {}, {}, {}, 0, {}, legacy_});
  }
  void Srv(const std::string& owner, uint16_t port, const std::string& target,
           absl::Span<const IpAddress> target_addresses) {
    Add(Record{owner, kTypeSrv, ttl_, SrvPrefix(port), target, {}, {}, 0, {}, legacy_});
    // A target's addresses go into the additional section once per owner, however many SRVs
    // point at it (a Service's own name lists every port with the same target).
    for (const auto& [glued_owner, glued_target] : glued_) {
      if (glued_owner == owner && glued_target == target) return;
    }
    glued_.emplace_back(owner, target);
    for (const IpAddress& ip : target_addresses) {
      Add(Record{owner, AddressRrType(ip), ttl_, AddressRdata(ip), {}, {}, {}, kTypeSrv, target,
                 legacy_});
    }
  }
  void Name(const std::string& owner, uint16_t type, const std::string& target) {
    Add(Record{owner, type, ttl_, {}, target, {}, {}, 0, {}, legacy_});
  }
  void Add(Record record) { out_->push_back(std::move(record)); }
  void set_legacy(bool legacy) { legacy_ = legacy; }

 private:
  uint32_t ttl_;
  std::vector<Record>* out_;
  bool legacy_ = false;
  std::vector<std::pair<std::string, std::string>> glued_;  // (owner, target) with glue emitted
};

struct ReadyEndpoint {
  IpAddress address;
  std::string label;  // hostname, or the dashed address
  const EndpointSlice* slice;
};

// Ready (or, with publishNotReadyAddresses, all) endpoint addresses of a headless Service, each
// once even when several slices list it.
std::vector<ReadyEndpoint> HeadlessEndpoints(const Service& service,
                                             absl::Span<const EndpointSlice* const> slices) {
  std::vector<ReadyEndpoint> out;
  absl::flat_hash_set<IpAddress> seen;
  for (const EndpointSlice* slice : slices) {
    if (slice->address_type == AddressType::kFqdn) continue;
    for (const Endpoint& ep : slice->endpoints) {
      bool ready = ep.ready.value_or(true);
      if (!ready && !service.publish_not_ready_addresses) continue;
      for (const IpAddress& ip : ep.addresses) {
        if (!seen.insert(ip).second) continue;
        out.push_back(ReadyEndpoint{ip, ep.hostname.empty() ? ip.DashedName() : ep.hostname, slice});
      }
    }
  }
  return out;
}

// The records of a Service under one base (n.svc.Z or the legacy n.Z).
void CompileUnderBase(const ServedZones& zones, const Service& service,
                      const std::vector<ReadyEndpoint>& endpoints, const std::string& base,
                      bool with_ptr, Emitter* emit, std::vector<std::string>* problems) {
  const std::string svc = Child(service.name, base);
  if (svc.empty()) {
    problems->push_back(absl::StrCat("Service ", service.ns, "/", service.name,
                                     ": name is not a DNS label"));
    return;
  }
  if (service.type == ServiceType::kExternalName) {
    auto target = FoldedWireFromText(service.external_name);
    if (!target.ok() || target->size() <= 1) {
      problems->push_back(absl::StrCat("Service ", service.ns, "/", service.name,
                                       ": spec.externalName \"", service.external_name,
                                       "\" is not a domain name"));
      return;
    }
    emit->Name(svc, kTypeCname, *target);
    return;
  }
  if (!service.headless) {
    for (const IpAddress& ip : service.cluster_ips) {
      emit->Address(svc, ip);
      if (with_ptr && zones.ServesReverse(ip)) {
        auto ptr = FoldedWireFromText(ip.ReverseName());
        if (ptr.ok()) emit->Name(*ptr, kTypePtr, svc);
      }
    }
    if (service.cluster_ips.empty()) return;
    for (const ServicePort& port : service.ports) {
      emit->Srv(svc, port.port, svc, service.cluster_ips);
      if (port.name.empty()) continue;
      std::string proto = Child(absl::StrCat("_", ProtocolLabel(port.protocol)), svc);
      std::string owner = Child(absl::StrCat("_", port.name), proto);
      if (owner.empty()) {
        problems->push_back(absl::StrCat("Service ", service.ns, "/", service.name, ": port name \"",
                                         port.name, "\" is not a DNS label"));
        continue;
      }
      emit->Srv(owner, port.port, svc, service.cluster_ips);
    }
    return;
  }
  // Headless: the ready endpoints.
  for (const ReadyEndpoint& ep : endpoints) {
    std::string ep_name = Child(ep.label, svc);
    if (ep_name.empty()) {
      problems->push_back(absl::StrCat("EndpointSlice ", ep.slice->ns, "/", ep.slice->name,
                                       ": hostname \"", ep.label, "\" is not a DNS label"));
      continue;
    }
    emit->Address(svc, ep.address);
    emit->Address(ep_name, ep.address);
    if (with_ptr && zones.ServesReverse(ep.address)) {
      auto ptr = FoldedWireFromText(ep.address.ReverseName());
      if (ptr.ok()) emit->Name(*ptr, kTypePtr, ep_name);
    }
    const IpAddress glue[] = {ep.address};
    for (const EndpointPort& port : ep.slice->ports) {
      if (!port.port) continue;
      emit->Srv(svc, *port.port, ep_name, glue);
      if (port.name.empty()) continue;
      std::string proto = Child(absl::StrCat("_", ProtocolLabel(port.protocol)), svc);
      std::string owner = Child(absl::StrCat("_", port.name), proto);
      if (owner.empty()) continue;
      emit->Srv(owner, *port.port, ep_name, glue);
    }
  }
}

// Sorts out[from, end) and drops duplicates (an address listed by two slices, glue shared by two
// SRVs). Sorts indices and moves each Record once: a Record is six strings, and std::sort on the
// Records themselves spent more time moving them than comparing (perf, 100k-Service build).
void SortUnique(std::vector<Record>* out, size_t from) {
  const size_t n = out->size() - from;
  if (n < 2) return;
  thread_local std::vector<uint32_t> order;
  thread_local std::vector<Record> sorted;
  order.resize(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  Record* base = out->data() + from;
  std::sort(order.begin(), order.end(), [base](uint32_t a, uint32_t b) { return base[a] < base[b]; });
  sorted.clear();
  for (uint32_t i : order) {
    if (!sorted.empty() && sorted.back() == base[i]) continue;
    sorted.push_back(std::move(base[i]));
  }
  out->resize(from);
  for (Record& r : sorted) out->push_back(std::move(r));
}

}  // namespace

std::string SoaTimers(const ZoneConfig& config) {
  std::string out;
  PutBe32(&out, config.soa_serial);
  PutBe32(&out, config.soa_refresh);
  PutBe32(&out, config.soa_retry);
  PutBe32(&out, config.soa_expire);
  PutBe32(&out, config.ttl);  // minimum: negative answers live no longer than positive ones
  return out;
}

void CompileService(const ServedZones& zones, const ZoneConfig& config, const Service& service,
                    absl::Span<const EndpointSlice* const> slices, std::vector<Record>* out,
                    std::vector<std::string>* problems, LegacyRecords legacy) {
  std::vector<ReadyEndpoint> endpoints;
  if (service.headless && service.type != ServiceType::kExternalName) {
    endpoints = HeadlessEndpoints(service, slices);
  }
  Emitter emit(config.ttl, out);
  size_t before = out->size();
  bool first_zone = true;
  for (const ServedZone& zone : zones.zones) {
    if (zone.kind != ZoneKind::kCluster) continue;
    std::string svc_base = Child("svc", zone.apex);
    std::string ns_base = Child(service.ns, svc_base);
    if (ns_base.empty()) {
      problems->push_back(absl::StrCat("Service ", service.ns, "/", service.name,
                                       ": namespace is not a DNS label"));
      out->resize(before);
      return;
    }
    size_t problems_before = problems->size();
    const size_t base_start = out->size();
    CompileUnderBase(zones, service, endpoints, ns_base, first_zone, &emit, problems);
    if (config.legacy_names) {
      std::string legacy_base = Child(service.ns, zone.apex);
      if (legacy == LegacyRecords::kFull) {
        // Legacy names repeat the problems already reported; keep one report per problem.
        std::vector<std::string> ignored;
        emit.set_legacy(true);
        CompileUnderBase(zones, service, endpoints, legacy_base, false, &emit, &ignored);
        emit.set_legacy(false);
      } else {
        // One marker per name: X.<ns>.svc.<zone> → X.<ns>.<zone>.
        const size_t base_end = out->size();
        for (size_t i = base_start; i < base_end; ++i) {
          const std::string& owner = (*out)[i].owner;
          if (owner.size() <= ns_base.size() || !owner.ends_with(ns_base)) continue;  // PTRs
          if (i > base_start && (*out)[i - 1].owner == owner) continue;
          std::string twin = owner.substr(0, owner.size() - ns_base.size()) + legacy_base;
          out->push_back(Record{std::move(twin), 0, config.ttl, {}, {}, {}, {}, 0, {}, true});
        }
      }
    }
    if (problems->size() > problems_before && out->size() == before) return;
    first_zone = false;
  }
  SortUnique(out, before);
}

void CompileZoneApexes(const ServedZones& zones, const ZoneConfig& config,
                       std::vector<Record>* out) {
  const std::string timers = SoaTimers(config);
  for (const ServedZone& zone : zones.zones) {
    out->push_back(Record{zone.apex, kTypeSoa, config.ttl, {}, zones.ns_name,
                          zones.hostmaster_name, timers, 0, {}});
    out->push_back(Record{zone.apex, kTypeNs, config.ttl, {}, zones.ns_name, {}, {}, 0, {}});
    const bool glue_in_zone = IsSubdomain(zones.ns_name, zone.apex);
    for (const IpAddress& ip : config.nameserver_addresses) {
      if (glue_in_zone) {
        out->push_back(Record{zone.apex, AddressRrType(ip), config.ttl, AddressRdata(ip), {}, {}, {},
                              kTypeNs, zones.ns_name});
      }
    }
    if (zone.kind != ZoneKind::kCluster) continue;
    std::string version = Child("dns-version", zone.apex);
    out->push_back(
        Record{version, kTypeTxt, config.ttl, std::string("\x05" "1.1.0", 6), {}, {}, {}, 0, {}});
    if (zone.pod_records) {
      // pod.<zone> exists as the parent of the synthesized pod names.
      out->push_back(Record{Child("pod", zone.apex), 0, config.ttl, {}, {}, {}, {}, 0, {}});
    }
  }
  for (const IpAddress& ip : config.nameserver_addresses) {
    out->push_back(
        Record{zones.ns_name, AddressRrType(ip), config.ttl, AddressRdata(ip), {}, {}, {}, 0, {}});
  }
}

void AncestorsBelowApex(const ServedZones& zones, std::string_view owner,
                        std::vector<std::string_view>* out) {
  int zone = zones.FindZone(owner);
  if (zone < 0) return;
  AncestorsBelowApex(owner, zones.zones[zone].apex.size(), out);
}

void AncestorsBelowApex(std::string_view owner, size_t apex_size,
                        std::vector<std::string_view>* out) {
  size_t pos = 0;
  // Skip the owner itself.
  if (owner.size() <= apex_size) return;
  pos += 1 + static_cast<uint8_t>(owner[0]);
  while (owner.size() - pos > apex_size) {
    out->push_back(owner.substr(pos));
    pos += 1 + static_cast<uint8_t>(owner[pos]);
  }
}

}  // namespace clusterdns::records
