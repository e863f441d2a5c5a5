#!/usr/bin/env bash
# clusterdns --listen mode forwarding names outside cluster.local to a real Knot DNS (issue 5):
#   - its own knotd (never the system service) serves example.test on 127.0.0.1:<free port>;
#     config, pid file, control socket and database in a temp dir (tests/e2e/forward/)
#   - relayed answers are Knot's answers byte for byte but the ID: compared with asking Knot
#     directly (A, AAAA, TXT, CNAME, NXDOMAIN with the SOA, RD clear), over UDP and TCP; the
#     question's case survives (dig shows it; dig and kdig both drop a reply with a wrong ID)
#   - the big TXT RRset (2.6 KB > Knot's 1232-byte UDP limit): Knot truncates, the forwarder
#     retries over TCP and relays the whole RRset to a 4096-byte EDNS client over UDP, as a TC
#     reply to a client without EDNS, whole over TCP
#   - cluster names are answered from the table and never forwarded (the counters do not move)
#   - /metrics: requests, relayed, per-upstream queries/answers/TCP retries/errors, SERVFAIL causes
#   - a dead first upstream (ICMP port unreachable) → the next one answers, under the deadline
#   - Knot stopped (SIGSTOP: no answer, no ICMP) → SERVFAIL at the deadline; continued → answers
#   - Knot killed → SERVFAIL within the deadline + 500 ms
#   - --upstream=none → REFUSED outside the zone
# Everything on 127.0.0.1; --upstream is always explicit (never the host's resolv.conf).
# --cache-size=0: every query here must reach Knot (the cache has tests of its own:
# clusterdns_cache_test.sh).
#   clusterdns_forward_test.sh CLUSTERDNS SOURCE_DIR
# Exit 77 (skip) without root, knotd, kdig, dig or curl.
set -euo pipefail
clusterdns=$1 src=$2

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for tool in knotd kdig dig curl ss; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (Debian packages knot, knot-dnsutils, dnsutils, curl)"
done

try_timeout_ms=200
deadline_ms=800
slack_ms=500

failure_metrics='^clusterdns_(forward|upstream)_'  # what `fail` shows of /metrics
source "$(dirname "$0")/knot_loopback.sh"

# --- clusterdns ---------------------------------------------------------------------------------
start_clusterdns() {  # extra flags (--upstream=...)
  : > "$work/clusterdns.log"
  "$clusterdns" --listen=127.0.0.1:0 --http-addr=127.0.0.1:0 \
    --objects-file="$src/tests/testdata/objects/kube_dns_walkthrough.json" \
    --forward-timeout=${try_timeout_ms}ms --forward-deadline=${deadline_ms}ms --cache-size=0 "$@" \
    2>"$work/clusterdns.log" &
  cdns_pid=$!
  wait_for_clusterdns "$*"
}
expect_metric_ge() {  # 'name{labels}' MIN
  local v; v=$(metric "$1")
  [ "$v" -ge "$2" ] || fail "$1 is $v, expected >= $2"
}
expect_metric_eq() {  # 'name{labels}' VALUE
  local v; v=$(metric "$1")
  [ "$v" -eq "$2" ] || fail "$1 is $v, expected $2"
}
up() { echo "{upstream=\"127.0.0.1:$1\"}"; }

# kdig output without what differs between two servers for the same data: the ID and timings.
# The header line, flags, counts, every section and the size ("Received N B") stay.
kdig_at() {  # PORT kdig-args... (the queries are never retried: one kdig = one query)
  local port=$1; shift
  { kdig @127.0.0.1 -p "$port" +timeout=2 +retry=0 "$@" 2>&1 || true; } |
    sed -e 's/; id: [0-9]*/; id: X/' -e '/^;; Time /d' -e '/^;; From /d' -e 's/ in [0-9.]* ms$//'
}
# The answer section alone (kdig prints a blank line before the one it got after a TC retry).
answer_at() {  # PORT kdig-args...
  local port=$1; shift
  { kdig @127.0.0.1 -p "$port" +timeout=2 +retry=0 +noall +answer "$@" 2>/dev/null || true; } | sed '/^$/d'
}
status_of() { sed -n 's/.*status: \([A-Z]*\);.*/\1/p' <<<"$1"; }
forwarded=0  # queries for example.test sent to clusterdns, each exactly once

