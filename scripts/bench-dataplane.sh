#!/usr/bin/env bash
# Per-core dataplane benchmark (issue 4): the real DNS worker on one lcore, fed by a generator
# lcore through two net_ring ethdevs (two net_memif ones in loopback with --link=memif, which
# copies every frame through shared memory as a virtual NIC does) with the records benchmark's
# 100k-Service query mix (50% existing names, 50% search-path NXDOMAIN), replies checked and
# recycled; then plain forwarding
# on the same lcore and ports as the floor: testpmd's macswap, or io with --fwd-mode=io
# (bench/dataplane/worker_bench.cc). Prints each run and the medians of the valid runs whose floor
# reached at least half the best run's (the others ran on a disturbed machine): worker
# Mpps and cycles per query, forwarding Mpps and cycles per packet, and their ratio. Targets:
# >= 10 Mpps per worker core, <= 4x the floor.
# Not a test: run it by hand, on a quiet machine, and copy the figures into README.md.
#   scripts/bench-dataplane.sh [--runs=5] [--scale=1,2,4 | --against=DIR]
#       [worker_bench flags: --seconds=5 --in-flight=4096 --fwd-mode=macswap|io --lcores=0,1
#        --nic-offloads --link=ring|memif]
# --scale=N1,N2,...: how the workers scale with cores. For each N, a batch of runs with N
# generator/worker pairs (worker_bench --pairs=N) on one hardware thread of 2N distinct physical
# cores (the first thread of each core, from /sys; generators on the first N, workers on the
# next N), and a table of the medians: Mpps of all workers together and per worker.
# CDNS_BUILD_DIR=dir: run dir/bench/worker_bench as it is, without scripts/setup.sh (a build
# tree of your own; the default is build/, built by setup.sh first).
# --against=DIR: an A/B of two builds on a noisy machine. Each of --runs rounds runs this build's
# worker_bench and DIR/bench/worker_bench once each with the same flags, in alternating order;
# prints the medians of each build's undisturbed runs and the median, over the rounds where
# neither run was disturbed, of the worker Mpps ratio (this build / DIR). Runs taken apart in
# time on a shared VM differ by more than most changes do; runs side by side differ less.
# Safety: the EAL runs with --no-pci --no-huge, --no-shconf and a --file-prefix unique to the
# process (cdns-wbench-<pid>); only ring or memif ethdevs exist (memif's socket is an abstract
# one of the process); nothing is sent anywhere. Root, for /var/run/dpdk.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
scale=""
against=""
args=()
for a in "$@"; do
  case "$a" in
    --runs=*) runs="${a#--runs=}" ;;
    --scale=*) scale="${a#--scale=}" ;;
    --against=*) against="${a#--against=}" ;;
    *) args+=("$a") ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "bench-dataplane: run as root (the EAL keeps its runtime directory in /var/run/dpdk)" >&2
  exit 2
fi
if [ -n "${CDNS_BUILD_DIR:-}" ]; then
  build_dir="$CDNS_BUILD_DIR"
else
  scripts/setup.sh >/dev/null
  build_dir=build
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); $(date -u +%Y-%m-%d)"
echo "lcores: the generator owns the first core of --lcores (default 0,1), the worker the second;" \
  "each spins on its core, so on a 2-core machine nothing else should run" \
  "(load average now: $(cut -d' ' -f1-3 /proc/loadavg))"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The value of key $1 in the key=value line(s) on stdin (a result line, the medians).
field() { awk -v k="$1" '{ for (i = 1; i <= NF; ++i) { split($i, kv, "=");
  if (kv[1] == k) print kv[2] } }'; }

# run_bench BIN FLAGS...: one run into $tmp/out and $tmp/err; returns its exit status. Tables live
# in transparent huge pages (jemalloc, which the program links, asks for them), as in
# scripts/bench-records.sh.
run_bench() {
  local bin=$1
  shift
  MALLOC_CONF=thp:always,metadata_thp:always "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
}

