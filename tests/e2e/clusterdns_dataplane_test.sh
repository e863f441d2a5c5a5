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
source "$(dirname "$0")/appliance_testbed.sh"
testbed_up d "$src"
testbed_start "$clusterdns" --listen=127.0.0.1:0 --http-addr=127.0.0.1:0
[ -n "$http_port" ] || fail "no HTTP port in the log"
metrics() { ip netns exec "$ns_server" curl -s "http://127.0.0.1:$http_port/metrics"; }

kq() { ip netns exec "$ns_client" kdig +timeout=1 +retry=2 "$@"; }
for server in 198.18.0.53 2001:2::53; do
  got=$(kq @"$server" +short redis-master.default.svc.cluster.local)
  if [ "$got" != 10.254.7.160 ]; then
    again=$(kq @"$server" redis-master.default.svc.cluster.local 2>&1) || true
    fail "A over $server: [$got]; asked again: $again"
  fi
  got=$(kq @"$server" +short +noedns kube-dns.kube-system.svc.cluster.local)
  [ "$got" = 10.254.0.3 ] || fail "A without EDNS over $server: [$got]"
  # Outputs are captured before grep -q: under pipefail a writer that grep -q leaves behind can die
  # of SIGPIPE and fail the pipeline although the line was there.
  out=$(kq @"$server" kube-dns.default.svc.cluster.local)
  grep -q "status: NXDOMAIN" <<<"$out" || fail "NXDOMAIN over $server"
  got=$(kq @"$server" +short SRV _dns._udp.kube-dns.kube-system.svc.cluster.local)
  [ "$got" = "0 100 53 kube-dns.kube-system.svc.cluster.local." ] || fail "SRV over $server: [$got]"
  echo "ok: the dataplane answers over $server"
done
neighbours=$(ip -n "$ns_client" neigh show)
grep -q "198.18.0.53 .*lladdr" <<<"$neighbours" || fail "no ARP entry for 198.18.0.53: $neighbours"

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
grep -q '^clusterdns_queries_total{path="dataplane",rcode="NOERROR"} [1-9]' <<<"$m" ||
  fail "/metrics counts no dataplane answers"
grep -q '^clusterdns_worker_rx_packets_total{lcore="0",port="0",queue="0"} [1-9]' <<<"$m" ||
  fail "/metrics has no worker rx counter"
echo "ok: /metrics counts the workers' answers"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
grep -q "SIGTERM, stopping" "$work/clusterdns.log" || fail "no stop line"
echo PASS
