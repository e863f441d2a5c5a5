#!/usr/bin/env bash
# End-to-end test of the clusterdns-zone binary: golden zone text for the kube-dns walkthrough,
# one-line errors and exit codes for a missing file, invalid JSON, a file that is not a List and
# bad flags; malformed objects skipped with a line naming them while the rest is printed.
#   clusterdns_zone_test.sh PATH/TO/clusterdns-zone REPO_ROOT
set -u
zone=$1
root=$2
data=$root/tests/testdata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Golden output.
"$zone" --objects-file="$data/objects/kube_dns_walkthrough.json" --service-cidr=10.254.0.0/16 \
  --soa-serial=1 >"$tmp/out" 2>"$tmp/err" || fail "walkthrough exited $?"
diff -u "$data/zone/kube_dns_walkthrough.zone" "$tmp/out" || fail "walkthrough output differs from golden"
grep -q "redis-master.default.svc.cluster.local. 30 IN A 10.254.7.160" "$tmp/out" || fail "no redis-master A"
[ ! -s "$tmp/err" ] || fail "walkthrough wrote to stderr: $(cat "$tmp/err")"

# Flags change the zone: TTL, domain, no legacy names.
"$zone" --objects-file="$data/objects/kube_dns_walkthrough.json" --ttl=5 --domain=k8s.example \
  --legacy-names=false >"$tmp/out" 2>&1 || fail "flags run exited $?"
grep -q "^redis-master.default.svc.k8s.example. 5 IN A 10.254.7.160$" "$tmp/out" || fail "--ttl/--domain ignored"
grep -q "^redis-master.default.k8s.example." "$tmp/out" && fail "--legacy-names=false ignored"

expect_error() {  # expect_error CODE PATTERN ARGS...
  local code=$1 pattern=$2
  shift 2
  "$zone" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" = "$code" ] || fail "$* exited $rc, want $code"
  [ "$(wc -l <"$tmp/err")" = 1 ] || fail "$*: want one line on stderr, got: $(cat "$tmp/err")"
  grep -q -- "$pattern" "$tmp/err" || fail "$*: stderr lacks '$pattern': $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$*: printed records on error"
}
expect_error 1 "objects file $tmp/missing.json: cannot open" --objects-file="$tmp/missing.json"
expect_error 1 "truncated.json: not valid JSON" --objects-file="$data/objects/truncated.json"
expect_error 1 "not_a_list.json" --objects-file="$data/objects/not_a_list.json"
expect_error 2 "pod-records=maybe" --objects-file="$data/objects/kube_dns_walkthrough.json" --pod-records=maybe
expect_error 2 "service-cidr=10.254.0.1/16" --objects-file="$data/objects/kube_dns_walkthrough.json" --service-cidr=10.254.0.1/16
expect_error 2 "objects-file is required"

# Malformed objects: skipped with a line naming each; the good ones still printed.
"$zone" --objects-file="$data/objects/malformed.json" >"$tmp/out" 2>"$tmp/err" || fail "malformed exited $?"
grep -q "skipped Service default/bad-ip" "$tmp/err" || fail "bad-ip not named: $(cat "$tmp/err")"
[ -s "$tmp/out" ] || fail "malformed.json printed nothing"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "clusterdns-zone: all checks passed"