# The same query to Knot and through clusterdns: identical but for the ID.
same_as_knot() {  # STATUS kdig-args...
  local want=$1; shift
  local direct relayed
  direct=$(kdig_at "$knot_port" "$@")
  relayed=$(kdig_at "$dns_port" "$@")
  forwarded=$((forwarded + 1))
  [ "$(status_of "$direct")" = "$want" ] || fail "Knot itself answers $* with: $direct"
  [ "$direct" = "$relayed" ] || fail "relayed answer for [$*] differs from Knot's:
--- Knot
$direct
--- clusterdns
$relayed"
}

start_knot "$src/tests/e2e/forward/example.test.zone" "$src/tests/e2e/forward/knot.conf.in" example.test
echo "knotd $knot_pid serves example.test on 127.0.0.1:$knot_port"

# --- 1. one upstream: relayed answers ----------------------------------------------------------
start_clusterdns --upstream=127.0.0.1:"$knot_port"
echo "clusterdns on 127.0.0.1:$dns_port (http $http_port) --upstream=127.0.0.1:$knot_port"

# Cluster names: from the table, not forwarded (the counters stay at 0).
ask() { kdig @127.0.0.1 -p "$dns_port" +short +timeout=2 +retry=0 "$@"; }
[ "$(ask redis-master.default.svc.cluster.local)" = 10.254.7.160 ] || fail "redis-master A over UDP"
[ "$(ask +tcp redis-master.default.svc.cluster.local)" = 10.254.7.160 ] || fail "redis-master A over TCP"
nx=$(kdig_at "$dns_port" kube-dns.default.svc.cluster.local)
[ "$(status_of "$nx")" = NXDOMAIN ] || fail "kube-dns.default.svc.cluster.local is not NXDOMAIN: $nx"
grep -q "cluster.local.*SOA" <<<"$nx" || fail "no cluster.local SOA in the NXDOMAIN: $nx"
expect_metric_eq clusterdns_forward_requests_total 0
expect_metric_eq "clusterdns_upstream_queries_total$(up "$knot_port")" 0
echo "cluster names answered from the table, nothing forwarded"

# Relayed = Knot's answer byte for byte but the ID (the default kdig query has EDNS).
same_as_knot NOERROR WwW.ExAmPlE.TeSt A
same_as_knot NOERROR www.example.test AAAA
same_as_knot NOERROR www.example.test TXT
same_as_knot NOERROR alias.example.test A
same_as_knot NOERROR +norec mail.example.test A
same_as_knot NOERROR +bufsize=1232 www.example.test A  # with an OPT (kdig sends none by default)
same_as_knot NOERROR www.example.test MX           # NODATA: the SOA in authority
same_as_knot NXDOMAIN nope.example.test A
same_as_knot NXDOMAIN +tcp nope.example.test AAAA
same_as_knot NOERROR +tcp WwW.ExAmPlE.TeSt A
echo "relayed answers are Knot's (UDP and TCP, with and without EDNS, NOERROR, NODATA, NXDOMAIN)"

nx=$(kdig_at "$dns_port" nope.example.test A)
forwarded=$((forwarded + 1))
grep -Eq '^example\.test\.[[:space:]]+45[[:space:]]+IN[[:space:]]+SOA[[:space:]]' <<<"$nx" ||
  fail "NXDOMAIN from example.test without its SOA (negative TTL 45) in authority: $nx"
grep -q "AUTHORITY: 1" <<<"$nx" || fail "NXDOMAIN authority section: $nx"

