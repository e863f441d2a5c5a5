#!/usr/bin/env bash
# The answer cache in --listen mode (issue 5, "Cache on the fast path"), against the test's own
# knotd serving cache.test on 127.0.0.1 (tests/e2e/cache/: positive TTLs 300, negatives 3 s):
#   - a first query is forwarded and relayed (Knot's flags: aa, no ra); the same (name, type)
#     again, in another letter case (dig: kdig lowercases), is answered from the cache: the
#     forwarder and the upstream counters do not move, cache_hits{path="listen"} does, the flags
#     are qr rd ra (AA clear, RA set), the ID is the client's (dig drops a reply with a wrong ID)
#     and so is the question's spelling
#   - the TTL counts down: 2 s later the cached A has TTL 297..299
#   - NXDOMAIN and NODATA (SOA in authority, TTL 3) are cached: the second query is a hit with the
#     same rcode and the SOA; 4 s later they have expired and go upstream again
#   - with and without EDNS: one entry answers both, with an OPT exactly when the client sent one
#   - queries with DO or CD are not stored
#   - a cluster name is never cached: NXDOMAIN before its Service exists, answered at once (within
#     the objects file's reload) after the file gains it; no cache counter moves
#   - /metrics: entries, bytes, inserts, evictions by reason
#   - --cache-size=0: every query goes upstream, nothing stored, no hit
#   - --cache-size=2: after 5 distinct names at most 2 entries, >= 3 capacity evictions
# Everything on 127.0.0.1; --upstream is always explicit (never the host's resolv.conf).
#   clusterdns_cache_test.sh CLUSTERDNS SOURCE_DIR
# Exit 77 (skip) without root, knotd, kdig, dig, curl or ss.
set -euo pipefail
clusterdns=$1 src=$2

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for tool in knotd kdig dig curl ss; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (Debian packages knot, knot-dnsutils, dnsutils, curl)"
done

failure_metrics='^clusterdns_(cache|forward|upstream)_'  # what `fail` shows of /metrics
source "$(dirname "$0")/knot_loopback.sh"

# Captured first: `cmd | grep -q` under pipefail fails when grep stops reading early.
help_text=$("$clusterdns" --help 2>&1 || true)
grep -q -- "--cache-size" <<<"$help_text" || fail "clusterdns --help lists no --cache-size"
grep -q -- "--cache-bytes" <<<"$help_text" || fail "clusterdns --help lists no --cache-bytes"

# --- clusterdns ---------------------------------------------------------------------------------
# The objects file in a directory of its own (the test rewrites it; the watcher sees only that).
mkdir "$work/objects"
objects=$work/objects/objects.json
cp "$src/tests/testdata/objects/kube_dns_walkthrough.json" "$objects"

start_clusterdns() {  # extra flags (--cache-size=...)
  : > "$work/clusterdns.log"
  "$clusterdns" --listen=127.0.0.1:0 --http-addr=127.0.0.1:0 --objects-file="$objects" \
    --upstream=127.0.0.1:"$knot_port" --forward-timeout=2s --forward-deadline=5s "$@" \
    2>"$work/clusterdns.log" &
  cdns_pid=$!
  wait_for_clusterdns "$*"
}
hits='clusterdns_cache_hits_total{path="listen"}'
fwd=clusterdns_forward_requests_total
upq() { echo "clusterdns_upstream_queries_total{upstream=\"127.0.0.1:$knot_port\"}"; }
upt() { echo "clusterdns_upstream_timeouts_total{upstream=\"127.0.0.1:$knot_port\"}"; }
inserts=clusterdns_cache_inserts_total
evicted() { echo "clusterdns_cache_evictions_total{reason=\"$1\"}"; }

