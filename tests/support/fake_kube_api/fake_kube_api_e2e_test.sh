#!/usr/bin/env bash
# End-to-end test of the fake-kube-api binary: serve an objects file with a bearer token, list it
# with curl, then change the file, SIGHUP, and check that an open watch sees the difference.
#   fake_kube_api_e2e_test.sh <fake-kube-api binary> <tests/testdata/objects dir>
set -euo pipefail
bin=$1
objects=$2
work=$(mktemp -d)
pid=""
watch_pid=""
cleanup() {
  [[ -n "$watch_pid" ]] && kill "$watch_pid" 2>/dev/null || true
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cp "$objects/kube_dns_walkthrough.json" "$work/objects.json"
"$bin" --objects-file="$work/objects.json" --token=e2e-token --port-file="$work/port" \
  2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
[[ -s "$work/port" ]] || { cat "$work/server.log" >&2; fail "no port file"; }
url="http://127.0.0.1:$(cat "$work/port")"
auth=(-H "Authorization: Bearer e2e-token")

# Without the token: 401 with a Status body.
code=$(curl -s -o "$work/unauth.json" -w '%{http_code}' "$url/api/v1/services")
[[ "$code" == 401 ]] || fail "expected 401 without a token, got $code"
grep -q '"reason":"Unauthorized"' "$work/unauth.json" || fail "401 body: $(cat "$work/unauth.json")"

curl -sf "${auth[@]}" "$url/api/v1/services" >"$work/services.json"
grep -q '^{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"' \
  "$work/services.json" || fail "not a ServiceList: $(head -c 300 "$work/services.json")"
for name in '"name":"kubernetes"' '"name":"kube-dns"' '"name":"redis-master"'; do
  grep -q "$name" "$work/services.json" || fail "list lacks $name"
done
curl -sf "${auth[@]}" "$url/apis/discovery.k8s.io/v1/endpointslices" >"$work/slices.json"
grep -q '"kind":"EndpointSliceList"' "$work/slices.json" || fail "not an EndpointSliceList"
grep -q '"name":"kube-dns-x7k2p"' "$work/slices.json" || fail "slice list lacks kube-dns-x7k2p"
rv=$(sed -n 's/.*"metadata":{"resourceVersion":"\([0-9]*\)".*/\1/p' "$work/services.json" | head -1)
[[ -n "$rv" ]] || fail "no resourceVersion"

# Watch from that rv, swap the objects file for another cluster and SIGHUP.
curl -sN "${auth[@]}" "$url/api/v1/services?watch=1&resourceVersion=$rv&timeoutSeconds=2" \
  >"$work/watch.jsonl" &
watch_pid=$!
sleep 0.3
cp "$objects/headless.json" "$work/objects.json"
kill -HUP "$pid"
wait "$watch_pid" || fail "the watch did not end cleanly"
watch_pid=""
grep -q '^{"type":"DELETED","object":{"kind":"Service","apiVersion":"v1",.*"name":"kube-dns"' \
  "$work/watch.jsonl" || fail "no DELETED kube-dns: $(cat "$work/watch.jsonl")"
grep -q '^{"type":"ADDED","object":{"kind":"Service",.*"name":"etcd-peers"' "$work/watch.jsonl" \
  || fail "no ADDED etcd-peers: $(cat "$work/watch.jsonl")"
curl -sf "${auth[@]}" "$url/api/v1/namespaces/storage/services" | grep -q '"name":"etcd-peers"' \
  || fail "namespaced list lacks etcd-peers"

kill -TERM "$pid"
wait "$pid" || fail "fake-kube-api exited non-zero after SIGTERM"
pid=""
echo "PASS"
