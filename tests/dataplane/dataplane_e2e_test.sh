#!/usr/bin/env bash
# End to end through the real Dataplane on a veth: dataplane-responder in its own network
# namespace owns one end of a veth pair (net_af_packet or net_af_xdp on it), and a client
# namespace on the other end resolves with kdig over IPv4 and IPv6, with and without EDNS, and
# pings, learning the responder's MAC by ARP / NDP (no static neighbour entries).
#
#   dataplane_e2e_test.sh RESPONDER MODE
#     MODE af_packet    one worker (-l 0), net_af_packet
#     MODE af_xdp       one worker (-l 0), net_af_xdp (skips when the kernel refuses AF_XDP here)
#     MODE tap          one worker (-l 0), net_tap: its kernel side, in the server namespace, is the
#                       client. The TAP port offers RX checksum flags and TX UDP checksum offload,
#                       so this mode runs the offload path (L4Checksum::kOffload, l2/l3 lengths).
#     MODE two_workers  two workers (-l 0-1) on a two-queue net_af_packet (qpairs=2): queries from
#                       many source ports, and both workers' counters must show answers; a new
#                       table is published every 5 ms meanwhile (RCU under load: no query lost,
#                       the publisher never stuck)
#
# Safety (DESIGN.md "Test topology and safety"): namespaces and the veth pair are this test's own
# (named after its PID) and removed on exit, however it exits; addresses 198.18.0.0/15 and
# 2001:2::/48 only; the responder gets --no-pci --no-huge and a unique --file-prefix, and is
# stopped by its PID. TCP over the dataplane needs the exception path (not built yet): not tested.
# Exit 77 (ctest SKIP_RETURN_CODE) when root, ip, kdig or ethtool is missing.
set -euo pipefail

responder=$1
mode=$2
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$tmp"/responder.*; do echo "--- $f"; cat "$f"; done; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "ip (iproute2) not installed"
command -v kdig >/dev/null || skip "kdig (knot-dnsutils) not installed"
# Client-side TX checksum offload must be off: af_packet / af_xdp would otherwise see UDP frames
# whose checksum the kernel left to a NIC that does not exist, and the dataplane drops them.
[ "$mode" = tap ] || command -v ethtool >/dev/null || skip "ethtool not installed (needed to turn off veth TX checksum offload)"
have_ping=1
command -v ping >/dev/null || { have_ping=0; echo "NOTE: ping (iputils-ping) not installed: echo checks skipped"; }

id=$$
ns_server="cdns-e2e-$id-server"
ns_client="cdns-e2e-$id-client"
veth_server="cdns${id}s"
veth_client="cdns${id}c"
prefix="cdns-e2e-$id"
tmp=$(mktemp -d /tmp/cdns-e2e-XXXXXX)
responder_pid=""

cleanup() {
  if [ -n "$responder_pid" ] && kill -0 "$responder_pid" 2>/dev/null; then
    kill -KILL "$responder_pid" 2>/dev/null || true
    wait "$responder_pid" 2>/dev/null || true
  fi
  ip netns del "$ns_client" 2>/dev/null || true
  ip netns del "$ns_server" 2>/dev/null || true  # takes the veth pair with it
  ip link del "$veth_server" 2>/dev/null || true
  rm -rf "$tmp"
  rmdir "/var/run/dpdk/$prefix" 2>/dev/null || true
}
trap cleanup EXIT

client_up() {  # addresses on the client's interface (no DAD wait), then up
  ip -n "$ns_client" link set lo up
  ip -n "$ns_client" addr add 198.18.0.2/24 dev "$veth_client"
  ip -n "$ns_client" addr add 2001:2::2/64 dev "$veth_client" nodad
  ip -n "$ns_client" link set "$veth_client" up
}

ip netns add "$ns_server"
if [ "$mode" = tap ]; then
  # The PMD creates the TAP interface in the server namespace when it starts; the kernel there is
  # the client.
  ns_client=$ns_server
  veth_client="cdns${id}t"
else
  ip netns add "$ns_client"
  ip link add "$veth_server" type veth peer name "$veth_client"
  ip link set "$veth_server" netns "$ns_server"
  ip link set "$veth_client" netns "$ns_client"
  # Server side: no addresses and no IPv6 in the kernel, so only the dataplane answers.
  ip netns exec "$ns_server" sysctl -qw "net.ipv6.conf.$veth_server.disable_ipv6=1"
  # A veth has one RX queue: af_xdp binds queue 0; af_packet's qpairs are sockets, not NIC queues.
  ip -n "$ns_server" link set "$veth_server" up
  ip netns exec "$ns_client" ethtool -K "$veth_client" tx off >/dev/null
  client_up
fi

case "$mode" in
  af_packet) lcores=0; vdev="net_af_packet0,iface=$veth_server" ;;
  two_workers) lcores=0-1; vdev="net_af_packet0,iface=$veth_server,qpairs=2" ;;
  af_xdp) lcores=0; vdev="net_af_xdp0,iface=$veth_server,start_queue=0,queue_count=1" ;;
  tap) lcores=0; vdev="net_tap0,iface=$veth_client" ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac

extra=()
[ "$mode" = two_workers ] && extra=(--republish-ms=5)
ip netns exec "$ns_server" "$responder" --no-pci --no-huge -m 256 --no-shconf --no-telemetry \
  "--file-prefix=$prefix" -l "$lcores" "--vdev=$vdev" -- --ip=198.18.0.53,2001:2::53 --seconds=60 "${extra[@]}" \
  >"$tmp/responder.out" 2>"$tmp/responder.err" &
responder_pid=$!