# One batch of $runs runs of worker_bench with the flags given; prints each run and the medians
# of the valid, undisturbed ones (also into $tmp/medians). Fails if any run failed.
batch() {
  : >"$tmp/results"
  : >"$tmp/medians"
  local invalid=0 rc
  for run in $(seq "$runs"); do
    echo "--- run $run"
    rc=0
    run_bench "$build_dir/bench/worker_bench" "$@" || rc=$?
    grep -E '^(setup|worker|fwd|per pair|ratio|checks|targets|INVALID|result)' "$tmp/out" || true
    if [ "$rc" -ne 0 ]; then
      echo "run $run: exit $rc (not counted); its stderr ends:"
      tail -5 "$tmp/err"
      invalid=$((invalid + 1))
      [ "$rc" -eq 2 ] && exit 2  # bad flags or no EAL: every run would fail the same way
      continue
    fi
    grep '^result .*valid=1' "$tmp/out" >>"$tmp/results" || true
  done

  # A run whose floor fell below half the best floor ran while the two lcores did not have their
  # cores (on a shared VM, the host ran something else there): its worker figure is no better.
  # Such runs are listed and left out of the medians.
  best_fwd=$(grep -o ' fwd_mpps=[0-9.]*' "$tmp/results" | cut -d= -f2 | sort -g | tail -1)
  if [ -n "$best_fwd" ]; then
    awk -v best="$best_fwd" '{ for (i = 1; i <= NF; ++i) if ($i ~ /^fwd_mpps=/) {
        split($i, kv, "="); if (kv[2] + 0 < best / 2) { print > "/dev/stderr"; next } }
      print }' "$tmp/results" >"$tmp/steady" 2>"$tmp/disturbed"
    if [ -s "$tmp/disturbed" ]; then
      echo "--- left out, floor under half the best ($best_fwd Mpps): $(wc -l <"$tmp/disturbed") run(s)"
      sed 's/^/  /' "$tmp/disturbed"
    fi
    mv "$tmp/steady" "$tmp/results"
  fi
  valid=$(wc -l <"$tmp/results")
  echo "--- medians of $valid valid, undisturbed run(s) of $runs"
  if [ "$valid" -gt 0 ]; then
    keys="worker_mpps worker_cycles worker_tsc_cycles fwd_mpps fwd_cycles fwd_tsc_cycles ratio"
    keys="$keys pairs per_worker_mpps"
    for key in $keys; do
      printf '%s=%s ' "$key" "$(grep -o " $key=[0-9.]*" "$tmp/results" | cut -d= -f2 | median)"
    done | tee "$tmp/medians"
    echo
    echo "(worker_cycles: busy TSC cycles per query; fwd_cycles: per forwarded packet;" \
      "*_tsc_cycles: the lcore's whole time per packet; ratio = worker_cycles / fwd_cycles)"
  fi
  [ "$invalid" -eq 0 ] && [ "$valid" -gt 0 ]
}

# One run of worker_bench binary $1 with the flags after it: its result line on stdout (nothing
# when it failed or its replies did not check out).
one_run() {
  local bin=$1
  shift
  run_bench "$bin" "$@" || {
    echo "  $bin: exit $? (not counted); its stderr ends:" >&2
    tail -3 "$tmp/err" >&2
    return 0
  }
  grep '^result .*valid=1' "$tmp/out" || true
}

