#!/usr/bin/env bash
# The exception path end to end: the clusterdns binary with its DPDK dataplane (net_af_packet on a
# veth) puts the served addresses on a kernel TAP (cdns-tap0), and its --listen sockets bind them.
# From a client namespace: DNS over TCP to the served address (IPv4 and IPv6) is answered by the
# kernel-socket TCP listener through the TAP (the TCP SYN, the client's ARP reply / neighbour
# advertisement go to the kernel as exceptions; the kernel's SYN-ACK, ARP request and NS leave
# through the data port); UDP keeps being answered by the workers; a name outside the zone over
# UDP is REFUSED by the workers; a ping with an IPv4 option is answered by the kernel. The
# exception counters (worker exceptions, to_kernel, tap_rx, kernel_tx) grow, and SIGTERM removes
# the TAP.
#   clusterdns_exception_test.sh CLUSTERDNS SOURCE_DIR
# Safety: the namespaces and the veth pair are this test's own (named after its PID) and removed
# on exit (the TAP lives in the server namespace); addresses from 198.18.0.0/15 and 2001:2::/48
# only; --no-pci --no-huge and a unique --file-prefix; the process is stopped by its PID.
# Exit 77 (skip) without root, kdig, ethtool or /dev/net/tun.
set -euo pipefail
clusterdns=$1 src=$2
source "$(dirname "$0")/appliance_testbed.sh"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (net_tap)"
testbed_up x "$src"
testbed_start "$clusterdns" --listen=198.18.0.53:53 --listen=[2001:2::53]:53 --http-addr=127.0.0.1:0
grep -q "exception path: port 0 → TAP cdns-tap0" "$work/clusterdns.log" || fail "no TAP log line"
grep -q "exception path: warning" "$work/clusterdns.log" && fail "warned about the veth's rp_filter"
[ -n "$http_port" ] || fail "no HTTP port in the log"
metrics() { ip netns exec "$ns_server" curl -s "http://127.0.0.1:$http_port/metrics"; }
# (Outputs are captured before grep -q: with pipefail, a writer that grep -q leaves behind dies of
# SIGPIPE and fails the pipeline.)
tap_addresses=$(ip -n "$ns_server" addr show dev cdns-tap0)
grep -q "inet 198.18.0.53/32" <<<"$tap_addresses" || fail "no IPv4 address on the TAP: $tap_addresses"
grep -q "inet6 2001:2::53/128" <<<"$tap_addresses" || fail "no IPv6 address on the TAP: $tap_addresses"

kq() { ip netns exec "$ns_client" kdig +timeout=2 +retry=1 "$@"; }

for server in 198.18.0.53 2001:2::53; do
  got=$(kq @"$server" +short redis-master.default.svc.cluster.local)
  [ "$got" = 10.254.7.160 ] || fail "A over UDP to $server: [$got]"
  got=$(kq @"$server" +tcp +short redis-master.default.svc.cluster.local)
  [ "$got" = 10.254.7.160 ] || fail "A over TCP to $server: [$got]"
  got=$(kq @"$server" +tcp +short SRV _dns._udp.kube-dns.kube-system.svc.cluster.local)
  [ "$got" = "0 100 53 kube-dns.kube-system.svc.cluster.local." ] || fail "SRV over TCP to $server: [$got]"
  got=$(kq @"$server" www.example.org)
  grep -q "status: REFUSED" <<<"$got" || fail "outside the zone over UDP to $server not REFUSED"
  echo "ok: TCP through the TAP and UDP through the workers at $server"
done
# An echo request with an IPv4 option (record route): the workers leave options to the kernel,
# whose reply records the route, as Linux does (a worker's reply would copy the request's option).
rr=$(ip netns exec "$ns_client" ping -R -c1 -W2 198.18.0.53) || fail "ping -R 198.18.0.53: $rr"
# The kernel records its own address; a copied option would hold only the client's.
grep -Eq $'^\t198\\.18\\.0\\.53$' <<<"$rr" || fail "ping -R: the server's address not recorded: $rr"
echo "ok: an echo request with IPv4 options is answered by the kernel through the TAP"
neighbours=$(ip -n "$ns_server" neigh show dev cdns-tap0)
grep -q "198.18.0.2 .*lladdr" <<<"$neighbours" ||
  fail "the kernel learnt no MAC for the client over the TAP"

m=$(metrics)
# Each query answered once, by the right path: UDP (2 A, 2 outside the zone) by the workers,
# TCP (2 A, 2 SRV) by the kernel-socket listeners.
count() { sed -n "s/^clusterdns_queries_total{path=\"$1\",rcode=\"$2\"} //p" <<<"$m"; }
[ "$(count dataplane NOERROR)" = 2 ] || fail "dataplane NOERROR: $(count dataplane NOERROR), want 2"
[ "$(count dataplane REFUSED)" = 2 ] || fail "dataplane REFUSED: $(count dataplane REFUSED), want 2"
[ "$(count listen NOERROR)" = 4 ] || fail "listen NOERROR: $(count listen NOERROR), want 4 (TCP only)"
[ "$(count listen REFUSED)" = 0 ] || fail "listen REFUSED: $(count listen REFUSED), want 0"
grep -q '^clusterdns_worker_exceptions_total{lcore="0",port="0",queue="0"} [1-9]' <<<"$m" ||
  fail "/metrics counts no TCP exception: $(echo "$m" | grep exception | tr '\n' ' ')"
# The exception path's own counters: frames into the kernel through the TAP and the kernel's
# frames back out of the data port (the TCP handshakes and answers).
for direction in to_kernel tap_tx tap_rx kernel_tx; do
  grep -q "^clusterdns_exception_frames_total{port=\"0\",tap=\"cdns-tap0\",direction=\"$direction\"} [1-9]" <<<"$m" ||
    fail "/metrics: no exception frames $direction: $(grep exception_frames <<<"$m" | tr '\n' ' ')"
done
echo "ok: /metrics counts the workers' answers, the TCP exceptions and the exception path's frames"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
grep -q "SIGTERM, stopping" "$work/clusterdns.log" || fail "no stop line"
line=$(grep "clusterdns: exception port=0 tap=cdns-tap0" "$work/clusterdns.log") || fail "no exception summary"
echo "$line"
num() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
[ "$(num to_kernel)" -ge 6 ] || fail "to_kernel: $(num to_kernel)"
# What is still in a ring when the workers stop is freed, so the later counter may be short.
[ "$(num tap_tx)" -ge 6 ] && [ "$(num tap_tx)" -le "$(num to_kernel)" ] || fail "tap_tx: $(num tap_tx)"
[ "$(num kernel_tx)" -ge 6 ] && [ "$(num kernel_tx)" -le "$(num tap_rx)" ] || fail "kernel_tx: $(num kernel_tx)"
[ "$(num ring_full)" = 0 ] || fail "ring_full: $(num ring_full)"
ip -n "$ns_server" link show cdns-tap0 >/dev/null 2>&1 && fail "the TAP is still there after the stop"
rules=$(ip -n "$ns_server" rule show; ip -n "$ns_server" -6 rule show)
grep -q "lookup 5353" <<<"$rules" && fail "policy rules left after the stop: $rules"
echo PASS
