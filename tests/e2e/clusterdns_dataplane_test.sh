#!/usr/bin/env bash
# The clusterdns binary with its DPDK dataplane (net_af_packet on a veth) and the kernel-socket
# control plane together: a client namespace resolves the walkthrough cluster from the objects
# file over IPv4 and IPv6 (learning the MAC by ARP/NDP), a Service added to the file is answered
# by the workers, /metrics counts the workers' answers, and SIGTERM stops everything (exit 0).
#   clusterdns_dataplane_test.sh CLUSTERDNS SOURCE_DIR
# Safety: the namespaces and the veth pair are this test's own (named after its PID) and removed
# on exit; addresses from 198.18.0.0/15 and 2001:2::/48 only; --no-pci --no-huge and a unique
# --file-prefix; the process is stopped by its PID. Exit 77 (skip) without root, kdig or ethtool.
set -euo pipefail
clusterdns=$1 src=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v kdig >/dev/null || skip "kdig (knot-dnsutils) not installed"
command -v ethtool >/dev/null || skip "ethtool not installed (veth TX checksum offload must be off)"

id=$$
ns_server="cdns-e2ed-$id-server"
ns_client="cdns-e2ed-$id-client"
veth_server="cdnd${id}s"
veth_client="cdnd${id}c"
prefix="cdns-e2ed-$id"
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  [ -n "$pid" ] && { wait "$pid" 2>/dev/null || true; }
  ip netns del "$ns_client" 2>/dev/null || true
  ip netns del "$ns_server" 2>/dev/null || true
  rm -rf "$work"
  rmdir "/var/run/dpdk/$prefix" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- clusterdns log"; tail -30 "$work/clusterdns.log" || true; exit 1; }

objects=$work/objects.json
cp "$src/tests/testdata/objects/kube_dns_walkthrough.json" "$objects"

ip netns add "$ns_server"
ip netns add "$ns_client"
ip link add "$veth_server" type veth peer name "$veth_client"
ip link set "$veth_server" netns "$ns_server"
ip link set "$veth_client" netns "$ns_client"
ip netns exec "$ns_server" sysctl -qw "net.ipv6.conf.$veth_server.disable_ipv6=1"
# af_packet leaves frames to the kernel too, and the served addresses live on the exception TAP:
# strict reverse-path filtering keeps the kernel from answering what arrives on the veth.
ip netns exec "$ns_server" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.$veth_server.rp_filter=1"
ip -n "$ns_server" link set lo up
ip -n "$ns_server" link set "$veth_server" up
ip -n "$ns_client" link set lo up
ip -n "$ns_client" addr add 198.18.0.2/24 dev "$veth_client"
ip -n "$ns_client" addr add 2001:2::2/64 dev "$veth_client" nodad
ip -n "$ns_client" link set "$veth_client" up
ip netns exec "$ns_client" ethtool -K "$veth_client" tx off >/dev/null

ip netns exec "$ns_server" "$clusterdns" --no-pci --no-huge -m 256 --no-shconf --no-telemetry \
  "--file-prefix=$prefix" -l 0 "--vdev=net_af_packet0,iface=$veth_server" -- \
  --ip=198.18.0.53,2001:2::53 --objects-file="$objects" --service-cidr=10.254.0.0/16 \
  --listen=127.0.0.1:0 --http-addr=127.0.0.1:0 >"$work/clusterdns.out" 2>"$work/clusterdns.log" &
pid=$!
for _ in $(seq 100); do grep -q "clusterdns: serving" "$work/clusterdns.log" && break; sleep 0.1; done
grep -q "clusterdns: serving" "$work/clusterdns.log" || fail "clusterdns did not start"
http_port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$work/clusterdns.log")
metrics() { ip netns exec "$ns_server" curl -s "http://127.0.0.1:$http_port/metrics"; }

kq() { ip netns exec "$ns_client" kdig +timeout=1 +retry=2 "$@"; }
for server in 198.18.0.53 2001:2::53; do
  got=$(kq @"$server" +short redis-master.default.svc.cluster.local)
  [ "$got" = 10.254.7.160 ] || fail "A over $server: [$got]"
  got=$(kq @"$server" +short +noedns kube-dns.kube-system.svc.cluster.local)
  [ "$got" = 10.254.0.3 ] || fail "A without EDNS over $server: [$got]"
  kq @"$server" kube-dns.default.svc.cluster.local | grep -q "status: NXDOMAIN" || fail "NXDOMAIN over $server"
  got=$(kq @"$server" +short SRV _dns._udp.kube-dns.kube-system.svc.cluster.local)
  [ "$got" = "0 100 53 kube-dns.kube-system.svc.cluster.local." ] || fail "SRV over $server: [$got]"
  echo "ok: the dataplane answers over $server"
done
ip -n "$ns_client" neigh show | grep -q "198.18.0.53 .*lladdr" || fail "no ARP entry for 198.18.0.53"

web='{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"type":"ClusterIP","clusterIP":"10.254.20.20","clusterIPs":["10.254.20.20"],"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}'
sed "0,/\"items\": \[/s//\"items\": [ $web,/" "$objects" >"$work/next.json"
mv "$work/next.json" "$objects"
got=""
for _ in $(seq 50); do
  got=$(kq @198.18.0.53 +short web.default.svc.cluster.local) || true
  [ "$got" = 10.254.20.20 ] && break
  sleep 0.1
done
[ "$got" = 10.254.20.20 ] || fail "a Service added to the objects file is not answered by the workers"
echo "ok: a new table reaches the workers"

m=$(metrics)
echo "$m" | grep -q '^clusterdns_queries_total{path="dataplane",rcode="NOERROR"} [1-9]' ||
  fail "/metrics counts no dataplane answers"
echo "$m" | grep -q '^clusterdns_worker_rx_packets_total{lcore="0",port="0",queue="0"} [1-9]' ||
  fail "/metrics has no worker rx counter"
echo "ok: /metrics counts the workers' answers"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
grep -q "SIGTERM, stopping" "$work/clusterdns.log" || fail "no stop line"
echo PASS
