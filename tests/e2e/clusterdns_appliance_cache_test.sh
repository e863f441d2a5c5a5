#!/usr/bin/env bash
# The answer cache in the appliance (issue 5, "Cache on the fast path"): a name outside the served
# zones is not answered by the DPDK workers the first time; they hand it to the forwarder (the
# forward path's ring), which asks the upstream — the test's own knotd serving cache.test
# (tests/e2e/cache/) on the server namespace's loopback — and stores the answer. The same
# (name, type) again is answered by a worker from the cache: clusterdns_cache_hits_total
# {path="dataplane"} +1, the forwarder's requests unchanged, the listener's cache hits unchanged.
# Checked from the client namespace, at 198.18.0.53 and 2001:2::53: a positive answer (then in
# another letter case with dig: ID and spelling kept, RA set, AA clear, an OPT for dig's EDNS
# query and none for kdig's plain one), an NXDOMAIN with the SOA (cached for its 3 s), and the
# TTL counted down 2 s later.
#   clusterdns_appliance_cache_test.sh CLUSTERDNS SOURCE_DIR
# Safety: the namespaces and the veth pair are this test's own and removed on exit; addresses from
# 198.18.0.0/15, 2001:2::/48 and the server namespace's own loopback only; --no-pci --no-huge and
# a unique --file-prefix (appliance_testbed.sh); knotd and clusterdns are stopped by their PIDs.
# Never the host's resolver: --upstream is the server namespace's knotd.
# Exit 77 (skip) without root, knotd, kdig, dig, curl, ethtool or /dev/net/tun.
set -euo pipefail
clusterdns=$1 src=$2
source "$(dirname "$0")/appliance_testbed.sh"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (net_tap)"
for tool in knotd dig curl; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (Debian packages knot, dnsutils, curl)"
done
help_text=$("$clusterdns" --help 2>&1 || true)  # not `| grep -q` under pipefail
grep -q -- "--cache-size" <<<"$help_text" || { echo "FAIL: clusterdns --help lists no --cache-size"; exit 1; }
testbed_up k "$src"
knot_pid="" http_port=""
cleanup() {
  if [ -n "$knot_pid" ] && kill -0 "$knot_pid" 2>/dev/null; then
    kill -KILL "$knot_pid" 2>/dev/null || true
    wait "$knot_pid" 2>/dev/null || true
  fi
  testbed_cleanup
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- clusterdns log"; tail -30 "$work/clusterdns.log" 2>/dev/null || true
  echo "--- knot log"; grep -v " info: " "$work/knot.log" 2>/dev/null | tail -15 || true
  echo "--- metrics"
  [ -z "$http_port" ] || metrics | grep -E '^clusterdns_(cache|forward|upstream)_' || true
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sleep_until() {  # MS (now_ms clock)
  local wait_ms=$(($1 - $(now_ms)))
  ((wait_ms <= 0)) || sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
}

# --- knotd on the server namespace's loopback (its own network stack: the port is free) ----------
knot_port=5398
mkdir -p "$work/knot/db"
sed -e "s|@RUN@|$work/knot|g" -e "s|@PORT@|$knot_port|g" \
    -e "s|@ZONE@|$src/tests/e2e/cache/cache.test.zone|g" \
    "$src/tests/e2e/cache/knot.conf.in" > "$work/knot/knot.conf"
# ip netns exec execs knotd: $! is knotd's own PID.
ip netns exec "$ns_server" knotd -c "$work/knot/knot.conf" 2>"$work/knot.log" &
knot_pid=$!
knot_up=0
for _ in $(seq 100); do
  kill -0 "$knot_pid" 2>/dev/null || break
  out=$(ip netns exec "$ns_server" kdig @127.0.0.1 -p "$knot_port" +timeout=1 +retry=0 cache.test SOA 2>&1) || true
  grep -q "status: NOERROR" <<<"$out" && grep -q "ANSWER: 1" <<<"$out" && { knot_up=1; break; }
  sleep 0.05
done
[ "$knot_up" = 1 ] || fail "knotd did not start on 127.0.0.1:$knot_port in $ns_server"
echo "knotd $knot_pid serves cache.test on 127.0.0.1:$knot_port in the server namespace"

# --- clusterdns: workers at 198.18.0.53 / 2001:2::53, the forwarder behind the --listen sockets ----
# Try timeout 2 s, deadline 5 s: a loaded machine seldom makes the forwarder ask Knot twice.
testbed_start "$clusterdns" --listen=198.18.0.53:53 --listen=[2001:2::53]:53 \
  --http-addr=127.0.0.1:0 --upstream=127.0.0.1:"$knot_port" --forward-timeout=2s \
  --forward-deadline=5s
[ -n "$http_port" ] || fail "no HTTP port in the log"
metrics() { ip netns exec "$ns_server" curl -s --max-time 2 "http://127.0.0.1:$http_port/metrics"; }
fwd=clusterdns_forward_requests_total
dp_hits='clusterdns_cache_hits_total{path="dataplane"}'
listen_hits='clusterdns_cache_hits_total{path="listen"}'
all=$(metrics)
for s in "$dp_hits" "$listen_hits" clusterdns_cache_entries clusterdns_cache_inserts_total; do
  awk -v m="$s" '$1 == m { found = 1 } END { exit !found }' <<<"$all" || fail "/metrics has no $s"
done

# mark; ...; moved FWD DATAPLANE_HITS LISTEN_HITS WHAT: exact differences since mark.
counts() {
  metrics | awk -v a="$fwd" -v b="$dp_hits" -v c="$listen_hits" \
    '$1 == a { x = $2 } $1 == b { y = $2 } $1 == c { z = $2 } END { print x + 0, y + 0, z + 0 }'
}
mark() { read -r m_fwd m_dp m_listen <<<"$(counts)"; }
moved() {
  local c_fwd c_dp c_listen d
  read -r c_fwd c_dp c_listen <<<"$(counts)"
  d="$((c_fwd - m_fwd)) $((c_dp - m_dp)) $((c_listen - m_listen))"
  [ "$d" = "$1 $2 $3" ] ||
    fail "$4: forwarded, dataplane cache hits, listener cache hits moved by [$d]; want [$1 $2 $3]"
}

# One query from the client namespace, never retried; the whole output.
kq() { ip netns exec "$ns_client" kdig +timeout=6 +retry=0 "$@" 2>&1 || true; }
dq() { ip netns exec "$ns_client" dig +tries=1 +time=6 +nocookie "$@" 2>&1 || true; }
source "$src/tests/e2e/cache/dig_output.sh"
expect_answer() {  # OUTPUT NAME TTL_MIN TTL_MAX WHAT: NOERROR, one A 192.0.2.30 (*.pos.cache.test)
  local rr owner ttl class type data
  [ "$(status_of "$1")" = NOERROR ] || fail "$5: not NOERROR: $1"
  rr=$(section ANSWER "$1")
  [ "$(wc -l <<<"$rr")" = 1 ] || fail "$5: not one answer record: $1"
  read -r owner ttl class type data <<<"$rr"
  [ "${owner,,} $class $type $data" = "${2,,} IN A 192.0.2.30" ] || fail "$5: answer is [$rr]: $1"
  ttl_in "$ttl" "$3" "$4" || fail "$5: TTL $ttl, want $3..$4: $1"
}

for server in 198.18.0.53 2001:2::53; do
  tag=v4; [[ "$server" == *:* ]] && tag=v6
  name=www-$tag.pos.cache.test
  spelled=WwW-$tag.PoS.cAcHe.TeSt
  # First: forwarded through the forward path's ring, Knot's answer relayed and stored.
  mark
  out=$(kq @"$server" "$name" A)
  expect_answer "$out" "$name." 300 300 "first $name A at $server"
  [ "$(flags_of "$out")" = "$relayed_flags" ] || fail "first $name A at $server is not Knot's answer relayed: $out"
  moved 1 0 0 "first $name A at $server"
  # Again, in another spelling with dig (EDNS): a worker answers from the cache.
  mark
  out=$(dq @"$server" "$spelled" A)
  expect_answer "$out" "$name." 299 300 "$spelled A at $server (dig drops a wrong ID)"
  [ "$(flags_of "$out")" = "$cached_flags" ] || fail "$spelled A at $server: flags [$(flags_of "$out")], want [$cached_flags]: $out"
  grep -Eq "^;${spelled//./\\.}\.[[:space:]]+IN[[:space:]]+A\$" <<<"$out" || fail "question spelling not kept at $server: $out"
  has_opt "$out" || fail "$spelled A at $server: dig asked with EDNS, no OPT in the cached answer: $out"
  moved 0 1 0 "$spelled A at $server"
  echo "ok: $name forwarded, then $spelled answered by a worker from the cache at $server"

  # NXDOMAIN: forwarded once, then from the cache with the SOA.
  nx=nope-$tag.nx.cache.test
  mark
  out=$(kq @"$server" "$nx" A)
  expect_negative "$out" NXDOMAIN 3 3 "first $nx A at $server"
  [ "$(flags_of "$out")" = "$relayed_flags" ] || fail "first $nx A at $server is not Knot's answer relayed: $out"
  moved 1 0 0 "first $nx A at $server"
  mark
  out=$(kq @"$server" "$nx" A)
  expect_negative "$out" NXDOMAIN 2 3 "$nx A again at $server"
  [ "$(flags_of "$out")" = "$cached_flags" ] || fail "$nx A again at $server is not from the cache: $out"
  moved 0 1 0 "$nx A again at $server"
  echo "ok: NXDOMAIN for $nx cached, answered by a worker at $server"
done

# The TTL counts down by the whole seconds since the answer was stored: a name per address, both
# stored just before the sleep (nothing else in between: "2 s later" is 2..3 s on a loaded machine).
mark
for server in 198.18.0.53 2001:2::53; do
  name=ttl-$([[ "$server" == *:* ]] && echo v6 || echo v4).pos.cache.test
  out=$(kq @"$server" "$name" A)
  [ "$server" = 198.18.0.53 ] && ttl_stored_ms=$(now_ms)
  expect_answer "$out" "$name." 300 300 "first $name A at $server"
done
sleep_until $((ttl_stored_ms + 2000))
for server in 198.18.0.53 2001:2::53; do
  name=ttl-$([[ "$server" == *:* ]] && echo v6 || echo v4).pos.cache.test
  out=$(kq @"$server" "$name" A)
  expect_answer "$out" "$name." 297 299 "$name A at $server 2 s later"
  [ "$(flags_of "$out")" = "$cached_flags" ] || fail "$name A at $server 2 s later is not from the cache: $out"
  ! has_opt "$out" || fail "$name A at $server: an OPT in the answer to a query without one: $out"
  echo "ok: 2 s later the TTL at $server is $(section ANSWER "$out" | awk '{ print $2 }')"
done
moved 2 2 0 "ttl-v4 and ttl-v6 A, then 2 s later"

m=$(metrics)
value() { awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }' <<<"$m"; }
# Every UDP query forwarded (3 per address) went through the forward path's ring and back out.
forwarded=$(value "$fwd")
[ "$forwarded" = 6 ] || fail "$fwd is $forwarded, want 6 (www, nope, ttl at each address)"
for s in handed_over submitted replied tx; do
  got=$(value "clusterdns_forward_path_packets_total{stage=\"$s\"}")
  [ "$got" = 6 ] || fail "forward path stage $s: $got, want 6: $(grep forward_path <<<"$m")"
done
entries=$(value clusterdns_cache_entries)
# Four A and two NXDOMAIN stored; the NXDOMAINs (3 s) may have been dropped as expired by now.
((entries >= 4 && entries <= 6)) || fail "clusterdns_cache_entries is $entries, want 4..6"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "clusterdns exited $rc on SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$work/clusterdns.log" ||
  fail "sanitizer report in the clusterdns log"
echo "PASS"
