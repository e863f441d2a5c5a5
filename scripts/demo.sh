#!/usr/bin/env bash
# The README's first command: clusterdns on its built-in demo cluster, replaying the classic
# kube-dns walkthrough.
#
#   scripts/demo.sh            (as root on a Debian 12 machine: installs what is missing, builds)
#
# What it does, step by step, printing each as it happens:
#   - an "appliance" network namespace where clusterdns owns one end of a veth pair through DPDK
#     (net_af_packet), answering as the DNS ClusterIP 198.18.0.53 (and 2001:2::53) from the
#     walkthrough's objects (kube-system/kube-dns 10.254.0.3, default/redis-master 10.254.7.160,
#     default/kubernetes 10.254.0.1);
#   - a "pod" namespace on the other end with the resolv.conf kubelet writes for a pod in
#     "default": nameserver 198.18.0.53, search default.svc.cluster.local svc.cluster.local
#     cluster.local, options ndots:5;
#   - in the pod: nslookup redis-master (→ 10.254.7.160), nslookup kube-dns.kube-system
#     (→ 10.254.0.3), nslookup kube-dns (fails, as it did with kube-dns: it is in kube-system), an
#     SRV lookup, a lookup over TCP (through the exception TAP), then dnsperf for ten seconds;
#   - everything is removed at exit, however the script ends.
# Addresses are from the benchmarking ranges 198.18.0.0/15 and 2001:2::/48 (the walkthrough's
# 10.254.x.y are only data in the answers). DPDK runs with --no-pci --no-huge and its own
# --file-prefix: the machine's NICs are never touched.
#
# Environment: CDNS_DEMO_SKIP_SETUP=1 (use the existing build), CDNS_DEMO_DNSPERF_SECONDS=10,
# CDNS_DEMO_CLUSTERDNS=path of the binary (ctest runs the demo as the test e2e.demo).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (it creates network namespaces and a veth pair)" >&2
  exit 1
fi
if [ "${CDNS_DEMO_SKIP_SETUP:-0}" != 1 ]; then
  echo "==> installing what is missing and building (scripts/setup.sh)"
  scripts/setup.sh
fi
clusterdns=${CDNS_DEMO_CLUSTERDNS:-$root/build/controlplane/clusterdns}
objects=$root/tests/testdata/objects/kube_dns_walkthrough.json
seconds=${CDNS_DEMO_DNSPERF_SECONDS:-10}

id=$$
ns_app="cdns-demo-$id-appliance"
ns_pod="cdns-demo-$id-pod"
veth_app="cdemo${id}a"
veth_pod="cdemo${id}p"
prefix="cdns-demo-$id"
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  [ -n "$pid" ] && { wait "$pid" 2>/dev/null || true; }
  ip netns del "$ns_pod" 2>/dev/null || true
  ip netns del "$ns_app" 2>/dev/null || true
  rm -rf "/etc/netns/$ns_pod" "$work"
  rmdir "/var/run/dpdk/$prefix" 2>/dev/null || true
}
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "demo: FAILED: $*" >&2
  echo "--- clusterdns log" >&2
  tail -20 "$work/clusterdns.log" >&2 || true
  exit 1
}
in_pod() { ip netns exec "$ns_pod" "$@"; }
# nslookup notes that the server offers no recursion (right for --upstream=none); shown once.
show() { grep -v "recursion not available" | sed 's/^/    /'; }

step "network: namespace $ns_app (the appliance) <-veth-> namespace $ns_pod (a pod)"
ip netns add "$ns_app"
ip netns add "$ns_pod"
ip link add "$veth_app" type veth peer name "$veth_pod"
ip link set "$veth_app" netns "$ns_app"
ip link set "$veth_pod" netns "$ns_pod"
ip netns exec "$ns_app" sysctl -qw "net.ipv6.conf.$veth_app.disable_ipv6=1"
# af_packet leaves frames to the kernel too, and the served addresses also live on clusterdns's
# exception TAP (for TCP): strict reverse-path filtering keeps the kernel from answering what
# arrives on the veth itself.
ip netns exec "$ns_app" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.$veth_app.rp_filter=1"
ip -n "$ns_app" link set lo up
ip -n "$ns_app" link set "$veth_app" up
ip -n "$ns_pod" link set lo up
ip -n "$ns_pod" addr add 198.18.0.2/24 dev "$veth_pod"
ip -n "$ns_pod" addr add 2001:2::2/64 dev "$veth_pod" nodad
ip -n "$ns_pod" link set "$veth_pod" up
# The pod's UDP checksums must be real: af_packet sees frames before any NIC would fill them in.
ip netns exec "$ns_pod" ethtool -K "$veth_pod" tx off >/dev/null
# ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf in the pod.
mkdir -p "/etc/netns/$ns_pod"
cat >"/etc/netns/$ns_pod/resolv.conf" <<'EOF'
nameserver 198.18.0.53
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5
EOF
echo "pod resolv.conf:"
sed 's/^/    /' "/etc/netns/$ns_pod/resolv.conf"

