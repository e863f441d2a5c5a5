#!/usr/bin/env bash
# dnsperf comparison (issue 4, "Benchmarks"): clusterdns (DPDK net_af_xdp) against Knot DNS in XDP
# mode, Knot DNS on kernel UDP and NSD on kernel UDP, one after the other in the same run, on the
# same veth testbed, serving the same names (a zone file generated from the same objects file by
# clusterdns-zone), driven by dnsperf from a client namespace with the same query file and
# duration. Not a test: run it by hand (as root) and copy the figures into README.md.
#
#   scripts/bench-dnsperf.sh [--runs N] [--seconds S] [--png PATH] [options]
#
#   --runs N          repetitions of the whole comparison (default 1); with N > 1 the table and the
#                     chart show per-server medians, after one table per run
#   --seconds S       dnsperf duration per server and run (default 10)
#   --warmup S        dnsperf warm-up before each measurement, not counted (default 2)
#   --png PATH        the bar chart (QPS and p99 side by side; default bench-dnsperf.png in the
#                     current directory)
#   --services N      Services in the generated cluster (default 10000)
#   --clients C       dnsperf -c, sockets (default 8)
#   --outstanding Q   dnsperf -q, queries in flight (default 128: on this 2-core VM, Knot and NSD
#                     answered 20-30% more than at 32; at 256 Knot's kernel UDP socket overflows
#                     and latency grows while QPS barely does)
#   --rate QPS        dnsperf -Q: offer this many queries per second instead of as many as the
#                     client can (latency at equal load, below every server's limit)
#   --edns            queries carry EDNS(0) (dnsperf -e); default without, as a pod's resolver
#   --no-p99          no per-query lines (dnsperf -v): no p99, and about 15% more client headroom
#   --servers LIST    comma-separated subset of clusterdns,knot-xdp,knot-udp,nsd (default all)
#   --build-dir DIR   where clusterdns and clusterdns-zone are (default build, relative to the
#                     repository; setup.sh builds build/, another DIR must be configured already
#                     and is built with cmake --build for those two targets)
#   --mix MIX         cluster (default): the comparison above; forward: the forwarding mix of
#                     issue 5 (see "The forwarding mix" below): clusterdns with Knot as its
#                     upstream against Knot answering directly, cluster names against external names
#   --ext-names N     --mix forward: external names in the mix (default 1000)
#   --cache-size N    --mix forward: clusterdns --cache-size (default 20000; passed only when the
#                     binary's --help lists the flag)
#   --control-cpu C   --mix forward: the CPU of clusterdns's control threads (forwarder, slow
#                     paths, HTTP): 0 (default: the worker's CPU, as in the default mix) or 1
#                     (dnsperf's CPU; see "The forwarding mix")
#   --no-build        use the binaries as they are (install nothing, build nothing)
#
# What it does:
#   - installs what is missing (knot, nsd, dnsperf, gnuplot-nox; quiet when present) with a
#     policy-rc.d that keeps Debian's knot/nsd services from starting, disables them under
#     systemd, then runs scripts/setup.sh >/dev/null (dependencies + build);
#   - scripts/bench/gen_cluster.py writes one objects file (a kubectl List: N Services with 1-3
#     named ports, every tenth headless with 5 endpoints) and one query file (A, SRV, AAAA NODATA,
#     search-path and missing-Service NXDOMAIN; see its header), deterministic;
#     clusterdns-zone compiles the objects into the peers' zone file (checked with
#     `knotc zone-check` and `nsd-checkzone`);
#   - one testbed: namespaces cdns-bdp-<pid>-{server,client}, one veth pair, client 198.18.0.2/24,
#     the served address 198.18.0.53; per server, in order:
#       clusterdns  net_af_xdp on the server veth (queue 0, one worker, -l 0), --no-pci --no-huge,
#                   its own --file-prefix; the address is NOT on the veth (clusterdns answers ARP);
#       knot-xdp    knotd with `xdp: listen: <veth>@53` (and kernel UDP on the address, as Knot
#                   recommends); the address is on the veth (the kernel answers ARP);
#       knot-udp    knotd on kernel UDP, one UDP worker;
#       nsd         nsd on kernel UDP, server-count 1;
#     between servers: the server stopped by its PID, XDP programs detached, addresses and the
#     client's neighbour cache flushed;
#   - before measuring: 40 sample queries with kdig, each server's rcode and answer section
#     compared with clusterdns's (a difference is printed as a warning), then the warm-up;
#   - CPUs: every server is confined to CPU 0 (taskset; clusterdns's worker is lcore 0 on CPU 0),
#     dnsperf to CPU 1. This VM has 2 cores, so the client has exactly one: at a server's limit
#     the client may be the bottleneck too (the CPU 1 column says so). A veth frame's receive
#     work (XDP program and AF_XDP copy, or IP/UDP input) runs in the softirq of the CPU that
#     sent it, so each side does the other's: queries are received on CPU 1, answers on CPU 0,
#     for every server alike. (Threaded NAPI pinned per side was tried: with clusterdns polling
#     on CPU 0 the server veth's NAPI thread was at times starved, 700 QPS, so it is not used);
#   - dnsperf -v prints one line per answered query with its latency: p99 is computed from those
#     lines (Debian 12's dnsperf 2.10 has no percentile option, and no histogram), with a
#     histogram in microseconds (awk) after the run. The lines go to a file; dnsperf flushes
#     stdout for each (one write(2) per answer), which costs the client about 15% of its ceiling
#     (measured here: 120k against 142k QPS with clusterdns, where the client is the limit) and
#     nothing where the server is the limit; the same for every server. --no-p99 leaves it out.
#     QPS, lost and mean latency are dnsperf's summary lines;
#   - busy CPU (CPU-seconds per second over the middle of the measurement, from 1 s after dnsperf
#     has started sending to 1 s before the end): knotd and nsd from /proc/<pid>/stat utime+stime of the
#     process and its children; clusterdns from its /metrics (clusterdns_worker_cycles_total
#     state="busy") divided by the TSC frequency (the kernel's calibration from dmesg; the cycles
#     are wall-clock time inside busy polls, including any time the worker was preempted there,
#     and the kernel work of its transmit kicks, which delivers the answers to the client); the
#     "proc CPU" column is /proc for every server (clusterdns polls: always about 1.0). "CPU 0"
#     and "CPU 1" are the whole CPUs' utilization from /proc/stat (kernel and softirq work
#     included, and anything else that runs there): CPU 1 near 1.00 means the client was the limit;
#   - "us/q" is the server's CPU per answer in microseconds: all of CPU 0 (the server's process
#     and the kernel's work there) over QPS, less, for clusterdns, the part of its CPU time that
#     its idle polls took (proc CPU x idle cycles / all cycles). CPU 0 also carries the kernel's
#     receive work for the answers (see CPUs), the same for every server, and not the receive
#     work for the queries. When the client is the limit (CPU 1 at 1.00) QPS says little about a
#     server; this column still does;
#   - prints a table per run (server, QPS, lost, mean ms, p99 ms, busy CPU, proc CPU, CPU 0,
#     CPU 1, us/q) and the medians when --runs > 1; writes the PNG with gnuplot (pngcairo, or png).
#
# The forwarding mix (--mix forward; servers clusterdns and knot-udp, --servers picks among them):
#   - scripts/bench/gen_forward_mix.py writes a zone ext.test with N names host-K.ext.test (A, TTL
#     3600) and the mix file: each name asked as a pod in namespace default (search
#     default.svc.cluster.local svc.cluster.local cluster.local, ndots:5) resolves it, four queries
#     in a row: the three search-path expansions (NXDOMAIN from the cluster zone), then the name;
#   - an upstream knotd (scripts/bench/knot-upstream.conf.in) serves ext.test on 127.0.0.1@5300 in
#     the server namespace (CPU 0, its own runtime directory) for the whole run;
#   - clusterdns (af_xdp) runs with --upstream=127.0.0.1:5300, --listen=<address>:53 (the workers
#     hand names outside the zone to the exception path, whose kernel delivers them to that socket
#     and so to the forwarder) and --cache-size; it is measured on the cluster-name file (the same
#     file as the default mix), then one pass over the mix file (dnsperf -n 1: each external name
#     forwarded once, the answers cached), then the mix file (warm-up and measurement as usual).
#     /metrics' cache and forwarder counters are printed after the pass and after the measurement;
#   - clusterdns's worker is lcore 0 on CPU 0, its control threads on CPU 0 too (taskset -c 0, as
#     in the default mix); --control-cpu 1 moves them to CPU 1 (taskset -c 0,1). When the workers
#     still handed external names to the exception path (before the dataplane's forward path), the
#     af_xdp port stopped receiving for good during the cache pass with everything on CPU 0 (after
#     ~150-200 forwarded queries, when a cluster-name run at full rate came before); with the
#     control threads on CPU 1 it did not. Once the cache is warm those threads have nothing to do;
#   - knot-udp ("Knot directly") serves cluster.local and ext.test itself, on kernel UDP, and is
#     measured on both files;
#   - after the tables: the ratio mix/cluster-name QPS per server and run (the target: clusterdns's
#     warm mix within 10% of its cluster-name rate), external lookups per second (mix QPS / 4), and
#     CoreDNS's published figures as a reference line (from the literature, not measured here).
# Safety (DESIGN.md "Test topology and safety"): namespaces and the veth pair are named after this
# script's PID and removed on exit however it exits; addresses from 198.18.0.0/15 only, and with
# --mix forward the server namespace's own loopback (the upstream knotd; clusterdns always gets
# --upstream explicitly, never the host's resolver); DPDK gets --no-pci --no-huge and a unique
# --file-prefix; every process is stopped by the PID it was started with; knotd and nsd run
# inside the server namespace with their config, pid files and runtime data in a temporary
# directory (deleted on exit).
set -euo pipefail
caller_dir=$PWD
cd "$(dirname "$0")/.."
root=$PWD
bench_dir=$root/scripts/bench