for _ in $(seq 100); do
  grep -q "dataplane-responder: serving" "$tmp/responder.err" 2>/dev/null && break
  if ! kill -0 "$responder_pid" 2>/dev/null; then
    wait "$responder_pid" || true
    responder_pid=""
    if [ "$mode" = af_xdp ]; then
      echo "--- responder stderr"; cat "$tmp/responder.err"
      skip "net_af_xdp cannot start on a veth here (see the responder's error above)"
    fi
    fail "responder exited before serving"
  fi
  sleep 0.1
done
grep -q "dataplane-responder: serving" "$tmp/responder.err" || fail "responder not serving after 10 s"
if [ "$mode" = tap ]; then
  # net_tap gives the kernel interface the port's own MAC; as a client it needs one of its own
  # (the classifier drops frames from our MAC as looped back).
  ip -n "$ns_client" link set "$veth_client" address 02:00:5e:00:00:02
  client_up
  server_mac=$(sed -n 's/^clusterdns: port 0 .* mac \([0-9a-f:]*\):.*/\1/p' "$tmp/responder.err")
  grep -q "tx udp checksum offload" "$tmp/responder.err" || fail "net_tap without TX UDP checksum offload"
else
  server_mac=$(ip -n "$ns_server" -o link show "$veth_server" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  grep -q "mac $server_mac" "$tmp/responder.err" || fail "port MAC is not the veth's ($server_mac)"
fi
[ -n "$server_mac" ] || fail "no port MAC in the responder's log"

name=redis-master.default.svc.cluster.local
ask() {  # ask SERVER [kdig options...]: one query, must be NOERROR with the Service's address
  local server=$1; shift
  local out
  out=$(ip netns exec "$ns_client" kdig "@$server" +timeout=2 +retry=2 "$@" "$name" A 2>&1) ||
    fail "kdig @$server $* failed: $out"
  grep -q "status: NOERROR" <<<"$out" || fail "kdig @$server $*: not NOERROR: $out"
  grep -qE "^$name\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.254\.7\.160" <<<"$out" ||
    fail "kdig @$server $*: wrong answer: $out"
  if [[ " $* " != *" +edns "* ]]; then
    ! grep -q "EDNS PSEUDOSECTION" <<<"$out" || fail "kdig @$server $*: OPT in a reply to a query without"
  else
    grep -q "EDNS PSEUDOSECTION" <<<"$out" || fail "kdig @$server $*: no OPT in the reply"
  fi
}

# kdig sends no OPT unless asked: +edns for the EDNS(0) queries.
ask 198.18.0.53 +edns
ask 198.18.0.53 +noedns
ask 2001:2::53 +edns
ask 2001:2::53 +noedns
nxdomain=$(ip netns exec "$ns_client" kdig @198.18.0.53 +timeout=2 +retry=2 nothere.default.svc.cluster.local A 2>&1) ||
  fail "kdig for a missing name failed: $nxdomain"
grep -q "status: NXDOMAIN" <<<"$nxdomain" || fail "missing name: not NXDOMAIN: $nxdomain"

# The MACs were learnt, not configured.
ip -n "$ns_client" neigh show 198.18.0.53 | grep -q "lladdr $server_mac" || fail "no ARP entry for 198.18.0.53"
ip -n "$ns_client" -6 neigh show 2001:2::53 | grep -q "lladdr $server_mac" || fail "no NDP entry for 2001:2::53"

if [ "$have_ping" = 1 ]; then
  ip netns exec "$ns_client" ping -c1 -W2 198.18.0.53 >/dev/null || fail "ping 198.18.0.53"
  ip netns exec "$ns_client" ping -6 -c1 -W2 2001:2::53 >/dev/null || fail "ping -6 2001:2::53"
fi

if [ "$mode" = two_workers ]; then
  # Each kdig run uses a new random source port: RSS (af_packet's fanout hash) spreads them.
  for _ in $(seq 24); do ask 198.18.0.53 +noedns; done
fi

kill -TERM "$responder_pid"
status=0
wait "$responder_pid" || status=$?
responder_pid=""
[ "$status" = 0 ] || fail "responder exit status $status"
cat "$tmp/responder.out"
grep -vE "^EAL: " "$tmp/responder.err" || true

# Counters: "worker lcore=L port=P queue=Q rx=.. tx=.. dns=.. arp=.. nd=.. echo=.. ...".
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
total() { grep '^worker ' "$tmp/responder.out" | field "$1" | awk '{s+=$1} END {print s+0}'; }
min_dns=5
[ "$mode" = two_workers ] && min_dns=29
[ "$(total dns)" -ge "$min_dns" ] || fail "dns replies $(total dns) < $min_dns"
[ "$(total arp)" -ge 1 ] || fail "no ARP reply counted"
[ "$(total nd)" -ge 1 ] || fail "no neighbour advertisement counted"
if [ "$have_ping" = 1 ]; then [ "$(total echo)" -ge 2 ] || fail "echo replies $(total echo) < 2"; fi
[ "$(total tx_dropped)" = 0 ] || fail "tx_dropped $(total tx_dropped)"
if [ "$mode" = two_workers ]; then
  [ "$(grep -c '^worker ' "$tmp/responder.out")" = 2 ] || fail "expected two worker lines"
  while read -r dns; do
    [ "$dns" -ge 1 ] || fail "a worker answered no query: $(grep '^worker ' "$tmp/responder.out")"
  done < <(grep '^worker ' "$tmp/responder.out" | field dns)
  publishes=$(grep '^publisher ' "$tmp/responder.out" | field publishes)
  [ "${publishes:-0}" -ge 10 ] || fail "only ${publishes:-0} tables published while serving"
fi
echo "PASS ($mode)"