# mark; ...; moved FWD UPSTREAM HITS WHAT: what the queries since mark did to the forwarder's
# requests, the upstream's UDP queries and the listener's cache hits (exact differences). A try
# that Knot did not answer within the try timeout (a stalled, overloaded machine) is asked again
# and counted in upstream_timeouts: such retries are not held against UPSTREAM.
counts() {  # → "forwarded upstream_queries hits upstream_timeouts", from one scrape
  metrics | awk -v a="$fwd" -v b="$(upq)" -v c="$hits" -v d="$(upt)" \
    '$1 == a { w = $2 } $1 == b { x = $2 } $1 == c { y = $2 } $1 == d { z = $2 }
     END { print w + 0, x + 0, y + 0, z + 0 }'
}
mark() { read -r m_fwd m_up m_hits m_to <<<"$(counts)"; }
moved() {
  local c_fwd c_up c_hits c_to d
  read -r c_fwd c_up c_hits c_to <<<"$(counts)"
  d="$((c_fwd - m_fwd)) $((c_up - m_up - (c_to - m_to))) $((c_hits - m_hits))"
  ((c_to == m_to)) || echo "note: $4: $((c_to - m_to)) upstream try timeouts (retried)"
  [ "$d" = "$1 $2 $3" ] || fail "$4: forwarded, upstream queries (less retries after timeouts), cache hits moved by [$d]; want [$1 $2 $3]"
}
sleep_until() {  # MS (now_ms clock)
  local wait_ms=$(($1 - $(now_ms)))
  ((wait_ms <= 0)) || sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
}

# One query, never retried (one kdig = one query); the whole output. The forwarder's try timeout
# (2 s) is long so that a loaded machine seldom makes it ask Knot twice; the clients wait longer
# than its deadline (5 s).
kq() { kdig @127.0.0.1 -p "$dns_port" +timeout=6 +retry=0 "$@" 2>&1 || true; }
dq() { dig @127.0.0.1 -p "$dns_port" +tries=1 +time=6 +nocookie "$@" 2>&1 || true; }
source "$src/tests/e2e/cache/dig_output.sh"
# expect_answer OUTPUT NAME TYPE DATA TTL_MIN TTL_MAX WHAT: exactly one answer record.
expect_answer() {
  local rr owner ttl class type data
  rr=$(section ANSWER "$1")
  [ "$(wc -l <<<"$rr")" = 1 ] || fail "$7: not one answer record: $1"
  read -r owner ttl class type data <<<"$rr"
  [ "${owner,,} $class $type $data" = "${2,,} IN $3 $4" ] || fail "$7: answer is [$rr]: $1"
  ttl_in "$ttl" "$5" "$6" || fail "$7: TTL $ttl, want $5..$6: $1"
}

start_knot "$src/tests/e2e/cache/cache.test.zone" "$src/tests/e2e/cache/knot.conf.in" cache.test
echo "knotd $knot_pid serves cache.test on 127.0.0.1:$knot_port"

# --- 1. the default cache ------------------------------------------------------------------------
start_clusterdns
echo "clusterdns on 127.0.0.1:$dns_port (http $http_port) --upstream=127.0.0.1:$knot_port"
all=$(metrics)
for s in "$hits" clusterdns_cache_entries clusterdns_cache_bytes "$inserts" \
    "$(evicted capacity)" "$(evicted expired)" "$(evicted replaced)"; do
  awk -v m="$s" '$1 == m { found = 1 } END { exit !found }' <<<"$all" || fail "/metrics has no $s"
done
[ "$(metric clusterdns_cache_entries)" = 0 ] || fail "cache entries at start: $(metric clusterdns_cache_entries)"

# Positive: forwarded once, then from the cache in another spelling.
mark
out=$(kq www.cache.test A)
[ "$(status_of "$out")" = NOERROR ] && [ "$(flags_of "$out")" = "$relayed_flags" ] ||
  fail "first www.cache.test A is not Knot's answer relayed: $out"
expect_answer "$out" www.cache.test. A 192.0.2.10 300 300 "first www.cache.test A"
moved 1 1 0 "first www.cache.test A"
[ "$(metric "$inserts")" = 1 ] && [ "$(metric clusterdns_cache_entries)" = 1 ] ||
  fail "after one answer: $(metric "$inserts") inserts, $(metric clusterdns_cache_entries) entries"
(($(metric clusterdns_cache_bytes) > 0)) || fail "one entry, clusterdns_cache_bytes is 0"

