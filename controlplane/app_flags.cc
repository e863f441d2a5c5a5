// The clusterdns binary's flags → AppConfig.
#include "controlplane/app_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include <cstdio>

#include "controlplane/forward/upstream_list.h"
#include "controlplane/kube/kube_config.h"
#include "controlplane/listen/listen_address.h"
#include "controlplane/zone_flags.h"
#include "records/status_macros.h"

ABSL_FLAG(std::string, kube_master_url, "",
          "Kubernetes API server URL, http:// or https:// (as kube2sky's -kube_master_url)");
ABSL_FLAG(std::string, kubeconfig, "",
          "kubeconfig file: its current context's server and credentials");
ABSL_FLAG(std::string, objects_file, "",
          "JSON List as printed by kubectl get services,endpointslices -A -o json; reloaded "
          "when it changes");
ABSL_FLAG(std::vector<std::string>, listen, {},
          "ADDR:PORT to also serve UDP and TCP on a kernel socket (repeatable; [v6]:port)");
ABSL_FLAG(std::string, http_addr, "127.0.0.1:8080",
          "address of /health, /ready and /metrics (empty: no HTTP server)");
ABSL_FLAG(std::string, upstream, "",
          "IP[:PORT][,...]: forwarders for names outside the served zones (port 53 by default; "
          "[v6]:port); none: REFUSED for them; empty: the nameservers of --resolv-conf");
ABSL_FLAG(std::string, resolv_conf, "/etc/resolv.conf",
          "where the default upstreams come from, when --upstream is not given");
ABSL_FLAG(absl::Duration, forward_timeout, absl::Milliseconds(500),
          "forwarding: how long one upstream is waited for before the next is asked");
ABSL_FLAG(absl::Duration, forward_deadline, absl::Seconds(2),
          "forwarding: from the query to SERVFAIL when no upstream answered");
ABSL_FLAG(int32_t, forward_max_in_flight, 1024,
          "forwarding: queries with the upstreams at once; beyond it, SERVFAIL at once");
ABSL_FLAG(int64_t, cache_size, 10000,
          "forwarding: upstream answers kept for the fast path, in entries (0: no cache)");
ABSL_FLAG(std::string, cache_bytes, "32M",
          "forwarding: the most memory the cached answers take (bytes, or with K, M or G)");
ABSL_FLAG(absl::Duration, cache_max_ttl, absl::Hours(1),
          "forwarding: the longest a positive upstream answer is cached (its TTLs are lowered)");
ABSL_FLAG(absl::Duration, cache_max_negative_ttl, absl::Minutes(30),
          "forwarding: the longest an NXDOMAIN or NODATA answer is cached (RFC 2308)");
ABSL_FLAG(absl::Duration, coalesce_window, absl::Milliseconds(1),
          "how long the first change waits for others before the table is rebuilt");
ABSL_FLAG(absl::Duration, tcp_idle_timeout, absl::Seconds(10),
          "DNS over TCP: close a connection idle this long (RFC 7766)");
ABSL_FLAG(int32_t, max_tcp_connections, 1024, "DNS over TCP: connections per listener");

namespace clusterdns::controlplane {

std::vector<std::string> RepeatableAppFlags() { return {"listen", "domain", "ip"}; }

absl::StatusOr<size_t> ParseByteSize(std::string_view flag, std::string_view text) {
  uint64_t unit = 1;
  std::string digits(text);
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K': case 'k': unit = uint64_t{1} << 10; break;
      case 'M': case 'm': unit = uint64_t{1} << 20; break;
      case 'G': case 'g': unit = uint64_t{1} << 30; break;
      default: break;
    }
    if (unit != 1) digits.pop_back();
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(digits, &value) || value > (uint64_t{1} << 40) / unit) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(flag), "=", std::string(text),
                                                   ": want a byte count such as 1048576, 64K, "
                                                   "32M or 1G (at most 1024G)"));
  }
  return static_cast<size_t>(value * unit);
}

