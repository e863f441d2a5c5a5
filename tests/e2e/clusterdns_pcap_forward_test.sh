#!/usr/bin/env bash
# The forward path's reserved TX queue: on a port whose TX queues are not halves of RX/TX pairs
# (net_pcap with one rx_pcap and two tx_pcap files), clusterdns reserves TX queue 1 for the slow
# path, and the forwarder's replies leave through it, sent by the forwarder's thread, while the
# worker's own answers leave through queue 0. A capture of two queries (a cluster name and a name
# in no served zone) is replayed; the upstream is a second clusterdns serving example.test on the
# namespace's loopback. Checked: the log names the reserved queue; out0.pcap holds the worker's
# reply, out1.pcap the forwarded one (ID, addresses and ports swapped, IPv4 and UDP checksums
# right, the upstream's answer as relayed), and nothing else is on queue 1.
#   clusterdns_pcap_forward_test.sh CLUSTERDNS SOURCE_DIR
# Safety: everything runs in a network namespace of this test (the exception path's TAP and its
# routes live there), removed on exit; the only traffic is the forwarder's to that namespace's
# loopback; --no-pci --no-huge and a unique --file-prefix; processes stopped by their PIDs.
# Exit 77 (skip) without root, python3 or /dev/net/tun.
set -euo pipefail
clusterdns=$1 src=$2

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (net_tap)"
command -v python3 >/dev/null || skip "python3 not installed"

ns="cdns-e2ep-$$"
prefix="cdns-e2ep-$$"
work=$(mktemp -d)
upstream_pid="" pid=""
stop_pid() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_pid "$pid"
  stop_pid "$upstream_pid"
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
  rmdir "/var/run/dpdk/$prefix" 2>/dev/null || true
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- clusterdns log"; tail -20 "$work/clusterdns.log" 2>/dev/null || true
  exit 1
}

ip netns add "$ns"
ip -n "$ns" link set lo up
objects="$src/tests/testdata/objects/kube_dns_walkthrough.json"

ip netns exec "$ns" "$clusterdns" --listen=127.0.0.1:0 --http-addr= --upstream=none \
  --objects-file="$objects" --service-cidr=10.254.0.0/16 --domain=example.test \
  2>"$work/upstream.log" &
upstream_pid=$!
for _ in $(seq 50); do grep -q "clusterdns: serving" "$work/upstream.log" && break; sleep 0.1; done
upstream_port=$(sed -n 's/.*udp+tcp \[127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/upstream.log" | head -1)
[ -n "$upstream_port" ] || { cat "$work/upstream.log"; fail "the upstream did not start"; }

# The capture: two IPv4/UDP queries from 198.18.0.2 to the served 198.18.0.53, to net_pcap's MAC.
python3 "$src/tests/e2e/forward/pcap_forward.py" write "$work/in.pcap"

ip netns exec "$ns" "$clusterdns" --no-pci --no-huge -m 256 --no-shconf --no-telemetry \
  "--file-prefix=$prefix" -l 0 \
  "--vdev=net_pcap0,rx_pcap=$work/in.pcap,tx_pcap=$work/out0.pcap,tx_pcap=$work/out1.pcap" -- \
  --ip=198.18.0.53 --objects-file="$objects" --service-cidr=10.254.0.0/16 --http-addr= \
  --upstream=127.0.0.1:"$upstream_port" --forward-timeout=500ms --forward-deadline=1s \
  --cache-size=0 >"$work/clusterdns.out" 2>"$work/clusterdns.log" &
pid=$!
for _ in $(seq 100); do
  grep -q "clusterdns: serving" "$work/clusterdns.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "clusterdns: serving" "$work/clusterdns.log" || fail "clusterdns did not start"
grep -q "slow-path tx queue 1" "$work/clusterdns.log" ||
  fail "net_pcap with two tx_pcap files did not get a slow-path TX queue"
echo "ok: $(grep -o 'port 0 net_pcap0.*' "$work/clusterdns.log" | head -1)"
sleep 1.5  # the capture is replayed at start; the forwarded answer needs one upstream round trip
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "clusterdns exited $rc on SIGTERM"

python3 "$src/tests/e2e/forward/pcap_forward.py" check "$work/out0.pcap" "$work/out1.pcap" ||
  fail "the captures are not as expected"
echo "PASS"