mark
out=$(dq WwW.CaChE.TeSt A)
[ "$(status_of "$out")" = NOERROR ] || fail "WwW.CaChE.TeSt A from the cache (dig drops a wrong ID): $out"
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "cached answer flags [$(flags_of "$out")], want [$cached_flags]: $out"
grep -Eq '^;WwW\.CaChE\.TeSt\.[[:space:]]+IN[[:space:]]+A$' <<<"$out" || fail "question spelling not kept: $out"
expect_answer "$out" www.cache.test. A 192.0.2.10 299 300 "WwW.CaChE.TeSt A from the cache"
moved 0 0 1 "WwW.CaChE.TeSt A (cached)"
echo "ok: www.cache.test A forwarded once, then WwW.CaChE.TeSt from the cache ($(section ANSWER "$out" | tr -s '\t ' ' '))"

# Negative: NXDOMAIN and NODATA, each forwarded once, then from the cache with the SOA.
mark
out=$(kq nope.nx.cache.test A)
expect_negative "$out" NXDOMAIN 3 3 "first nope.nx.cache.test A"
[ "$(flags_of "$out")" = "$relayed_flags" ] || fail "first NXDOMAIN not relayed from Knot: $out"
out=$(kq v4only.cache.test AAAA)
expect_negative "$out" NOERROR 3 3 "first v4only.cache.test AAAA (NODATA)"
moved 2 2 0 "first NXDOMAIN and NODATA"
neg_stored_ms=$(now_ms)
mark
out=$(dq NoPe.Nx.CaChE.tEsT A)
expect_negative "$out" NXDOMAIN 2 3 "NoPe.Nx.CaChE.tEsT A from the cache"
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "cached NXDOMAIN flags [$(flags_of "$out")]: $out"
grep -Eq '^;NoPe\.Nx\.CaChE\.tEsT\.[[:space:]]+IN[[:space:]]+A$' <<<"$out" || fail "question spelling not kept: $out"
out=$(kq v4only.cache.test AAAA)
expect_negative "$out" NOERROR 2 3 "v4only.cache.test AAAA (NODATA) from the cache"
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "cached NODATA flags [$(flags_of "$out")]: $out"
moved 0 0 2 "NXDOMAIN and NODATA again (cached)"
echo "ok: NXDOMAIN and NODATA cached with the SOA in authority"

# EDNS: an entry stored from a query without OPT answers one with OPT (with an OPT), and the other
# way round.
mark
out=$(kq +noedns e1.pos.cache.test A)
! has_opt "$out" || fail "e1 without EDNS: an OPT in the reply: $out"
out=$(kq +edns e1.pos.cache.test A)
has_opt "$out" || fail "e1 with EDNS, from the cache: no OPT in the reply: $out"
expect_answer "$out" e1.pos.cache.test. A 192.0.2.30 299 300 "e1 with EDNS from the cache"
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "e1 with EDNS is not from the cache: $out"
moved 1 1 1 "e1.pos.cache.test without, then with EDNS"
mark
out=$(kq +edns e2.pos.cache.test A)
has_opt "$out" || fail "e2 with EDNS: no OPT in the reply: $out"
out=$(kq +noedns e2.pos.cache.test A)
! has_opt "$out" || fail "e2 without EDNS, from the cache: an OPT in the reply: $out"
expect_answer "$out" e2.pos.cache.test. A 192.0.2.30 299 300 "e2 without EDNS from the cache"
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "e2 without EDNS is not from the cache: $out"
moved 1 1 1 "e2.pos.cache.test with, then without EDNS"
echo "ok: with and without EDNS from one entry, an OPT exactly when asked with one"

# The TTL counts down by the whole seconds since the answer was stored (a name of its own, stored
# just before the sleep: nothing else runs in between, so "2 s later" is 2..3 s on a loaded machine).
mark
out=$(kq ttl.pos.cache.test A)
ttl_stored_ms=$(now_ms)
expect_answer "$out" ttl.pos.cache.test. A 192.0.2.30 300 300 "first ttl.pos.cache.test A"
sleep_until $((ttl_stored_ms + 2000))
out=$(kq ttl.pos.cache.test A)
expect_answer "$out" ttl.pos.cache.test. A 192.0.2.30 297 299 "ttl.pos.cache.test A 2 s later"
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "ttl.pos.cache.test A 2 s later is not from the cache: $out"
moved 1 1 1 "ttl.pos.cache.test A, then 2 s later"
echo "ok: 2 s later the cached TTL is $(section ANSWER "$out" | awk '{ print $2 }')"