# --against: rounds of one run of each build; see the usage at the top.
paired() {
  local other="$against/bench/worker_bench"
  if [ ! -x "$other" ]; then
    echo "--against: $other is not an executable worker_bench" >&2
    exit 2
  fi
  local a b
  : >"$tmp/rounds"
  for round in $(seq "$runs"); do
    # Alternate which build goes first: the later run of a round may find the machine warmer.
    if [ $((round % 2)) -eq 1 ]; then
      a=$(one_run "$build_dir/bench/worker_bench" "$@")
      b=$(one_run "$other" "$@")
    else
      b=$(one_run "$other" "$@")
      a=$(one_run "$build_dir/bench/worker_bench" "$@")
    fi
    local a_mpps a_fwd b_mpps b_fwd
    a_mpps=$(field worker_mpps <<<"$a") a_fwd=$(field fwd_mpps <<<"$a")
    b_mpps=$(field worker_mpps <<<"$b") b_fwd=$(field fwd_mpps <<<"$b")
    echo "--- round $round: this $a_mpps Mpps (floor $a_fwd), against $b_mpps Mpps (floor $b_fwd)"
    [ -n "$a" ] && [ -n "$b" ] && echo "$a_mpps $a_fwd $b_mpps $b_fwd" >>"$tmp/rounds"
  done
  if [ ! -s "$tmp/rounds" ]; then
    echo "--against: no round where both builds ran and checked out" >&2
    exit 1
  fi
  # Disturbed: a floor under half the best floor of either build (as in batch()).
  local best
  best=$(awk '{ print $2; print $4 }' "$tmp/rounds" | sort -g | tail -1)
  # kept COLUMNS...: the rounds whose floors in those columns are all undisturbed.
  kept() { awk -v m="$best" -v cols="$*" 'BEGIN { n = split(cols, c, " ") }
    { for (i = 1; i <= n; ++i) if ($(c[i]) < m / 2) next; print }' "$tmp/rounds"; }
  echo "=== $build_dir against $against, worker Mpps (runs with a floor under half of" \
    "$best Mpps left out)"
  echo "this build:    median $(kept 2 | awk '{ print $1 }' | median) of $(kept 2 | wc -l) run(s)"
  echo "against build: median $(kept 4 | awk '{ print $3 }' | median) of $(kept 4 | wc -l) run(s)"
  echo "ratio this/against: median $(kept 2 4 | awk '{ printf "%.4f\n", $1 / $3 }' | median)" \
    "over $(kept 2 4 | wc -l) undisturbed round(s) of $runs"
}

if [ -n "$against" ]; then
  if [ -n "$scale" ]; then
    echo "bench-dataplane: --against and --scale do not go together" >&2
    exit 2
  fi
  paired ${args[@]+"${args[@]}"}
  exit
fi

if [ -z "$scale" ]; then
  batch ${args[@]+"${args[@]}"}
  exit
fi

# --scale: the first hardware thread of each physical core, in CPU order.
mapfile -t cores < <(for t in /sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings_list; do
  sed 's/[,-].*//' "$t"; done | sort -n -u)
echo "scale: ${#cores[@]} physical cores (first threads: ${cores[*]})"
table=$(printf '%5s  %12s  %15s  %13s  %8s  %5s' pairs workers_mpps per_worker_mpps \
  worker_cycles fwd_mpps ratio)
failed=0
for n in ${scale//,/ }; do
  if [ "$((2 * n))" -gt "${#cores[@]}" ]; then
    echo "--scale: $n pairs need $((2 * n)) physical cores; this machine has ${#cores[@]}" >&2
    exit 2
  fi
  map=""
  for i in $(seq 0 $((2 * n - 1))); do map="$map${map:+,}$i@${cores[$i]}"; done
  echo "=== $n pair(s): --lcores=$map"
  batch ${args[@]+"${args[@]}"} --pairs="$n" --lcores="$map" || failed=1
  get() { field "$1" <"$tmp/medians"; }
  table="$table$(printf '\n%5s  %12s  %15s  %13s  %8s  %5s' "$n" "$(get worker_mpps)" \
    "$(get per_worker_mpps)" "$(get worker_cycles)" "$(get fwd_mpps)" "$(get ratio)")"
done
echo "=== scaling (medians; Mpps of all workers together and per worker)"
echo "$table"
[ "$failed" -eq 0 ]