# The question's case survives, in the question and in the answer owners (kdig prints names
# lowered; dig prints them as received). dig, like kdig, ignores a reply with a wrong ID.
case_out=$(dig @127.0.0.1 -p "$dns_port" +tries=1 +time=2 +noall +question +answer WwW.ExAmPlE.TeSt A) || true
forwarded=$((forwarded + 1))
grep -q '^;WwW\.ExAmPlE\.TeSt\.[[:space:]]' <<<"$case_out" || fail "question case not kept: $case_out"
[ "$(grep -c '^WwW\.ExAmPlE\.TeSt\.[[:space:]].*IN[[:space:]]A[[:space:]]192\.0\.2\.1[01]$' <<<"$case_out")" = 2 ] ||
  fail "answers not in the query's case: $case_out"
echo "question case kept: $(head -1 <<<"$case_out" | tr -s '\t ' ' ')"

# The big TXT: Knot truncates at 1232 bytes over UDP; the forwarder retries over TCP.
big_full=$(answer_at "$knot_port" +tcp big.example.test TXT)
[ "$(wc -l <<<"$big_full")" = 12 ] || fail "Knot's big TXT over TCP is not 12 records: $big_full"
big_knot_udp=$(kdig_at "$knot_port" +bufsize=4096 +ignore big.example.test TXT)
grep -q "Flags: qr aa tc" <<<"$big_knot_udp" || fail "Knot does not truncate the big TXT over UDP: $big_knot_udp"

big_udp=$(kdig_at "$dns_port" +bufsize=4096 +ignore big.example.test TXT)
forwarded=$((forwarded + 1))
grep -q "Flags: qr aa rd;" <<<"$big_udp" || fail "big TXT over UDP (4096) through clusterdns is truncated: $big_udp"
[ "$(answer_at "$dns_port" +bufsize=4096 +ignore big.example.test TXT)" = "$big_full" ] ||
  fail "big TXT over UDP (4096) through clusterdns is not Knot's full RRset"
forwarded=$((forwarded + 1))
expect_metric_ge "clusterdns_upstream_tcp_retries_total$(up "$knot_port")" 2
[ "$(answer_at "$dns_port" +tcp big.example.test TXT)" = "$big_full" ] ||
  fail "big TXT over TCP through clusterdns is not Knot's full RRset"
forwarded=$((forwarded + 1))
big_tc=$(kdig_at "$dns_port" +noedns +ignore big.example.test TXT)
forwarded=$((forwarded + 1))
grep -q "Flags: qr aa tc rd;" <<<"$big_tc" && grep -q "ANSWER: 0;" <<<"$big_tc" ||
  fail "big TXT to a client without EDNS is not a TC reply: $big_tc"
big_retry=$(answer_at "$dns_port" +noedns big.example.test TXT)
forwarded=$((forwarded + 2))  # the TC over UDP, then kdig's own retry over TCP
[ "$big_retry" = "$big_full" ] || fail "kdig's TCP retry after the TC did not get the full RRset"
echo "big TXT: full over UDP with a 4096 buffer (upstream TCP retry), TC without EDNS, full over TCP"

# Concurrent clients, UDP and TCP at once (TCP replies on one connection may come out of order).
clients=()
for i in $(seq 10); do
  kdig @127.0.0.1 -p "$dns_port" +short +timeout=2 +retry=0 www.example.test A >"$work/par.udp.$i" 2>&1 &
  clients+=($!)
  kdig @127.0.0.1 -p "$dns_port" +short +timeout=2 +retry=0 +tcp mail.example.test A >"$work/par.tcp.$i" 2>&1 &
  clients+=($!)
done
wait_ok=1
for j in "${clients[@]}"; do wait "$j" || wait_ok=0; done
forwarded=$((forwarded + 20))
[ "$wait_ok" = 1 ] || fail "a concurrent kdig failed"
for i in $(seq 10); do
  [ "$(sort "$work/par.udp.$i" | tr '\n' ' ')" = "192.0.2.10 192.0.2.11 " ] ||
    fail "concurrent UDP query $i: $(cat "$work/par.udp.$i")"
  [ "$(cat "$work/par.tcp.$i")" = 192.0.2.25 ] || fail "concurrent TCP query $i: $(cat "$work/par.tcp.$i")"
