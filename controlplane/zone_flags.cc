// Zone flags → ZoneConfig.
#include "controlplane/zone_flags.h"

#include <cstring>
#include <ctime>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::vector<std::string>, domain, {"cluster.local"},
          "zones served, comma-separated; the first is the cluster domain");
ABSL_FLAG(uint32_t, ttl, 30, "TTL of every record, seconds (also the SOA minimum)");
ABSL_FLAG(bool, legacy_names, true, "also answer the kube2sky names <svc>.<ns>.<domain>");
ABSL_FLAG(std::string, pod_records, "disabled",
          "disabled, or insecure: answer a-b-c-d.<ns>.pod.<domain> with a.b.c.d");
ABSL_FLAG(std::vector<std::string>, service_cidr, {},
          "Service CIDRs, comma-separated: their reverse zones are answered (PTR)");
ABSL_FLAG(std::vector<std::string>, pod_cidr, {},
          "Pod CIDRs, comma-separated: their reverse zones are answered (PTR)");
ABSL_FLAG(std::vector<std::string>, ip, {},
          "addresses answered on (the DNS ClusterIP); also the A/AAAA of ns.dns.<domain>");

namespace clusterdns::controlplane {

void NormalizeFlagNames(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) break;
    if (arg[0] != '-') continue;
    char* name = arg + (arg[1] == '-' ? 2 : 1);
    for (char* p = name; *p && *p != '='; ++p) {
      if (*p == '-') *p = '_';
    }
  }
}

namespace {

absl::StatusOr<std::vector<records::IpPrefix>> Prefixes(const std::vector<std::string>& texts,
                                                        const char* flag) {
  std::vector<records::IpPrefix> out;
  for (const std::string& text : texts) {
    auto prefix = records::IpPrefix::Parse(text);
    if (!prefix) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", text, ": not a CIDR with zero host bits"));
    }
    out.push_back(*prefix);
  }
  return out;
}

}  // namespace

absl::StatusOr<records::ZoneConfig> ZoneConfigFromFlags() {
  records::ZoneConfig config;
  config.domains = absl::GetFlag(FLAGS_domain);
  config.ttl = absl::GetFlag(FLAGS_ttl);
  config.legacy_names = absl::GetFlag(FLAGS_legacy_names);
  const std::string pods = absl::GetFlag(FLAGS_pod_records);
  if (pods == "disabled") {
    config.pod_records = records::PodRecords::kDisabled;
  } else if (pods == "insecure") {
    config.pod_records = records::PodRecords::kInsecure;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--pod-records=", pods, ": expected disabled or insecure"));
  }
  auto services = Prefixes(absl::GetFlag(FLAGS_service_cidr), "service-cidr");
  if (!services.ok()) return services.status();
  config.service_cidrs = *services;
  auto pod_cidrs = Prefixes(absl::GetFlag(FLAGS_pod_cidr), "pod-cidr");
  if (!pod_cidrs.ok()) return pod_cidrs.status();
  config.pod_cidrs = *pod_cidrs;
  for (const std::string& text : absl::GetFlag(FLAGS_ip)) {
    auto ip = records::IpAddress::Parse(text);
    if (!ip) return absl::InvalidArgumentError(absl::StrCat("--ip=", text, ": not an IP address"));
    config.nameserver_addresses.push_back(*ip);
  }
  // The SOA serial changes when the process starts; the zone has no other version to carry.
  config.soa_serial = static_cast<uint32_t>(std::time(nullptr));
  auto zones = records::ServedZones::FromConfig(config);
  if (!zones.ok()) return zones.status();
  return config;
}

}  // namespace clusterdns::controlplane