runs=1 seconds=10 warmup=2 png=bench-dnsperf.png services=10000 clients=8 outstanding=128 rate=0
edns=0 p99=1 servers_csv="" build_dir=build no_build=0 mix=cluster ext_names=1000 cache_size=20000
control_cpu=0
usage() { sed -n '/^#   scripts\/bench-dnsperf.sh/,/^#   --no-build/p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --runs|--seconds|--warmup|--png|--services|--clients|--outstanding|--rate|--servers|--build-dir|\
    --mix|--ext-names|--cache-size|--control-cpu)
      (($# >= 2)) || { echo "bench-dnsperf: $1 needs a value" >&2; exit 2; } ;;
  esac
  case "$1" in
    --runs) runs=$2; shift ;;
    --runs=*) runs=${1#*=} ;;
    --seconds) seconds=$2; shift ;;
    --seconds=*) seconds=${1#*=} ;;
    --warmup) warmup=$2; shift ;;
    --warmup=*) warmup=${1#*=} ;;
    --png) png=$2; shift ;;
    --png=*) png=${1#*=} ;;
    --services) services=$2; shift ;;
    --services=*) services=${1#*=} ;;
    --clients) clients=$2; shift ;;
    --clients=*) clients=${1#*=} ;;
    --outstanding) outstanding=$2; shift ;;
    --outstanding=*) outstanding=${1#*=} ;;
    --rate) rate=$2; shift ;;
    --rate=*) rate=${1#*=} ;;
    --edns) edns=1 ;;
    --no-p99) p99=0 ;;
    --servers) servers_csv=$2; shift ;;
    --servers=*) servers_csv=${1#*=} ;;
    --build-dir) build_dir=$2; shift ;;
    --build-dir=*) build_dir=${1#*=} ;;
    --no-build) no_build=1 ;;
    --mix) mix=$2; shift ;;
    --mix=*) mix=${1#*=} ;;
    --ext-names) ext_names=$2; shift ;;
    --ext-names=*) ext_names=${1#*=} ;;
    --cache-size) cache_size=$2; shift ;;
    --cache-size=*) cache_size=${1#*=} ;;
    --control-cpu) control_cpu=$2; shift ;;
    --control-cpu=*) control_cpu=${1#*=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-dnsperf: unknown argument $1 (--help lists them)" >&2; exit 2 ;;
  esac
  shift
done
for v in runs seconds warmup services clients outstanding ext_names cache_size; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-dnsperf: --${v//_/-} must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[[ $rate =~ ^[0-9]+$ ]] || { echo "bench-dnsperf: --rate must be a number of queries per second, not '$rate'" >&2; exit 2; }
[[ $control_cpu = [01] ]] || { echo "bench-dnsperf: --control-cpu must be 0 or 1, not '$control_cpu'" >&2; exit 2; }
case "$mix" in
  cluster) known_servers=clusterdns,knot-xdp,knot-udp,nsd ;;
  forward) known_servers=clusterdns,knot-udp ;;
  *) echo "bench-dnsperf: --mix must be cluster or forward, not '$mix'" >&2; exit 2 ;;
