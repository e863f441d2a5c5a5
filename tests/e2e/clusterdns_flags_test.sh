#!/usr/bin/env bash
# clusterdns's command line (issue 3): --help lists every flag and exits 0; bad flags, an
# unreadable objects file, a bad URL or kubeconfig, a port in use: one line naming the problem and
# exit 2; SIGINT and SIGTERM stop it cleanly (exit 0).
#   clusterdns_flags_test.sh CLUSTERDNS SOURCE_DIR
set -euo pipefail
clusterdns=$1 src=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
objects=$src/tests/testdata/objects/kube_dns_walkthrough.json

# expect_error WORDS-IN-MESSAGE -- ARGS...: exit 2, exactly one line on stderr, naming the problem.
expect_error() {
  local want=$1; shift
  local rc=0
  "$clusterdns" "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
  if [ "$rc" != 2 ]; then echo "FAIL: exit $rc (want 2) for: $*"; cat "$work/err"; exit 1; fi
  if [ "$(wc -l <"$work/err")" != 1 ]; then echo "FAIL: not one line for: $*"; cat "$work/err"; exit 1; fi
  if ! grep -qF -- "$want" "$work/err"; then
    echo "FAIL: message for [$*] does not name [$want]:"; cat "$work/err"; exit 1
  fi
  echo "ok: $* → $(cat "$work/err")"
}

"$clusterdns" --help >"$work/help"
for flag in --domain --ttl --legacy-names --pod-records --service-cidr --pod-cidr --ip \
            --kube-master-url --kubeconfig --objects-file --listen --http-addr --upstream \
            --resolv-conf --forward-timeout --forward-deadline --forward-max-in-flight; do
  grep -q -- "^  $flag=" "$work/help" || { echo "FAIL: --help does not list $flag"; exit 1; }
done
echo "ok: --help lists every flag"

# The manifests in deploy/ pass only arguments the binary accepts (names and values parse).
for manifest in "$src"/deploy/*.yaml; do
  mapfile -t args < <(sed -n 's/^ *- \(--[a-z-]*=.*\)$/\1/p' "$manifest")
  ((${#args[@]} == 0)) && continue
  "$clusterdns" "${args[@]}" --help >/dev/null 2>"$work/err" || {
    echo "FAIL: $manifest passes arguments clusterdns refuses:"; cat "$work/err"; exit 1; }
  echo "ok: the arguments of $(basename "$manifest") parse: ${args[*]}"
done

expect_error "unknown flag --bogus" --bogus --listen=127.0.0.1:0 --objects-file="$objects"
expect_error "--ttl" --ttl=abc --listen=127.0.0.1:0 --objects-file="$objects"
expect_error "no source of cluster objects" --listen=127.0.0.1:0
expect_error "nothing to serve on" --objects-file="$objects"
expect_error "$work/missing.json" --listen=127.0.0.1:0 --objects-file="$work/missing.json" --http-addr= \
  --upstream=none
echo '{"kind": "List", "items": [' >"$work/broken.json"
expect_error "$work/broken.json" --listen=127.0.0.1:0 --objects-file="$work/broken.json" --http-addr= \
  --upstream=none
expect_error "--kube-master-url" --listen=127.0.0.1:0 --kube-master-url=htp://x
expect_error "$work/nokubeconfig" --listen=127.0.0.1:0 --kubeconfig="$work/nokubeconfig"
expect_error "--listen" --listen=999.1.1.1:53 --objects-file="$objects"
expect_error "--service-cidr" --listen=127.0.0.1:0 --objects-file="$objects" --service-cidr=10.0.0.1/8
expect_error "--upstream" --listen=127.0.0.1:0 --objects-file="$objects" --upstream=198.18.0.1:99999
expect_error "--upstream" --listen=127.0.0.1:0 --objects-file="$objects" --upstream=not-an-address
# Without --upstream the nameservers of --resolv-conf are the upstreams (never the real file here).
printf '# no nameserver lines\nsearch example.test\n' >"$work/resolv.conf"
expect_error "$work/resolv.conf" --listen=127.0.0.1:0 --objects-file="$objects" \
  --resolv-conf="$work/resolv.conf"
expect_error "--forward-timeout" --listen=127.0.0.1:0 --objects-file="$objects" --upstream=none \
  --forward-timeout=0s
expect_error "--forward-max-in-flight" --listen=127.0.0.1:0 --objects-file="$objects" \
  --upstream=none --forward-max-in-flight=0
expect_error "--ip" --no-pci -- --listen=127.0.0.1:0 --objects-file="$objects"

# EAL options without a port: the EAL starts (its own log lines), then one clear error, exit 2.
rc=0
"$clusterdns" --no-pci --no-huge -m 64 --no-shconf --no-telemetry --file-prefix="cdns-flags-$$" -l 0 \
  -- --ip=198.18.0.53 --objects-file="$objects" --http-addr= --upstream=none >"$work/out" 2>"$work/err" </dev/null || rc=$?
rmdir "/var/run/dpdk/cdns-flags-$$" 2>/dev/null || true
[ "$rc" = 2 ] || { echo "FAIL: exit $rc (want 2) with EAL options and no port"; cat "$work/err"; exit 1; }
tail -1 "$work/err" | grep -q "^clusterdns: .*port" ||
  { echo "FAIL: the last line does not name the missing port:"; tail -3 "$work/err"; exit 1; }
echo "ok: EAL options and no port → $(tail -1 "$work/err")"

# A port in use (by a socket this test holds) names the address.
"$clusterdns" --listen=127.0.0.1:0 --objects-file="$objects" --http-addr=127.0.0.1:0 --upstream=none \
  2>"$work/first.log" &
pids+=($!)
for _ in $(seq 100); do grep -q serving "$work/first.log" && break; sleep 0.05; done
port=$(sed -n 's/.*udp+tcp \[127\.0\.0\.1:\([0-9]*\)\].*/\1/p' "$work/first.log")
[ -n "$port" ] || { echo "FAIL: first instance did not start"; cat "$work/first.log"; exit 1; }
expect_error "127.0.0.1:$port" --listen=127.0.0.1:"$port" --objects-file="$objects" --http-addr=

for sig in INT TERM; do
  "$clusterdns" --listen=127.0.0.1:0 --objects-file="$objects" --http-addr=127.0.0.1:0 \
    --upstream=none 2>"$work/sig.log" &
  pid=$!
  for _ in $(seq 100); do grep -q serving "$work/sig.log" && break; sleep 0.05; done
  kill -"$sig" "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { echo "FAIL: exit $rc after SIG$sig"; cat "$work/sig.log"; exit 1; }
  grep -q "SIG$sig, stopping" "$work/sig.log" || { echo "FAIL: no stop line after SIG$sig"; exit 1; }
  echo "ok: SIG$sig stops cleanly"
done
echo PASS
