// Resolving a ZoneConfig into the wire names of the zones it serves.
#include "records/zone_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "records/status_macros.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

// A CIDR split into more covering zones than this is almost certainly a typo (/1).
constexpr int kMaxReverseZonesPerCidr = 256;

absl::Status AddReverseZones(const IpPrefix& prefix, std::vector<ServedZone>* zones) {
  const int unit = prefix.address.is_v4() ? 8 : 4;  // octets or nibbles
  const int rounded = (prefix.length + unit - 1) / unit * unit;
  const int extra_bits = rounded - prefix.length;
  if (extra_bits > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("CIDR ", prefix.ToString(), " needs more than ", kMaxReverseZonesPerCidr,
                     " reverse zones"));
  }
  const int count = 1 << extra_bits;
  for (int i = 0; i < count; ++i) {
    uint8_t bytes[16];
    std::copy(prefix.address.bytes(), prefix.address.bytes() + prefix.address.size(), bytes);
    // Set the host-part bits between length and rounded to i.
    for (int b = 0; b < extra_bits; ++b) {
      int bit = prefix.length + b;
      if (i & (1 << (extra_bits - 1 - b))) bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    IpAddress ip = prefix.address.is_v4() ? IpAddress::V4(bytes) : IpAddress::V6(bytes);
    // The reverse name of the full address, minus the labels of the host part.
    std::string full = ip.ReverseName();
    const int total_labels = prefix.address.is_v4() ? 4 : 32;
    const int keep = rounded / unit;
    CDNS_ASSIGN_OR_RETURN(std::string wire, FoldedWireFromText(full));
    std::string apex(StripLabels(wire, total_labels - keep));
    bool duplicate = std::any_of(zones->begin(), zones->end(),
                                 [&](const ServedZone& z) { return z.apex == apex; });
    if (!duplicate) zones->push_back(ServedZone{apex, ZoneKind::kReverse, false});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServedZones> ServedZones::FromConfig(const ZoneConfig& config) {
  if (config.domains.empty()) return absl::InvalidArgumentError("no --domain given");
  ServedZones out;
  for (const std::string& domain : config.domains) {
    auto wire = FoldedWireFromText(domain);
    if (!wire.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--domain=", domain, ": ", wire.status().message()));
    }
    if (wire->size() <= 1) return absl::InvalidArgumentError("--domain must not be the root");
    bool duplicate = std::any_of(out.zones.begin(), out.zones.end(),
                                 [&](const ServedZone& z) { return z.apex == *wire; });
    if (duplicate) continue;
    out.zones.push_back(
        ServedZone{*wire, ZoneKind::kCluster, config.pod_records == PodRecords::kInsecure});
  }
  out.primary = out.zones.front().apex;
  out.ns_name = std::string("\x02ns\x03" "dns", 7) + out.primary;
  out.hostmaster_name = std::string("\x0ahostmaster", 11) + out.primary;
  if (out.hostmaster_name.size() > 255) {
    return absl::InvalidArgumentError("--domain is too long for hostmaster.<domain> to fit 255 bytes");
  }
  for (const auto* list : {&config.service_cidrs, &config.pod_cidrs}) {
    for (const IpPrefix& prefix : *list) {
      CDNS_RETURN_IF_ERROR(AddReverseZones(prefix, &out.zones));
      out.reverse_prefixes.push_back(prefix);
    }
  }
  for (const ServedZone& a : out.zones) {
    for (const ServedZone& b : out.zones) {
      if (&a != &b && IsSubdomain(a.apex, b.apex)) out.nested = true;
    }
  }
  return out;
}

int ServedZones::FindZone(std::string_view name, int hint) const {
  // Without nesting at most one zone contains a name: the first match is the answer, and the
  // caller's hint (the zone of the previous name) usually is it.
  if (!nested) {
    if (hint >= 0 && static_cast<size_t>(hint) < zones.size() &&
        IsSubdomain(name, zones[hint].apex)) {
      return hint;
    }
    for (size_t i = 0; i < zones.size(); ++i) {
      if (IsSubdomain(name, zones[i].apex)) return static_cast<int>(i);
    }
    return -1;
  }
  int best = -1;
  size_t best_len = 0;
  for (size_t i = 0; i < zones.size(); ++i) {
    const std::string& apex = zones[i].apex;
    if (apex.size() > best_len && IsSubdomain(name, apex)) {
      best = static_cast<int>(i);
      best_len = apex.size();
    }
  }
  return best;
}

bool ServedZones::ServesReverse(const IpAddress& ip) const {
  return std::any_of(reverse_prefixes.begin(), reverse_prefixes.end(),
                     [&](const IpPrefix& p) { return p.Contains(ip); });
}

}  // namespace clusterdns::records