esac
[ -n "$servers_csv" ] || servers_csv=$known_servers
IFS=, read -r -a servers <<<"$servers_csv"
for s in "${servers[@]}"; do
  [[ ,$known_servers, = *,"$s",* ]] || {
    echo "bench-dnsperf: unknown server '$s' in --servers (with --mix $mix: ${known_servers//,/, })" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench-dnsperf: run as root (network namespaces, XDP)" >&2; exit 1; }
[[ $png = /* ]] || png=$caller_dir/$png
[[ $build_dir = /* ]] || build_dir=$root/$build_dir

# --- dependencies and build -------------------------------------------------------------------
install_missing() {
  local missing=() p
  for p in knot nsd dnsperf gnuplot-nox; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "bench-dnsperf: installing ${missing[*]}"
  # Debian starts knot and nsd on the host's port 53 at install; a policy-rc.d that says 101
  # ("action forbidden") keeps invoke-rc.d and deb-systemd-invoke from starting them.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local rc=0
  apt-get update -qq || rc=$?
  ((rc)) || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; trap - EXIT; fi
  return "$rc"
}
if [ "$no_build" = 0 ]; then
  install_missing
  if [ -d /run/systemd/system ]; then
    # The benchmark runs its own knotd/nsd in its namespace; the distribution's services stay off.
    systemctl disable --now knot nsd >/dev/null 2>&1 || true
  fi
  if [ "$build_dir" = "$root/build" ]; then
    scripts/setup.sh >/dev/null
  else
    CDNS_SKIP_BUILD=1 scripts/setup.sh >/dev/null
    cmake --build "$build_dir" --target clusterdns clusterdns-zone >/dev/null
  fi
fi
clusterdns=$build_dir/controlplane/clusterdns
clusterdns_zone=$build_dir/controlplane/clusterdns-zone
for t in "$clusterdns" "$clusterdns_zone"; do
  [ -x "$t" ] || { echo "bench-dnsperf: $t not built" >&2; exit 1; }
done
for c in knotd knotc nsd nsd-checkzone dnsperf kdig ethtool taskset python3 curl; do
  command -v "$c" >/dev/null || { echo "bench-dnsperf: $c not found (install it, or drop --no-build)" >&2; exit 1; }
done
have_gnuplot=1
command -v gnuplot >/dev/null || { have_gnuplot=0; echo "bench-dnsperf: gnuplot not found: no PNG" >&2; }
for daemon in knotd nsd; do
  # Only a notice: the benchmark's own servers live in their namespace, whatever the host runs.
  if pgrep -x "$daemon" >/dev/null; then echo "note: a $daemon runs on the host (not started by this script)"; fi
done
(($(nproc) >= 2)) || { echo "bench-dnsperf: needs 2 CPUs (server on CPU 0, dnsperf on CPU 1)" >&2; exit 1; }

# --- state and cleanup --------------------------------------------------------------------------
id=$$
ns_server="cdns-bdp-$id-server"
ns_client="cdns-bdp-$id-client"
veth_server="bd${id}s"
veth_client="bd${id}c"
prefix="cdns-bdp-$id"
addr=198.18.0.53
work=$(mktemp -d /tmp/cdns-bench-dnsperf-XXXXXX)
server_pid="" server_comm="" server_children="" dnsperf_pid="" upstream_pid=""

# stop_pid PID [PROGRAM CHILD...]: SIGTERM, up to 5 s, then SIGKILL; children (NSD's main and
# server processes) that outlive their parent are stopped by their own PIDs, if the PID still
# names a process of that program (/proc/PID/comm starts with PROGRAM: NSD's say "nsd: main").
stop_pid() {
  local pid=$1 child comm=${2:-}; shift; (($#)) && shift
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  [ -n "$pid" ] && { wait "$pid" 2>/dev/null || true; }
  for child in "$@"; do
    if [ -n "$comm" ] && [[ $(cat "/proc/$child/comm" 2>/dev/null || true) = "$comm"* ]]; then
      kill -TERM "$child" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$child" 2>/dev/null || true
    fi
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$dnsperf_pid"
  # shellcheck disable=SC2086
  stop_pid "$server_pid" "$server_comm" $server_children
  stop_pid "$upstream_pid" knotd
  ip netns del "$ns_client" 2>/dev/null || true
  ip netns del "$ns_server" 2>/dev/null || true  # takes the veth pair with it
  rm -rf "$work"
  rmdir "/var/run/dpdk/$prefix" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "bench-dnsperf: FAILED: $*" >&2
  for f in "$work"/server.log "$work"/run/nsd.log "$work"/upstream.log; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}
in_server() { ip netns exec "$ns_server" "$@"; }
in_client() { ip netns exec "$ns_client" "$@"; }

# --- data ---------------------------------------------------------------------------------------
objects=$work/objects.json queries=$work/queries.txt zone=$work/cluster.local.zone
python3 "$bench_dir/gen_cluster.py" --services "$services" --objects "$objects" --queries "$queries"
# --ip makes ns.dns.cluster.local's A the served address in clusterdns and in the zone file alike;
# a fixed SOA serial keeps the zone file the same from run to run.
"$clusterdns_zone" --objects-file="$objects" --ip="$addr" --soa-serial=1 >"$zone" 2>"$work/zone.err" ||
  fail "clusterdns-zone: $(cat "$work/zone.err")"
[ ! -s "$work/zone.err" ] || { echo "clusterdns-zone said:"; head -5 "$work/zone.err"; }
mkdir -p "$work/run/db"
render() {  # render TEMPLATE XDP_SECTION > config
  # Comment lines (which name the placeholders) are left as they are.
  sed -e "/^#/!s|@RUN@|$work/run|g" -e "/^#/!s|@ZONE@|$zone|g" -e "/^#/!s|@ADDR@|$addr|g" \
      -e "/^#/!s|@XDP@|$2|" "$bench_dir/$1"
}
render knot.conf.in "" >"$work/knot-udp.conf"
if [ "$mix" = forward ]; then
  # The external zone, the mix file, and the upstream's configuration; Knot directly serves the
  # external zone too (the template's zone list is its last section: one more entry after it).
  mix_queries=$work/mix.txt ext_domain=ext.test ext_zone=$work/ext.test.zone
  upstream_listen=127.0.0.1@5300
  python3 "$bench_dir/gen_forward_mix.py" --names "$ext_names" --ext-domain "$ext_domain" \
    --zone "$ext_zone" --queries "$mix_queries"
  printf '  - domain: %s\n    file: "%s"\n' "$ext_domain" "$ext_zone" >>"$work/knot-udp.conf"
  mkdir -p "$work/upstream/db"
  sed -e "/^#/!s|@RUN@|$work/upstream|g" -e "/^#/!s|@LISTEN@|$upstream_listen|g" \
      -e "/^#/!s|@EXT_DOMAIN@|$ext_domain|g" -e "/^#/!s|@EXT_ZONE@|$ext_zone|g" \
      "$bench_dir/knot-upstream.conf.in" >"$work/knot-upstream.conf"
  knotc -c "$work/knot-udp.conf" zone-check "$ext_domain" >"$work/check.log" 2>&1 ||
    fail "knotc zone-check $ext_domain: $(cat "$work/check.log")"
  knotc -c "$work/knot-upstream.conf" conf-check >"$work/check.log" 2>&1 ||
    fail "knot upstream config: $(cat "$work/check.log")"
fi
# The xdp section: one line per key, as the template's @XDP@ line is replaced by a single string.
render knot.conf.in "xdp:\n    listen: $veth_server@53\n    udp: on\n    tcp: off" >"$work/knot-xdp.conf"
render nsd.conf.in "" >"$work/nsd.conf"
knotc -c "$work/knot-udp.conf" zone-check cluster.local >"$work/check.log" 2>&1 ||
  fail "knotc zone-check: $(cat "$work/check.log")"
nsd-checkzone cluster.local "$zone" >"$work/check.log" 2>&1 || fail "nsd-checkzone: $(cat "$work/check.log")"
nsd-checkconf "$work/nsd.conf" >"$work/check.log" 2>&1 || fail "nsd-checkconf: $(cat "$work/check.log")"
echo "data: $services Services -> $(grep -c . "$zone") records in the zone (Knot and NSD load it:" \
  "knotc zone-check, nsd-checkzone ok); $(wc -l <"$queries") queries in the file"
if [ "$mix" = forward ]; then
  echo "forwarding mix: $ext_names names in $ext_domain (TTL 3600), $(wc -l <"$mix_queries") queries in the" \
    "mix file (per name: 3 search-path NXDOMAINs, then the name)"
fi

# TSC frequency for clusterdns's busy cycles: the kernel's calibration.
tsc_mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$tsc_mhz" ] || tsc_mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -1)
tsc_source=dmesg
if [ -z "$tsc_mhz" ]; then tsc_mhz=0; tsc_source="busy+idle cycles over wall time"; fi
clk_tck=$(getconf CLK_TCK)

# --- testbed ------------------------------------------------------------------------------------
ip netns add "$ns_server"
ip netns add "$ns_client"
ip link add "$veth_server" type veth peer name "$veth_client"
ip link set "$veth_server" netns "$ns_server"
ip link set "$veth_client" netns "$ns_client"
# IPv4 only; strict reverse-path filtering as in the e2e testbed (clusterdns's exception TAP also
# holds the served address: the kernel must not answer what arrives on the veth).
in_server sysctl -qw "net.ipv6.conf.$veth_server.disable_ipv6=1"
in_server sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.$veth_server.rp_filter=1"
ip -n "$ns_server" link set lo up
ip -n "$ns_server" link set "$veth_server" up
ip -n "$ns_client" link set lo up
ip -n "$ns_client" addr add 198.18.0.2/24 dev "$veth_client"
ip -n "$ns_client" link set "$veth_client" up
# Real UDP checksums from the client: AF_XDP sees frames before any NIC would fill them in.
in_client ethtool -K "$veth_client" tx off >/dev/null
# knotc checks that the XDP interface exists: in the server namespace only.
in_server knotc -c "$work/knot-xdp.conf" conf-check >"$work/check.log" 2>&1 ||
  fail "knot xdp config: $(cat "$work/check.log")"

if [ "$mix" = forward ]; then
  # The upstream, for the whole run: kernel UDP on the server namespace's loopback, where
  # clusterdns's forwarder (kernel sockets in that namespace) reaches it. CPU 0, as the servers:
  # after the cache pass it has nothing to do.
  ip netns exec "$ns_server" taskset -c 0 knotd -c "$work/knot-upstream.conf" >/dev/null 2>"$work/upstream.log" &
  upstream_pid=$!
  probe_out=""
  for _ in $(seq 100); do
    kill -0 "$upstream_pid" 2>/dev/null || fail "the upstream knotd exited at startup"
    probe_out=$(in_server kdig @"${upstream_listen%@*}" -p "${upstream_listen#*@}" +timeout=1 +retry=0 \
      "host-0.$ext_domain" A 2>&1 || true)
    [[ $probe_out = *"status: NOERROR"* ]] && break
    sleep 0.1
  done
  [[ $probe_out = *"status: NOERROR"* ]] || fail "the upstream knotd does not answer on $upstream_listen: $probe_out"
  [[ $(cat "/proc/$upstream_pid/comm") = knotd ]] || fail "PID $upstream_pid is not the upstream knotd"
  # clusterdns's cache flags, where this binary has them (issue 5's fast-path cache).
  cache_flags=()
  if "$clusterdns" --help 2>&1 | grep -Eq -- '--cache[-_]size'; then
    cache_flags=(--cache-size="$cache_size")
    cache_note="--cache-size=$cache_size"
  else
    cache_note="no --cache-size in this clusterdns: every external query is forwarded"
  fi
  echo "upstream: knotd $(knotd -V | awk '{print $NF}') on $upstream_listen in the server namespace" \
    "(ext.test); clusterdns: --upstream=${upstream_listen/@/:} --listen=$addr:53, $cache_note;" \
    "its worker on CPU 0, its control threads on CPU $control_cpu"
fi

# --- servers ------------------------------------------------------------------------------------
label() {
  case "$1" in
    clusterdns) echo "clusterdns (af_xdp)" ;;
    knot-udp) if [ "$mix" = forward ]; then echo "knot $(knotd -V | awk '{print $NF}') (udp, direct)";
              else echo "knot $(knotd -V | awk '{print $NF}') (udp)"; fi ;;
    knot-xdp) echo "knot $(knotd -V | awk '{print $NF}') (xdp)" ;;
    nsd) echo "nsd $(nsd -v 2>&1 | sed -n 's/^NSD version \([0-9.]*\).*/\1/p') (udp)" ;;
  esac
}

reset_testbed() {
  ip -n "$ns_server" link set dev "$veth_server" xdp off 2>/dev/null || true
  # clusterdns removes its source rule (exception path) when it stops; in case it was killed:
  while ip -n "$ns_server" rule del priority 5353 2>/dev/null; do :; done
  ip -n "$ns_server" addr flush dev "$veth_server"
  ip -n "$ns_client" neigh flush dev "$veth_client"
  rm -rf "$work/run" && mkdir -p "$work/run/db"
}

descendants() {  # descendants PID: child PIDs, recursively
  local c
  # shellcheck disable=SC2013  # the file holds PIDs separated by spaces
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; descendants "$c"; done
}

start_server() {
  local server=$1 how=$1
  reset_testbed
  : >"$work/server.log"
  [[ $mix = forward && $server = clusterdns ]] && how="clusterdns-forward"
  case "$how" in
    clusterdns)
      ip netns exec "$ns_server" taskset -c 0 "$clusterdns" --no-pci --no-huge -m 512 --no-shconf --no-telemetry \
        "--file-prefix=$prefix" -l 0 "--vdev=net_af_xdp0,iface=$veth_server,start_queue=0,queue_count=1" -- \
        --ip="$addr" --objects-file="$objects" --upstream=none --http-addr=127.0.0.1:8080 \
        >"$work/server.out" 2>"$work/server.log" &
      server_pid=$! ;;
    clusterdns-forward)
      local cpus=0
      [ "$control_cpu" = 1 ] && cpus=0,1
      ip netns exec "$ns_server" taskset -c "$cpus" "$clusterdns" --no-pci --no-huge -m 512 --no-shconf --no-telemetry \
        "--file-prefix=$prefix" -l 0 "--vdev=net_af_xdp0,iface=$veth_server,start_queue=0,queue_count=1" -- \
        --ip="$addr" --objects-file="$objects" --upstream="${upstream_listen/@/:}" --listen="$addr:53" \
        "${cache_flags[@]}" --http-addr=127.0.0.1:8080 \
        >"$work/server.out" 2>"$work/server.log" &
      server_pid=$! ;;
    knot-xdp|knot-udp)
      ip -n "$ns_server" addr add "$addr/24" dev "$veth_server"
      ip netns exec "$ns_server" taskset -c 0 knotd -c "$work/$server.conf" >"$work/server.out" 2>"$work/server.log" &
      server_pid=$! ;;
    nsd)
      ip -n "$ns_server" addr add "$addr/24" dev "$veth_server"
      ip netns exec "$ns_server" taskset -c 0 nsd -d -c "$work/nsd.conf" >"$work/server.out" 2>"$work/server.log" &
      server_pid=$! ;;
  esac
  # Serving = an answer to a known name from the client namespace. (Outputs are captured before
  # they are matched: under pipefail, grep -q can leave kdig to die of SIGPIPE.)
  local probe out=""
  probe=$(sed -n '/ A$/{s/ A$//p;q}' "$queries")
  for _ in $(seq 150); do
    kill -0 "$server_pid" 2>/dev/null || fail "$server exited at startup"
    out=$(in_client kdig "@$addr" +timeout=1 +retry=0 "$probe" A 2>&1 || true)
    [[ $out = *"status: "* ]] && break
    sleep 0.2
  done
  [[ $out = *"status: "* ]] || fail "$server does not answer on $addr: $out"
  # The PID we stop and measure must be the server itself (ip netns exec and taskset exec it).
  # NSD's first process turns into its zone-transfer process ("nsd: xfrd") and forks the others.
  local comm
  comm=$(cat "/proc/$server_pid/comm")
  case "$server" in
    clusterdns) server_comm=${clusterdns##*/} ;;
    knot-*) server_comm=knotd ;;
    nsd) server_comm=nsd ;;
  esac
  server_comm=${server_comm:0:15}  # comm is at most 15 bytes
  [[ $comm = "$server_comm"* ]] || fail "PID $server_pid is '$comm', not $server_comm"
  server_children=$(descendants "$server_pid" | tr '\n' ' ')
  case "$server" in
    clusterdns) grep -E "^clusterdns: (port|dataplane)" "$work/server.log" | sed 's/^/    /' || true ;;
    knot-xdp)
      out=$(ip -n "$ns_server" link show dev "$veth_server")
      [[ $out = *xdp* ]] || fail "knotd runs but no XDP program is attached to $veth_server"
      grep -i "xdp" "$work/server.log" | sed 's/^/    /' | head -3 || true ;;
  esac
}