# The negatives live 3 s (min(SOA TTL, MINIMUM)): at 4 s they go upstream again and are stored
# again (each asked twice in a row: the second is a hit).
sleep_until $((neg_stored_ms + 4000))
expired_before=$(($(metric "$(evicted expired)") + $(metric "$(evicted replaced)")))
mark
out=$(kq nope.nx.cache.test A)
expect_negative "$out" NXDOMAIN 3 3 "nope.nx.cache.test A after 4 s"
[ "$(flags_of "$out")" = "$relayed_flags" ] || fail "NXDOMAIN after 4 s is still from the cache: $out"
out=$(kq nope.nx.cache.test A)
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "NXDOMAIN not stored again after it expired: $out"
expect_negative "$out" NXDOMAIN 2 3 "nope.nx.cache.test A stored again"
moved 1 1 1 "NXDOMAIN after its 3 s, twice"
mark
out=$(kq v4only.cache.test AAAA)
expect_negative "$out" NOERROR 3 3 "v4only.cache.test AAAA after 4 s"
[ "$(flags_of "$out")" = "$relayed_flags" ] || fail "NODATA after 4 s is still from the cache: $out"
out=$(kq v4only.cache.test AAAA)
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "NODATA not stored again after it expired: $out"
moved 1 1 1 "NODATA after its 3 s, twice"
expired=$(($(metric "$(evicted expired)") + $(metric "$(evicted replaced)") - expired_before))
((expired >= 2)) || fail "two expired entries stored again: evictions expired+replaced moved by $expired"
echo "ok: negatives expire after 3 s, go upstream and are stored again"

# Stored so far: www, nope.nx (twice), v4only AAAA (twice), e1, e2, ttl.
[ "$(metric "$inserts")" = 8 ] || fail "clusterdns_cache_inserts_total is $(metric "$inserts"), want 8"
entries=$(metric clusterdns_cache_entries)
[ "$entries" = 6 ] || fail "clusterdns_cache_entries is $entries, want 6 (the expired two replaced)"
[ "$(metric "$(evicted capacity)")" = 0 ] || fail "capacity evictions with a 10000-entry cache"
echo "ok: /metrics: $(metric "$inserts") inserts, $entries entries, $(metric clusterdns_cache_bytes) bytes"

# Cluster names are never cached: NXDOMAIN before the Service exists, answered once it does.
newsvc=cachetest.default.svc.cluster.local
mark
inserts_before=$(metric "$inserts")
for _ in 1 2; do
  out=$(kq "$newsvc" A)
  [ "$(status_of "$out")" = NXDOMAIN ] || fail "$newsvc before its Service: $out"
  [[ " $(flags_of "$out") " == *" aa "* ]] || fail "$newsvc: not the table's authoritative answer: $out"
done
[ "$(kq +short redis-master.default.svc.cluster.local A)" = 10.254.7.160 ] || fail "redis-master A"
service='{"apiVersion":"v1","kind":"Service","metadata":{"name":"cachetest","namespace":"default"},'
service+='"spec":{"type":"ClusterIP","clusterIP":"10.254.9.9","clusterIPs":["10.254.9.9"],'
service+='"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}'
sed "0,/\"items\": \[/s//\"items\": [ $service,/" "$objects" >"$objects.tmp"
mv -f "$objects.tmp" "$objects"
start=$(now_ms)
got=""
while (($(now_ms) - start < 2000)); do
  got=$(kq +short "$newsvc" A)
  [ "$got" = 10.254.9.9 ] && break
  sleep 0.05
