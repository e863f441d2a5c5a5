#!/usr/bin/env bash
# Records benchmark (issue 2): a 100k-Service table, 50% existing names / 50% search-path
# NXDOMAIN queries in random order. Prints the medians of 5 repetitions: ns and TSC cycles per
# query for respond() and its burst variant, full compile time, one-change rebuild time, table
# bytes per Service; then a lookup in the table against abseil's SwissTable; then the
# instructions and mispredicted branches a query of the burst variant under callgrind (installs
# valgrind). Not a test: run it by hand and copy the figures into README.md.
#   scripts/bench-records.sh [extra Google Benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); $(date -u +%Y-%m-%d)"
# Tables live in transparent huge pages (jemalloc, which the programs link, asked for them), as
# they will in the appliance's hugepage memory: with
# 4 KB pages every lookup in a 100 MB table also misses the TLB.
MALLOC_CONF=thp:always,metadata_thp:always build/bench/records_bench --benchmark_filter='^BM_' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_display_aggregates_only=true "$@" 2>&1 | grep -E "median|Benchmark|---"
# The table's own open addressing against abseil's SwissTable, one lookup at a time.
MALLOC_CONF=thp:always,metadata_thp:always build/bench/lookup_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true 2>&1 | grep median
# Instructions a query in RespondBurst, counted by callgrind over exactly 512 bursts: unlike the
# cycles above, this does not move with what else the machine runs. valgrind has no AVX-512,
# so it runs an x86-64-v3 build of its own (build-callgrind/).
if ! command -v valgrind >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
cmake -S . -B build-callgrind -G Ninja -DCMAKE_BUILD_TYPE=Release -DCDNS_MARCH=x86-64-v3 \
  -DCDNS_FUZZ=OFF >/dev/null
cmake --build build-callgrind --target records_bench >/dev/null
# With callgrind's branch simulation: mispredicted conditional branches a query as well (a
# simple predictor's count, not the CPU's; branches that follow the name or whether it is in
# the table cost more than instructions do, see README "Records").
for name in RespondBurst RespondBurstInCache; do
  out=$(mktemp)
  valgrind --tool=callgrind --branch-sim=yes --callgrind-out-file="$out" \
    --toggle-collect='clusterdns::records::RespondBurst*' build-callgrind/bench/records_bench \
    --benchmark_filter="^Instructions/$name/" >/dev/null 2>&1
  # summary: Ir Bc Bcm Bi Bim
  read -r total _ mispredicted _ < <(sed -n 's/^summary: *//p' "$out")
  rm -f "$out"
  queries=$((512 * 32))
  echo "instructions/query $name: $((total / queries)), mispredicted branches/query:" \
    "$(awk -v m="$mispredicted" -v q="$queries" 'BEGIN { printf "%.2f", m / q }')" \
    "(callgrind, x86-64-v3 build, 512 bursts of 32)"
done