stop_server() {
  # shellcheck disable=SC2086
  stop_pid "$server_pid" "$server_comm" $server_children
  server_pid="" server_comm="" server_children=""
}

# signature QUERY_FILE > file: rcode and sorted answer section of the first 40 queries.
signature() {
  head -40 "$1" | while read -r name type; do
    # (A query without an answer shows as a missing rcode in the comparison, not as a failure.)
    { in_client kdig "@$addr" +timeout=1 +retry=2 "$name" "$type" 2>&1 || true; } |
      awk -v q="$name $type" '
        /status:/ { s = $0; sub(/.*status: /, "", s); sub(/;.*/, "", s); print q, "rcode", s }
        /^;; ANSWER SECTION:/ { a = 1; next }
        /^;;/ || /^$/ { a = 0 }
        a { $2 = ""; print q, "answer", $0 }' | sort
  done
}

cpu_ticks() {  # cpu_ticks PID...: utime+stime of the processes (all threads)
  local p total=0 stat rest
  for p in "$@"; do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}
# worker_metrics: "busy_cycles idle_cycles rx_packets" summed over clusterdns's workers, from
# /metrics; nothing if it fails.
worker_metrics() {
  in_server curl -sf --max-time 5 http://127.0.0.1:8080/metrics |
    awk '/^clusterdns_worker_cycles_total\{/ && /state="busy"/ { b += $NF; n++ }
         /^clusterdns_worker_cycles_total\{/ && /state="idle"/ { i += $NF }
         /^clusterdns_worker_rx_packets_total\{/ { r += $NF }
         END { if (n) printf "%.0f %.0f %.0f\n", b, i, r }'
}
# udp_in: UDP datagrams the server namespace's kernel received; udp_out: the client's sent.
# shellcheck disable=SC2016  # awk's $2, $5
udp_in() { in_server awk '/^Udp:/ { if (h) { print $2; exit } h = 1 }' /proc/net/snmp; }
# shellcheck disable=SC2016
udp_out() { in_client awk '/^Udp:/ { if (h) { print $5; exit } h = 1 }' /proc/net/snmp; }
# cpu_stat N: "busy total" jiffies of CPU N from /proc/stat (busy: user nice system irq softirq
# steal; total adds idle and iowait). The whole CPU, whatever runs on it, kernel work included.
cpu_stat() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
now() { date +%s.%N; }

dnsperf_args() {  # dnsperf_args QUERY_FILE
  local a=(-s "$addr" -d "$1" -c "$clients" -q "$outstanding" -t 2)
  ((rate > 0)) && a+=(-Q "$rate")
  [ "$edns" = 1 ] && a+=(-e)
  echo "${a[@]}"
}

# measure SERVER RUN [QUERY_FILE KEY LABEL]: warm-up, then the measured dnsperf run; appends a line
# to results.tsv (KEY names the row for the medians: the server, or server/file in --mix forward):
# run key label qps lost mean_ms p99_ms busy proc cpu0 cpu1 us_per_query udp_datagrams rcodes
measure() {
  local server=$1 run=$2 out=$work/dnsperf.out verbose=-v
  local file=${3:-$queries} key=${4:-$1} row_label=${5:-$(label "$1")}
  [ "$p99" = 1 ] || verbose=""
  # shellcheck disable=SC2046
  in_client taskset -c 1 dnsperf $(dnsperf_args "$file") -l "$warmup" >/dev/null 2>&1 || true
  local pids
  read -r -a pids <<<"$server_pid $server_children"
  # shellcheck disable=SC2046
  ip netns exec "$ns_client" taskset -c 1 dnsperf $(dnsperf_args "$file") -l "$seconds" $verbose >"$out" 2>&1 &
  dnsperf_pid=$!
  local t0 t1 c0 c1 b0="" b1="" i0="" i1="" r0="" r1="" u0 u1 s0 s1 k0 k1 window launched
  # The window starts 1 s after dnsperf has sent its first thousand queries (the client
  # namespace's UDP counters; dnsperf's own status lines stay in its stdio buffer without -v).
  local sent0
  sent0=$(udp_out)
  launched=$(now)
  for _ in $(seq 200); do
    (($(udp_out) - sent0 >= 1000)) && break
    kill -0 "$dnsperf_pid" 2>/dev/null || break
    sleep 0.05
  done
  awk -v a="$launched" -v b="$(now)" 'BEGIN { if (b - a > 0.5) printf "    (dnsperf took %.1f s to start)\n", b - a }'
  if ((seconds >= 3)); then sleep 1; fi
  t0=$(now); c0=$(cpu_ticks "${pids[@]}"); u0=$(udp_in); s0=$(cpu_stat 0); k0=$(cpu_stat 1)
  if [ "$server" = clusterdns ]; then read -r b0 i0 r0 < <(worker_metrics) || true; fi
  if ((seconds >= 3)); then sleep $((seconds - 2)); else wait "$dnsperf_pid" || true; fi
  t1=$(now); c1=$(cpu_ticks "${pids[@]}"); u1=$(udp_in); s1=$(cpu_stat 0); k1=$(cpu_stat 1)
  if [ "$server" = clusterdns ]; then read -r b1 i1 r1 < <(worker_metrics) || true; fi
  local rc=0
  wait "$dnsperf_pid" || rc=$?
  dnsperf_pid=""
  [ "$rc" = 0 ] || fail "dnsperf exit $rc: $(grep -v '^>' "$out" | tail -5)"
  window=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
  local proc_cpu busy_cpu cpu0 cpu1
  proc_cpu=$(awk -v d=$((c1 - c0)) -v hz="$clk_tck" -v w="$window" 'BEGIN { printf "%.2f", d / hz / w }')
  utilization() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.2f", (y[2] > x[2]) ? (y[1] - x[1]) / (y[2] - x[2]) : 0 }'; }
  cpu0=$(utilization "$s0" "$s1")
  cpu1=$(utilization "$k0" "$k1")
  if [ "$server" = clusterdns ]; then
    if [[ -z $b0 || -z $b1 || -z $i0 || -z $i1 ]]; then
      echo "    (no worker cycles from /metrics: busy CPU unknown)"
      busy_cpu=nan
    else
      local mhz=$tsc_mhz
      # Without a kernel calibration: the worker is always in a poll, busy or idle.
      [ "$mhz" = 0 ] && mhz=$(awk -v b=$((b1 - b0 + i1 - i0)) -v w="$window" 'BEGIN { printf "%.3f", b / w / 1e6 }')
      busy_cpu=$(awk -v b=$((b1 - b0)) -v mhz="$mhz" -v w="$window" 'BEGIN { printf "%.2f", b / (mhz * 1e6) / w }')
      # The workers' received packets in the window, against dnsperf's rate: the counters and
      # the answers must be the same traffic.
      local rx_rate
      rx_rate=$(awk -v r=$((r1 - r0)) -v w="$window" 'BEGIN { printf "%.0f", r / w }')
      echo "    workers received $rx_rate packets/s in the window (/metrics)"
      # (Seen with the control threads on the worker's CPU: /metrics answered late, both reads
      # showing the same counters.) The row keeps dnsperf's figures, not busy CPU and us/q.
      if awk -v r="$rx_rate" -v q="$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$out")" \
        'BEGIN { exit !(r < q / 2) }'; then
        echo "WARNING: the measuring window missed most of the traffic: busy CPU and us/q of this row left out (nan)"
        busy_cpu=nan
      fi
    fi
  else
    busy_cpu=$proc_cpu
  fi
  # Summary lines, and p99 from the per-query lines ("> NOERROR name type 0.000123").
  local qps lost mean p99_ms rcodes
  qps=$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$out")
  lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$out")
  mean=$(sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p' "$out")
  rcodes=$(sed -n 's/^ *Response codes: *//p' "$out")
  [[ -n $qps && -n $lost && -n $mean ]] || fail "dnsperf printed no summary: $(tail -5 "$out")"
  p99_ms=$(awk '
    /^> / && $NF ~ /^[0-9]+\.[0-9]+$/ { h[int($NF * 1e6 + 0.5)]++; n++ }
    END {
      if (n == 0) { print "nan"; exit }
      # Walk the microsecond buckets upward until 99% of the answers are counted.
      want = n * 0.99; c = 0
      for (us = 0; us <= 60000000; us++) if (us in h) { c += h[us]; if (c >= want) break }
      printf "%.3f\n", us / 1000
    }' "$out")
  # Server CPU per answer: all of CPU 0 (the server's process and the kernel's work there:
  # sockets, XDP, NAPI), less, for clusterdns, the share of its own CPU time that went to idle
  # polls (its CPU time times idle cycles over all cycles).
  local server_cpu=$cpu0 us_per_query
  if [ "$server" = clusterdns ] && [ "$busy_cpu" != nan ]; then
    server_cpu=$(awk -v c="$cpu0" -v p="$proc_cpu" -v b=$((b1 - b0)) -v i=$((i1 - i0)) \
      'BEGIN { w = (b + i > 0) ? p * i / (b + i) : 0; printf "%.4f", (c > w) ? c - w : 0 }')
  fi
  us_per_query=$(awk -v c="$server_cpu" -v q="$qps" 'BEGIN { if (c ~ /^[0-9.]+$/ && q > 0) printf "%.2f", c * 1e6 / q; else print "nan" }')
  # clusterdns polls: without its idle share, CPU 0 says nothing about its cost per answer.
  if [ "$server" = clusterdns ] && [ "$busy_cpu" = nan ]; then us_per_query=nan; fi
  printf '%s\t%s\t%s\t%.0f\t%s\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$key" "$row_label" \
    "$qps" "$lost" "$(awk -v m="$mean" 'BEGIN { print m * 1000 }')" "$p99_ms" "$busy_cpu" "$proc_cpu" \
    "$cpu0" "$cpu1" "$us_per_query" "$((u1 - u0))" "$rcodes" >>"$work/results.tsv"
  rm -f "$out"
}

print_table() {  # print_table FILE: rows "label qps lost mean p99 busy proc cpu0 cpu1 us/q"
  # The first column is as wide as the longest label, at least 20.
  local width
  width=$(awk -F'\t' 'BEGIN { w = 20 } length($1) > w { w = length($1) } END { print w }' "$1")
  awk -F'\t' -v w="$width" '
    BEGIN { printf "%-" w "s %8s %6s %8s %8s %9s %9s %6s %6s %6s\n", "server", "QPS", "lost", "mean ms", "p99 ms",
                   "busy CPU", "proc CPU", "CPU 0", "CPU 1", "us/q" }
    function f(v, fmt) { return v ~ /^[0-9.]+$/ ? sprintf(fmt, v) : v }
    { printf "%-" w "s %8s %6s %8s %8s %9s %9s %6s %6s %6s\n", $1, f($2, "%.0f"), f($3, "%.0f"), f($4, "%.3f"),
             f($5, "%.3f"), f($6, "%.2f"), f($7, "%.2f"), f($8, "%.2f"), f($9, "%.2f"), f($10, "%.2f") }' "$1"
}

cpu_model=$(lscpu | sed -n 's/^Model name: *//p')
echo "machine: $cpu_model, $(nproc) CPUs; $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; other work on the machine skews every figure)"
echo "servers on CPU 0 (taskset; clusterdns: one worker, lcore 0), dnsperf on CPU 1: the client has"
echo "one core, so at saturation it can be a bottleneck as much as the server"
echo "a veth frame's receive work runs in the softirq of the CPU that sent it: each side does"
echo "the other's (the server's XDP program or IP/UDP input on CPU 1, the client's on CPU 0)"
echo "dnsperf: $(dnsperf_args "$queries" | sed "s|$queries|queries.txt|") -l $seconds after ${warmup} s of warm-up; TSC $tsc_mhz MHz ($tsc_source)"

: >"$work/results.tsv"
# compare_signature SERVER FILE_TAG QUERY_FILE: the first 40 answers against the reference server's
# (clusterdns when it is in the list, else the first server).
compare_signature() {
  local server=$1 tag=$2 ref=${servers[0]}
  signature "$3" >"$work/sig-$server$tag.txt"
  [[ " ${servers[*]} " = *" clusterdns "* ]] && ref=clusterdns
  [ "$server" != "$ref" ] || return 0
  if cmp -s "$work/sig-$ref$tag.txt" "$work/sig-$server$tag.txt"; then
    echo "    same rcodes and answers as $ref on the first 40 queries of the ${4:-file}"
  else
    echo "WARNING: $server answers differently from $ref on the first 40 queries of the ${4:-file}:"
    diff "$work/sig-$ref$tag.txt" "$work/sig-$server$tag.txt" | head -10 || true
  fi
}
print_last_row() {
  tail -1 "$work/results.tsv" | awk -F'\t' -v what="${1:-}" '{
    printf "    %s%s QPS, %s lost, mean %.3f ms, p99 %s ms, busy CPU %s, proc CPU %s, CPU 0 %s, CPU 1 %s, %s CPU us/query\n", what, $4, $5, $6, $7, $8, $9, $10, $11, $12
    printf "    rcodes: %s; datagrams through the kernel UDP stack: %s\n", $14, $13 }'
}
# forward_counters: "cache_hits_dataplane cache_hits_all forward_requests upstream_queries
# slow_path worker_rx_packets" from clusterdns's /metrics (slow_path: packets the workers handed to
# the exception path or to the forward path; a counter it does not have reads 0); nothing if
# /metrics does not answer.
forward_counters() {
  in_server curl -sf --max-time 5 http://127.0.0.1:8080/metrics |
    awk '/^clusterdns_cache_hits_total[{ ]/ { a += $NF; if (/path="dataplane"/) d += $NF }
         /^clusterdns_forward_requests_total[{ ]/ { f += $NF }
         /^clusterdns_upstream_queries_total[{ ]/ { u += $NF }
         /^clusterdns_worker_exceptions_total[{ ]/ { x += $NF }
         /^clusterdns_forward_path_packets_total[{ ]/ && /stage="handed_over"/ { x += $NF }
         /^clusterdns_worker_rx_packets_total[{ ]/ { r += $NF }
         END { if (NR) printf "%.0f %.0f %.0f %.0f %.0f %.0f\n", d, a, f, u, x, r }'
}
# counters_delta WHAT BEFORE AFTER: counter differences; the mix's external queries are a quarter
# of what the workers received (every fourth query of the file, give or take ARP).
counters_delta() {
  # (pct first: a ">" among printf's arguments is awk's output redirection, to a file named 0)
  awk -v what="$1" -v a="$2" -v b="$3" 'BEGIN { split(a, x, " "); split(b, y, " "); e = (y[6] - x[6]) / 4
    pct = 0; if (e > 0) pct = 100 * (y[1] - x[1]) / e
    printf "    /metrics %s: cache hits (dataplane) +%d (all paths +%d) of ~%d external queries (%.1f%%),\n",
      what, y[1] - x[1], y[2] - x[2], e, pct
    printf "      forward requests +%d, upstream queries +%d, packets the workers handed to a slow path +%d\n",
      y[3] - x[3], y[4] - x[4], y[5] - x[5] }'
}
# cache_pass: one pass over the mix file (each external name asked once), not measured.
cache_pass() {
  local out=$work/cache-pass.out rc=0 t0 t1
  t0=$(now)
  # shellcheck disable=SC2046
  in_client taskset -c 1 dnsperf $(dnsperf_args "$mix_queries") -n 1 >"$out" 2>&1 || rc=$?
  t1=$(now)
  [ "$rc" = 0 ] || fail "dnsperf (cache pass) exit $rc: $(tail -5 "$out")"
  awk -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" '
    /Queries completed:/ { c = $3 } /Queries lost:/ { l = $3 } /Response codes:/ { sub(/.*codes: */, ""); r = $0 }
    END { printf "    cache pass: one pass over the mix file in %s s: %s answered, %s lost (%s)\n", t, c, l, r }' "$out"
}

for run in $(seq "$runs"); do
  for server in "${servers[@]}"; do
    echo "--- run $run/$runs: $(label "$server")"
    start_server "$server"
    compare_signature "$server" "" "$queries"
    if [ "$mix" = forward ]; then
      compare_signature "$server" -mix "$mix_queries" "mix file"
      measure "$server" "$run" "$queries" "$server/cluster" "$(label "$server") cluster"
      print_last_row "cluster names: "
      if [ "$server" = clusterdns ]; then
        c0=$(forward_counters) || c0=""
        cache_pass
        c1=$(forward_counters) || c1=""
      fi
      measure "$server" "$run" "$mix_queries" "$server/mix" "$(label "$server") mix"
      print_last_row "mix: "
      if [ "$server" = clusterdns ]; then
        c2=$(forward_counters) || c2=""
        if [[ -n $c0 && -n $c1 && -n $c2 ]]; then
          counters_delta "over the cache pass" "$c0" "$c1"
          counters_delta "over the mix's warm-up and measurement" "$c1" "$c2"
          echo "    /metrics totals since start: $(awk '{ printf "cache hits (dataplane) %d, forward requests %d", $1, $3 }' <<<"$c2")"
        else
          echo "    (no counters from /metrics)"
        fi
      fi
    else
      measure "$server" "$run"
      print_last_row
    fi
    stop_server
  done
  echo
  echo "run $run of $runs:"
  awk -F'\t' -v r="$run" 'BEGIN { OFS = "\t" } $1 == r { print $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' \
    "$work/results.tsv" >"$work/table.tsv"
  print_table "$work/table.tsv"
  echo
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per server (the middle value, or the mean of the two middle values).
median() {
  { grep -E '^[0-9.]+$' || true; } | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
: >"$work/final.tsv"
# The rows' keys in order: the servers, or server/cluster and server/mix in --mix forward.
keys=()
for server in "${servers[@]}"; do
  if [ "$mix" = forward ]; then keys+=("$server/cluster" "$server/mix"); else keys+=("$server"); fi
done
for key in "${keys[@]}"; do
  row=$(awk -F'\t' -v k="$key" '$2 == k { print $3; exit }' "$work/results.tsv")
  for col in 4 5 6 7 8 9 10 11 12; do
    row+=$'\t'$(awk -F'\t' -v s="$key" -v c="$col" '$2 == s { print $c }' "$work/results.tsv" | median)
  done
  echo "$row" >>"$work/final.tsv"
done
if ((runs > 1)); then
  echo "medians of $runs runs:"
  print_table "$work/final.tsv"
  for key in "${keys[@]}"; do
    printf '  %-10s QPS per run: %s\n' "$key" \
      "$(awk -F'\t' -v s="$key" '$2 == s { printf "%s ", $4 }' "$work/results.tsv")"
  done
fi
if [ "$mix" = forward ]; then
  echo
  echo "forwarding mix: mix QPS / cluster-name QPS (target for clusterdns: at least 0.90, the warm mix"
  echo "within 10% of the cluster-name rate of the same run); a pod's lookup of an external name is"
  echo "4 queries of the mix (3 search-path NXDOMAINs, then the name), so lookups/s = mix QPS / 4:"
  for server in "${servers[@]}"; do
    # Per run, the two rows of the same run; then the median of the ratios.
    awk -F'\t' -v s="$server" '
      $2 == s "/cluster" { c[$1] = $4; cp[$1] = $7 } $2 == s "/mix" { m[$1] = $4; mp[$1] = $7 }
      END {
        line = ""; n = 0
        for (r = 1; r in c || r in m; r++) if ((r in c) && (r in m) && c[r] > 0) {
          v[++n] = m[r] / c[r]; line = line sprintf(" %.3f", m[r] / c[r])
          lk[n] = m[r] / 4
        }
        if (n == 0) { printf "  %-10s no pair of rows\n", s; exit }
        # insertion sort for the medians
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        for (i = 2; i <= n; i++) for (j = i; j > 1 && lk[j - 1] > lk[j]; j--) { t = lk[j]; lk[j] = lk[j - 1]; lk[j - 1] = t }
        med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        medl = (n % 2) ? lk[(n + 1) / 2] : (lk[n / 2] + lk[n / 2 + 1]) / 2
        printf "  %-10s ratio per run:%s; median %.3f%s; external lookups/s (median) %.0f\n", s, line, med,
          (s == "clusterdns") ? ((med >= 0.9) ? " (target met)" : " (target NOT met)") : "", medl
      }' "$work/results.tsv"
  done
  echo "  reference, from the literature, NOT measured here: CoreDNS (default settings, one instance on a"
  echo "  2-vCPU GCE n1-standard-2, both vCPUs pegged at ~1.9 CPUs; coredns/deployment,"
  echo "  kubernetes/Scaling_CoreDNS.md): 6,733 external lookups/s through a 5-name search path (12 ms"
  echo "  mean), i.e. 33,667 queries/s at the server (2.4 ms); internal names 33,669 QPS (2.6 ms). Per busy"
  echo "  CPU: ~3.5k external lookups/s, ~17.7k queries/s."
fi

if [ "$have_gnuplot" = 1 ]; then
  terminal=png
  terminals=$(gnuplot -e 'set terminal' 2>&1 || true)
  [[ $terminals = *pngcairo* ]] && terminal=pngcairo
  title="dnsperf, $services Services, ${seconds} s per server"
  [ "$mix" = forward ] && title+=", forwarding mix ($ext_names external names, warm cache)"
  ((rate > 0)) && title+=", offered $rate QPS"
  ((runs > 1)) && title+=", median of $runs runs"
  title+="\\n$cpu_model, $(nproc) CPUs: server on CPU 0, dnsperf on CPU 1"
  awk -F'\t' '{ printf "\"%s\"\t%s\t%s\n", $1, $2, $5 }' "$work/final.tsv" >"$work/chart.dat"
  gnuplot -e "data='$work/chart.dat'; out='$png'; term='$terminal'; heading=\"$title\"" \
    "$bench_dir/dnsperf_chart.gp" 2>"$work/gnuplot.log" || fail "gnuplot: $(cat "$work/gnuplot.log")"
  echo "chart: $png"
fi
