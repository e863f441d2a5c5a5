#!/usr/bin/env bash
# Forwarding in the appliance: a name in no served zone, asked over UDP at the served address, is
# not answered by the workers; they hand it to the forward path's ring, the forwarder asks the
# upstream, and its reply goes back out of the data port in the query's own mbuf through worker
# 0. Over TCP the query reaches the --listen socket at the served address through the exception
# path (TAP), which forwards it the same way. The upstream is a second clusterdns in the server
# namespace, serving the same objects under the domain example.test on its loopback. Checked: UDP
# (IPv4 and IPv6) and TCP answers with the client's spelling kept, NXDOMAIN relayed, cluster names
# still answered by the workers, the forward path's and the forwarder's counters, and SERVFAIL
# within the deadline once the upstream is gone.
#   clusterdns_appliance_forward_test.sh CLUSTERDNS SOURCE_DIR
# Safety: the namespaces and the veth pair are this test's own and removed on exit; addresses from
# 198.18.0.0/15, 2001:2::/48 and the server namespace's own loopback only; --no-pci --no-huge and
# a unique --file-prefix; both processes are stopped by their PIDs. Never the host's resolver:
# both instances pass --upstream explicitly. --cache-size=0: every forwarded query takes the
# exception path (the cache's appliance test is clusterdns_appliance_cache_test.sh).
# Exit 77 (skip) without root, kdig, dig, ethtool or /dev/net/tun.
set -euo pipefail
clusterdns=$1 src=$2
source "$(dirname "$0")/appliance_testbed.sh"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (net_tap)"
command -v dig >/dev/null || skip "dig (dnsutils) not installed"
testbed_up g "$src"
upstream_pid=""
cleanup() {
  if [ -n "$upstream_pid" ] && kill -0 "$upstream_pid" 2>/dev/null; then
    kill -KILL "$upstream_pid" 2>/dev/null || true
    wait "$upstream_pid" 2>/dev/null || true
  fi
  testbed_cleanup
}
trap cleanup EXIT

# The upstream, on the server namespace's loopback (its own network stack: port 5399 is free).
ip netns exec "$ns_server" "$clusterdns" --listen=127.0.0.1:5399 --http-addr= --upstream=none \
  --objects-file="$objects" --service-cidr=10.254.0.0/16 --domain=example.test \
  2>"$work/upstream.log" &
upstream_pid=$!
for _ in $(seq 50); do grep -q "clusterdns: serving" "$work/upstream.log" && break; sleep 0.1; done
grep -q "clusterdns: serving" "$work/upstream.log" || fail "the upstream did not start"

testbed_start "$clusterdns" --listen=198.18.0.53:53 --listen=[2001:2::53]:53 \
  --http-addr=127.0.0.1:0 --upstream=127.0.0.1:5399 --forward-timeout=200ms \
  --forward-deadline=800ms --cache-size=0
[ -n "$http_port" ] || fail "no HTTP port in the log"
metrics() { ip netns exec "$ns_server" curl -s "http://127.0.0.1:$http_port/metrics"; }
kq() { ip netns exec "$ns_client" kdig +timeout=2 +retry=0 "$@"; }

for server in 198.18.0.53 2001:2::53; do
  # dig sends the name as typed (kdig lowercases it); the answer's owner points at the question.
  got=$(ip netns exec "$ns_client" dig +time=2 +tries=1 @"$server" ReDiS-MaStEr.DeFault.Svc.ExAmPlE.TeSt)
  grep -q "status: NOERROR" <<<"$got" || fail "forwarded A over UDP to $server: $got"
  grep -q "^ReDiS-MaStEr.DeFault.Svc.ExAmPlE.TeSt. .*10.254.7.160" <<<"$got" ||
    fail "forwarded A over UDP to $server: the answer or the client's spelling is lost: $got"
  got=$(kq @"$server" +tcp +short redis-master.default.svc.example.test)
  [ "$got" = 10.254.7.160 ] || fail "forwarded A over TCP to $server: [$got]"
  got=$(kq @"$server" nothing-here.default.svc.example.test)
  grep -q "status: NXDOMAIN" <<<"$got" || fail "upstream NXDOMAIN not relayed from $server: $got"
  got=$(kq @"$server" +short redis-master.default.svc.cluster.local)
  [ "$got" = 10.254.7.160 ] || fail "cluster name over UDP to $server: [$got]"
  echo "ok: forwarded over UDP and TCP, NXDOMAIN relayed, cluster names served at $server"