done
elapsed=$(($(now_ms) - start))
[ "$got" = 10.254.9.9 ] || fail "$newsvc not answered 2 s after its Service was added: [$got]"
out=$(kq cachetest.default.cluster.local A)
expect_answer "$out" cachetest.default.cluster.local. A 10.254.9.9 0 300 "legacy name of the new Service"
moved 0 0 0 "cluster names"
[ "$(metric "$inserts")" = "$inserts_before" ] || fail "a cluster name was stored in the cache"
echo "ok: $newsvc NXDOMAIN, then answered ${elapsed} ms after the file gained it; never cached"

# DO or CD: the answer is relayed but not stored (the plain query after them still goes upstream).
inserts_before=$(metric "$inserts")
mark
kq +dnssec do.pos.cache.test A >/dev/null
kq +dnssec do.pos.cache.test A >/dev/null
moved 2 2 0 "do.pos.cache.test twice with DO"
[ "$(metric "$inserts")" = "$inserts_before" ] || fail "an answer to a query with DO was stored"
kq do.pos.cache.test A >/dev/null
moved 3 3 0 "do.pos.cache.test without DO after two with DO"
out=$(kq do.pos.cache.test A)
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "do.pos.cache.test without DO not cached: $out"
moved 3 3 1 "do.pos.cache.test once more without DO"
inserts_before=$(metric "$inserts")
mark
kq +cdflag cd.pos.cache.test A >/dev/null
kq +cdflag cd.pos.cache.test A >/dev/null
moved 2 2 0 "cd.pos.cache.test twice with CD"
[ "$(metric "$inserts")" = "$inserts_before" ] ||
  fail "an answer to a query with CD was stored (Knot does not copy CD into its answers)"
kq cd.pos.cache.test A >/dev/null
moved 3 3 0 "cd.pos.cache.test without CD after two with CD"
out=$(kq cd.pos.cache.test A)
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "cd.pos.cache.test without CD not cached: $out"
moved 3 3 1 "cd.pos.cache.test once more without CD"
echo "ok: answers to queries with DO or CD are not stored"
stop_clusterdns

# --- 2. --cache-size=0: no cache ------------------------------------------------------------------
start_clusterdns --cache-size=0
mark
for name in www.cache.test WWW.cache.test www.CACHE.test; do
  out=$(dq "$name" A)
  expect_answer "$out" www.cache.test. A 192.0.2.10 300 300 "$name with --cache-size=0"
  [ "$(flags_of "$out")" = "$relayed_flags" ] || fail "$name with --cache-size=0 is not relayed: $out"
done
out=$(kq nope.nx.cache.test A)
out=$(kq nope.nx.cache.test A)
expect_negative "$out" NXDOMAIN 3 3 "NXDOMAIN with --cache-size=0"
moved 5 5 0 "--cache-size=0: three A, two NXDOMAIN"
[ "$(metric "$inserts") $(metric clusterdns_cache_entries)" = "0 0" ] ||
  fail "--cache-size=0: $(metric "$inserts") inserts, $(metric clusterdns_cache_entries) entries"
echo "ok: --cache-size=0: every query forwarded, nothing stored"
stop_clusterdns

# --- 3. --cache-size=2: capacity evictions --------------------------------------------------------
start_clusterdns --cache-size=2
mark
for i in 1 2 3 4 5; do
  out=$(kq "n$i.pos.cache.test" A)
  expect_answer "$out" "n$i.pos.cache.test." A 192.0.2.30 300 300 "n$i.pos.cache.test"
done
moved 5 5 0 "five distinct names with --cache-size=2"
entries=$(metric clusterdns_cache_entries)
capacity=$(metric "$(evicted capacity)")
((entries <= 2)) || fail "--cache-size=2: $entries entries"
((capacity >= 3)) || fail "--cache-size=2: $capacity capacity evictions after 5 names, want >= 3"
[ "$(metric "$inserts")" = 5 ] || fail "--cache-size=2: $(metric "$inserts") inserts, want 5"
out=$(kq n5.pos.cache.test A)
[ "$(flags_of "$out")" = "$cached_flags" ] || fail "--cache-size=2: the last name stored is not cached: $out"
moved 5 5 1 "the last of five names again"
echo "ok: --cache-size=2: $entries entries, $capacity capacity evictions after 5 names"
stop_clusterdns
echo PASS