done
# One TCP connection kept open for three queries in turn, each answered with its own data.
pipelined=$(kdig @127.0.0.1 -p "$dns_port" +tcp +keepopen +short +timeout=2 +retry=0 \
  www.example.test AAAA mail.example.test A alias.example.test CNAME) || true
forwarded=$((forwarded + 3))
[ "$pipelined" = "2001:db8::10
192.0.2.25
www.example.test." ] || fail "three queries on one TCP connection: $pipelined"
echo "20 concurrent clients (UDP+TCP) and 3 queries on one kept-open TCP connection answered"

# The counters: every query above for example.test was forwarded and relayed exactly once.
series=(clusterdns_forward_requests_total clusterdns_forward_relayed_total clusterdns_forward_in_flight)
for cause in deadline cap unreachable stopped; do series+=("clusterdns_forward_servfail_total{cause=\"$cause\"}"); done
for reason in spoofed_id spoofed_question unexpected_source malformed; do
  series+=("clusterdns_forward_dropped_total{reason=\"$reason\"}")
done
for counter in queries answers timeouts tcp_retries errors; do
  series+=("clusterdns_upstream_${counter}_total$(up "$knot_port")")
done
all=$(metrics)
for s in "${series[@]}"; do
  awk -v m="$s" '$1 == m { found = 1 } END { exit !found }' <<<"$all" || fail "/metrics has no $s"
done
for reason in spoofed_id spoofed_question unexpected_source malformed; do
  expect_metric_eq "clusterdns_forward_dropped_total{reason=\"$reason\"}" 0
done
expect_metric_eq clusterdns_forward_requests_total "$forwarded"
expect_metric_eq clusterdns_forward_relayed_total "$forwarded"
expect_metric_eq clusterdns_forward_in_flight 0
expect_metric_ge "clusterdns_upstream_queries_total$(up "$knot_port")" "$forwarded"
expect_metric_ge "clusterdns_upstream_answers_total$(up "$knot_port")" "$forwarded"
expect_metric_eq "clusterdns_upstream_timeouts_total$(up "$knot_port")" 0
expect_metric_eq "clusterdns_upstream_errors_total$(up "$knot_port")" 0
for cause in deadline cap unreachable stopped; do
  expect_metric_eq "clusterdns_forward_servfail_total{cause=\"$cause\"}" 0
done
[ "$(ask redis-master.default.svc.cluster.local)" = 10.254.7.160 ] || fail "redis-master A after forwarding"
expect_metric_eq clusterdns_forward_requests_total "$forwarded"
echo "metrics: $forwarded forwarded, relayed, counted per upstream; cluster names not counted"
stop_clusterdns

# --- 2. a dead first upstream, Knot stopped, Knot gone ------------------------------------------
dead_port=$(free_port) || fail "no free port for the dead upstream"
start_clusterdns --upstream=127.0.0.1:"$dead_port",127.0.0.1:"$knot_port"
echo "clusterdns --upstream=127.0.0.1:$dead_port (nothing there),127.0.0.1:$knot_port"
for name in www.example.test WWW.example.test www.EXAMPLE.test wWw.example.test; do
  start=$(now_ms)
  got=$({ kdig @127.0.0.1 -p "$dns_port" +short +timeout=2 +retry=0 "$name" A || true; } | sort | tr '\n' ' ')
  elapsed=$(($(now_ms) - start))
  [ "$got" = "192.0.2.10 192.0.2.11 " ] || fail "no answer for $name with a dead first upstream: [$got]"
  ((elapsed < deadline_ms)) || fail "$name with a dead first upstream took $elapsed ms (deadline $deadline_ms ms)"
  echo "  $name answered in $elapsed ms"
done
expect_metric_ge "clusterdns_upstream_errors_total$(up "$dead_port")" 1
expect_metric_ge "clusterdns_upstream_answers_total$(up "$knot_port")" 4
expect_metric_eq "clusterdns_upstream_answers_total$(up "$dead_port")" 0
expect_metric_eq clusterdns_forward_relayed_total 4
echo "dead first upstream (ICMP unreachable): the next one answers, under the deadline"

# Knot stopped (not gone): its socket stays, nothing answers, no ICMP: SERVFAIL at the deadline.
kill -STOP "$knot_pid"
start=$(now_ms)
sf=$(kdig_at "$dns_port" +timeout=3 mail.example.test A)
elapsed=$(($(now_ms) - start))
kill -CONT "$knot_pid"
[ "$(status_of "$sf")" = SERVFAIL ] || fail "Knot stopped: not SERVFAIL: $sf"
((elapsed >= deadline_ms - 50 && elapsed < deadline_ms + slack_ms)) ||
  fail "Knot stopped: SERVFAIL after $elapsed ms, expected at the ${deadline_ms} ms deadline"
grep -q "QUERY: 1;" <<<"$sf" || fail "the SERVFAIL has no question: $sf"
expect_metric_eq 'clusterdns_forward_servfail_total{cause="deadline"}' 1
expect_metric_ge "clusterdns_upstream_timeouts_total$(up "$knot_port")" 1
echo "Knot stopped: SERVFAIL after $elapsed ms (deadline $deadline_ms ms)"

# Continued: answers again (Knot's late answers to the stopped query are dropped, not relayed).
got=""
for _ in $(seq 20); do
  got=$(kdig @127.0.0.1 -p "$dns_port" +short +timeout=2 +retry=0 mail.example.test A) || true
  [ "$got" = 192.0.2.25 ] && break
  sleep 0.1
done
[ "$got" = 192.0.2.25 ] || fail "Knot continued: no answer through clusterdns: [$got]"
echo "Knot continued: answered again"

# Knot gone: both upstreams refuse at once (ICMP), SERVFAIL well within the deadline.
stop_pid "$knot_pid"; knot_pid=""
start=$(now_ms)
sf=$(kdig_at "$dns_port" +timeout=3 www.example.test A)
elapsed=$(($(now_ms) - start))
[ "$(status_of "$sf")" = SERVFAIL ] || fail "Knot gone: not SERVFAIL: $sf"
((elapsed < deadline_ms + slack_ms)) || fail "Knot gone: SERVFAIL after $elapsed ms (deadline $deadline_ms ms)"
sf_tcp=$(kdig_at "$dns_port" +tcp +timeout=3 www.example.test A)
[ "$(status_of "$sf_tcp")" = SERVFAIL ] || fail "Knot gone: not SERVFAIL over TCP: $sf_tcp"
expect_metric_ge 'clusterdns_forward_servfail_total{cause="unreachable"}' 1
[ "$(ask redis-master.default.svc.cluster.local)" = 10.254.7.160 ] || fail "redis-master A with no upstream left"
echo "Knot gone: SERVFAIL after $elapsed ms; cluster names still answered"
stop_clusterdns

# --- 3. --upstream=none: REFUSED outside the zone ------------------------------------------------
start_clusterdns --upstream=none
refused=$(kdig_at "$dns_port" www.example.test A)
[ "$(status_of "$refused")" = REFUSED ] || fail "--upstream=none: not REFUSED: $refused"
refused=$(kdig_at "$dns_port" +tcp www.example.test A)
[ "$(status_of "$refused")" = REFUSED ] || fail "--upstream=none: not REFUSED over TCP: $refused"
[ "$(ask redis-master.default.svc.cluster.local)" = 10.254.7.160 ] || fail "redis-master A with --upstream=none"
expect_metric_eq clusterdns_forward_requests_total 0
echo "--upstream=none: REFUSED"
stop_clusterdns
echo PASS