step "clusterdns: DPDK net_af_packet on $veth_app, serving 198.18.0.53 and 2001:2::53"
ip netns exec "$ns_app" "$clusterdns" --no-pci --no-huge -m 256 --no-shconf --no-telemetry \
  "--file-prefix=$prefix" -l 0 "--vdev=net_af_packet0,iface=$veth_app" -- \
  --ip=198.18.0.53,2001:2::53 --objects-file="$objects" --service-cidr=10.254.0.0/16 \
  --listen=198.18.0.53:53 --listen=[2001:2::53]:53 --http-addr=127.0.0.1:8080 --upstream=none \
  >"$work/clusterdns.out" 2>"$work/clusterdns.log" &
pid=$!
for _ in $(seq 100); do
  [ "$(ip netns exec "$ns_app" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/ready)" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || fail "clusterdns exited"
  sleep 0.1
done
grep -E "^clusterdns: (port|dataplane|serving)" "$work/clusterdns.log" | sed 's/^/    /'
echo "    /ready: $(ip netns exec "$ns_app" curl -s http://127.0.0.1:8080/ready)"

step "pod: nslookup redis-master   (the search path finds redis-master.default.svc.cluster.local)"
out=$(in_pod nslookup -timeout=2 redis-master 2>&1) || fail "nslookup redis-master"
echo "$out" | show
echo "    (nslookup also notes \"recursion not available\": right, with --upstream=none)"
grep -q "Address: 10.254.7.160" <<<"$out" || fail "redis-master is not 10.254.7.160"

step "pod: nslookup kube-dns.kube-system"
out=$(in_pod nslookup -timeout=2 kube-dns.kube-system 2>&1) || fail "nslookup kube-dns.kube-system"
echo "$out" | show
grep -q "Address: 10.254.0.3" <<<"$out" || fail "kube-dns.kube-system is not 10.254.0.3"

step "pod: nslookup kube-dns   (fails, as it did with kube-dns: the pod is in default, kube-dns in kube-system)"
if out=$(in_pod nslookup -timeout=2 kube-dns 2>&1); then
  echo "$out" | show
  fail "kube-dns resolved from the default namespace"
fi
echo "$out" | show
echo "    (every search-path name is NXDOMAIN; the bare name \"kube-dns.\" is outside the cluster"
echo "    zone, REFUSED with --upstream=none)"

step "pod: SRV lookup of the kube-dns Service's named port"
out=$(in_pod nslookup -timeout=2 -type=SRV _dns._udp.kube-dns.kube-system 2>&1) || fail "SRV lookup"
echo "$out" | show
grep -q "service = 0 100 53 kube-dns.kube-system.svc.cluster.local" <<<"$out" || fail "SRV answer"

step "pod: lookup over TCP   (workers hand TCP to the kernel through a TAP; clusterdns's own socket answers)"
out=$(in_pod nslookup -vc -timeout=2 redis-master 2>&1) || fail "nslookup over TCP"
echo "$out" | show
grep -q "Address: 10.254.7.160" <<<"$out" || fail "redis-master over TCP is not 10.254.7.160"

step "pod: dnsperf for $seconds s against 198.18.0.53 (client and appliance share this machine's cores)"
{
  for name in redis-master.default.svc.cluster.local kube-dns.kube-system.svc.cluster.local \
              kubernetes.default.svc.cluster.local; do
    echo "$name A"
  done
  # What a pod asking for an external name with ndots:5 sends first: search-path NXDOMAINs.
  for suffix in default.svc.cluster.local svc.cluster.local cluster.local; do
    echo "github.com.$suffix A"
  done
  echo "_dns._udp.kube-dns.kube-system.svc.cluster.local SRV"
  echo "160.7.254.10.in-addr.arpa PTR"
} >"$work/queries.txt"
in_pod dnsperf -s 198.18.0.53 -d "$work/queries.txt" -l "$seconds" -c 8 -q 200 -t 2 2>&1 |
  grep -E "Queries (sent|completed|lost)|Response codes|Queries per second|Average Latency|Latency StdDev" |
  sed 's/^ */    /'

step "appliance: the worker's counters (/metrics)"
ip netns exec "$ns_app" curl -s http://127.0.0.1:8080/metrics |
  grep -E '^clusterdns_(worker_(rx|tx)_packets_total|queries_total\{path="dataplane",rcode="(NOERROR|NXDOMAIN)"\})' |
  sed 's/^/    /'

step "stopping (SIGTERM) and removing the namespaces"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "clusterdns exited $rc"
echo "    clusterdns stopped cleanly"
echo
echo "demo: done"