namespace {

absl::StatusOr<records::AnswerCacheOptions> CacheOptionsFromFlags() {
  records::AnswerCacheOptions cache;
  const int64_t entries = absl::GetFlag(FLAGS_cache_size);
  if (entries < 0 || entries > 100'000'000) {
    return absl::InvalidArgumentError("--cache-size must be between 0 and 100000000 entries");
  }
  cache.max_entries = static_cast<size_t>(entries);
  CDNS_ASSIGN_OR_RETURN(cache.max_bytes, ParseByteSize("cache-bytes", absl::GetFlag(FLAGS_cache_bytes)));
  const absl::Duration max_ttl = absl::GetFlag(FLAGS_cache_max_ttl);
  const absl::Duration max_negative = absl::GetFlag(FLAGS_cache_max_negative_ttl);
  for (const auto& [name, d] : {std::pair{"--cache-max-ttl", max_ttl},
                                std::pair{"--cache-max-negative-ttl", max_negative}}) {
    if (d < absl::Seconds(1) || d > absl::Hours(24 * 7)) {
      return absl::InvalidArgumentError(absl::StrCat(name, " must be between 1s and 168h"));
    }
  }
  cache.max_ttl = static_cast<uint32_t>(absl::ToInt64Seconds(max_ttl));
  cache.max_negative_ttl = static_cast<uint32_t>(absl::ToInt64Seconds(max_negative));
  return cache;
}

}  // namespace

absl::StatusOr<AppConfig> AppConfigFromFlags(bool dataplane) {
  AppConfig config;
  CDNS_ASSIGN_OR_RETURN(config.zone, ZoneConfigFromFlags());
  config.objects_file = absl::GetFlag(FLAGS_objects_file);
  CDNS_ASSIGN_OR_RETURN(config.kubernetes,
                        ConnectionFromFlags(absl::GetFlag(FLAGS_kube_master_url),
                                            absl::GetFlag(FLAGS_kubeconfig),
                                            InClusterEnvFromProcess()));
  for (const std::string& text : absl::GetFlag(FLAGS_listen)) {
    CDNS_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(text));
    config.listen.push_back(address);
  }
  config.http_addr = absl::GetFlag(FLAGS_http_addr);
  const std::string upstream = absl::GetFlag(FLAGS_upstream);
  UpstreamConfig upstreams;
  if (upstream.empty()) {
    CDNS_ASSIGN_OR_RETURN(upstreams,
                          ReadResolvConfNameservers(absl::GetFlag(FLAGS_resolv_conf)));
    for (const std::string& warning : upstreams.warnings) {
      std::fprintf(stderr, "clusterdns: %s\n", warning.c_str());
    }
  } else {
    CDNS_ASSIGN_OR_RETURN(upstreams, ParseUpstreamFlag(upstream));
  }
  if (!upstreams.none) config.forward.upstreams = upstreams.upstreams;
  config.forward.try_timeout = absl::GetFlag(FLAGS_forward_timeout);
  config.forward.deadline = absl::GetFlag(FLAGS_forward_deadline);
  if (config.forward.try_timeout <= absl::ZeroDuration() ||
      config.forward.deadline < config.forward.try_timeout ||
      config.forward.deadline > absl::Seconds(30)) {
    return absl::InvalidArgumentError(
        "--forward-timeout must be positive and at most --forward-deadline, which is at most 30s");
  }
  const int32_t in_flight = absl::GetFlag(FLAGS_forward_max_in_flight);
  if (in_flight < 1 || in_flight > 65536) {
    return absl::InvalidArgumentError("--forward-max-in-flight must be between 1 and 65536");
  }
  config.forward.max_in_flight = static_cast<size_t>(in_flight);
  CDNS_ASSIGN_OR_RETURN(config.cache, CacheOptionsFromFlags());
  config.coalesce_window = absl::GetFlag(FLAGS_coalesce_window);
  if (config.coalesce_window < absl::ZeroDuration() || config.coalesce_window > absl::Seconds(10)) {
    return absl::InvalidArgumentError("--coalesce-window must be between 0 and 10s");
  }
  config.tcp_idle_timeout = absl::GetFlag(FLAGS_tcp_idle_timeout);
  if (config.tcp_idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--tcp-idle-timeout must be positive");
  }
  config.max_tcp_connections = absl::GetFlag(FLAGS_max_tcp_connections);
  if (config.max_tcp_connections < 1) {
    return absl::InvalidArgumentError("--max-tcp-connections must be at least 1");
  }
  if (config.objects_file.empty() && !config.kubernetes) {
    return absl::InvalidArgumentError(
        "no source of cluster objects: give --objects-file, --kube-master-url or --kubeconfig "
        "(or run in a pod, where KUBERNETES_SERVICE_HOST is set)");
  }
  if (dataplane && config.zone.nameserver_addresses.empty()) {
    return absl::InvalidArgumentError(
        "the DPDK ports answer on the --ip addresses: give --ip=ADDR[,ADDR] (the DNS ClusterIP)");
  }
  if (!dataplane && config.listen.empty()) {
    return absl::InvalidArgumentError(
        "nothing to serve on: give --listen=ADDR:PORT, or EAL options and ports before \"--\"");
  }
  return config;
}

}  // namespace clusterdns::controlplane
