# Sourced by the end-to-end tests that run clusterdns in --listen mode in front of a knotd of their
# own on 127.0.0.1: the temp dir `work` and its removal with both processes on exit, `fail`
# (shows the logs and the /metrics lines matching $failure_metrics, then exits 1), the processes
# (started and stopped by PID), Knot on a free port, clusterdns's start and clean stop, and its
# HTTP endpoints. The sourcing test defines `src` (the source tree) and `failure_metrics` first.
#
#   failure_metrics='^clusterdns_cache_'; source knot_loopback.sh
#   start_knot "$src/tests/e2e/cache/cache.test.zone" "$src/tests/e2e/cache/knot.conf.in" cache.test
#   "$clusterdns" --listen=127.0.0.1:0 --http-addr=127.0.0.1:0 ... 2>"$work/clusterdns.log" &
#   cdns_pid=$!; wait_for_clusterdns "what was started"   # sets dns_port, http_port
#   metric 'clusterdns_cache_hits_total{path="listen"}'; stop_clusterdns

work=$(mktemp -d)
knot_pid="" cdns_pid="" http_port=""
cleanup() {
  stop_pid "$cdns_pid"
  stop_pid "$knot_pid"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- clusterdns log"; tail -30 "$work/clusterdns.log" 2>/dev/null || true
  echo "--- knot log"; tail -15 "$work/knot.log" 2>/dev/null || true
  echo "--- metrics"
  [ -z "$http_port" ] || curl -s --max-time 2 "http://127.0.0.1:$http_port/metrics" |
    grep -E "$failure_metrics" || true
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

stop_pid() {  # PID: TERM (after CONT: it may be stopped), KILL if it does not go within 3 s
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# A port below the ephemeral range (so no kernel-chosen port races us) with no TCP or UDP socket
# on it at all, listening or not.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    [ -z "$(ss -Hantu "( sport = :$p )")" ] && { echo "$p"; return 0; }
  done
  return 1
}

# start_knot ZONE_FILE CONF_TEMPLATE APEX: knotd serving APEX from ZONE_FILE on 127.0.0.1, its
# config, pid file, control socket and database under $work/knot; sets knot_port and knot_pid
# once the apex SOA is answered (three ports tried).
start_knot() {
  local zone=$1 template=$2 apex=$3 attempt out
  mkdir -p "$work/knot/db"
  for attempt in 1 2 3; do
    knot_port=$(free_port) || fail "no free port for knotd"
    sed -e "s|@RUN@|$work/knot|g" -e "s|@PORT@|$knot_port|g" -e "s|@ZONE@|$zone|g" \
      "$template" > "$work/knot/knot.conf"
    knotd -c "$work/knot/knot.conf" 2>"$work/knot.log" &
    knot_pid=$!
    for _ in $(seq 100); do
      kill -0 "$knot_pid" 2>/dev/null || break
      out=$(kdig @127.0.0.1 -p "$knot_port" +timeout=1 +retry=0 "$apex" SOA 2>&1) || true
      grep -q "status: NOERROR" <<<"$out" && grep -q "ANSWER: 1" <<<"$out" && return 0
      sleep 0.05
    done
    echo "knotd did not come up on port $knot_port (attempt $attempt)"
    stop_pid "$knot_pid"; knot_pid=""
  done
  fail "knotd did not start"
}

# wait_for_clusterdns WHAT: the clusterdns just started as cdns_pid (stderr in
# $work/clusterdns.log) serves and is ready; sets dns_port and http_port.
wait_for_clusterdns() {
  dns_port="" http_port=""
  for _ in $(seq 200); do
    grep -q "serving" "$work/clusterdns.log" && break
    kill -0 "$cdns_pid" 2>/dev/null || fail "clusterdns exited at start ($1)"
    sleep 0.05
  done
  dns_port=$(sed -n 's/.*udp+tcp \[127\.0\.0\.1:\([0-9]*\)\].*/\1/p' "$work/clusterdns.log")
  http_port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$work/clusterdns.log")
  [ -n "$dns_port" ] && [ -n "$http_port" ] || fail "clusterdns did not start ($1)"
  for _ in $(seq 100); do [ "$(ready)" = 200 ] && return 0; sleep 0.05; done
  fail "/ready is not 200 after the first sync"
}

# SIGTERM stops clusterdns cleanly (exit 0, the forwarder thread joined); in the ASan build a
# leak or other report at exit makes it non-zero too.
stop_clusterdns() {
  local rc=0 pid=$cdns_pid
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && fail "clusterdns did not stop within 5 s of SIGTERM"
  wait "$pid" || rc=$?
  cdns_pid=""
  [ "$rc" = 0 ] || fail "clusterdns exited with $rc after SIGTERM"
  ! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$work/clusterdns.log" ||
    fail "sanitizer report in the clusterdns log"
}

ready() { curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/ready"; }
metrics() { curl -s --max-time 2 "http://127.0.0.1:$http_port/metrics"; }
metric() {  # 'name{labels}' → value, or 0 when the series is absent
  metrics | awk -v m="$1" '$1 == m { v = $2 } END { print (v == "" ? 0 : v) + 0 }'
}