done

m=$(metrics)
value() { awk -v m="$1" '$1 == m { print $2 }' <<<"$m"; }
relayed=$(value clusterdns_forward_relayed_total)
[ "${relayed:-0}" -ge 6 ] || fail "clusterdns_forward_relayed_total ${relayed:-none}, want >= 6"
count() { sed -n "s/^clusterdns_queries_total{path=\"$1\",rcode=\"$2\"} //p" <<<"$m"; }
[ "$(count dataplane NOERROR)" = 2 ] ||
  fail "the workers answered $(count dataplane NOERROR) NOERROR, want 2 (the cluster names)"
stage() { sed -n "s/^clusterdns_forward_path_packets_total{stage=\"$1\"} //p" <<<"$m"; }
# Per address: the dig query and the NXDOMAIN over UDP took the forward path (4), the TCP ones
# the exception path.
for s in handed_over submitted replied tx; do
  [ "$(stage $s)" = 4 ] || fail "forward path stage $s: $(stage $s), want 4: $(grep forward_path <<<"$m")"
done
for s in ring_full not_submitted reply_dropped tx_dropped; do
  [ "$(stage $s)" = 0 ] || fail "forward path stage $s: $(stage $s), want 0"
done
echo "ok: /metrics: $relayed relayed by the forwarder (4 of them through the forward path's ring), the cluster names by the workers"

# A silent upstream with many queries waiting on it must not starve the port: the forward path
# keeps its waiting queries in mbufs of its own pool, so the workers go on receiving. dnsperf
# floods 4000 distinct external names (the forwarder holds at most 1024 for the deadline and
# answers SERVFAIL beyond that) while kdig asks for a cluster name.
if command -v dnsperf >/dev/null; then
  for i in $(seq 4000); do echo "flood-$i.default.svc.example.test A"; done >"$work/flood.txt"
  kill -STOP "$upstream_pid"
  ip netns exec "$ns_client" dnsperf -s 198.18.0.53 -d "$work/flood.txt" -c 4 -q 3000 -n 1 -t 2 \
    >"$work/flood.out" 2>&1 &
  flood_pid=$!
  sleep 0.5
  # Within the deadline (800 ms) that the waiting queries hold their mbufs for: a port starved
  # of mbufs would drop this query until they are freed.
  start=$(date +%s%N)
  got=$(kq @198.18.0.53 +short redis-master.default.svc.cluster.local)
  flood_ms=$((($(date +%s%N) - start) / 1000000))
  [ "$got" = 10.254.7.160 ] || fail "a cluster name during the flood (silent upstream): [$got]"
  ((flood_ms < 500)) || fail "a cluster name during the flood took ${flood_ms} ms: the port is starved"
  wait "$flood_pid" || true
  kill -CONT "$upstream_pid"
  got=$(kq @198.18.0.53 +short redis-master.default.svc.example.test)
  [ "$got" = 10.254.7.160 ] || fail "forwarding after the flood: [$got]"
  echo "ok: a silent upstream with the forwarder full did not starve the port (answered in ${flood_ms} ms; $(grep -E 'Queries completed' "$work/flood.out" | tr -s ' '))"
else
  echo "note: dnsperf not installed, the flood check is skipped"
fi

kill -TERM "$upstream_pid"
wait "$upstream_pid" 2>/dev/null || true
upstream_pid=""
start=$(date +%s%N)
got=$(kq @198.18.0.53 redis-master.default.svc.example.test)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -q "status: SERVFAIL" <<<"$got" || fail "no SERVFAIL with the upstream gone: $got"
((elapsed_ms < 1300)) || fail "SERVFAIL after ${elapsed_ms} ms, want < 800 ms deadline + 500 ms"
echo "ok: upstream gone → SERVFAIL in ${elapsed_ms} ms"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "clusterdns exited $rc on SIGTERM"
echo "PASS"
