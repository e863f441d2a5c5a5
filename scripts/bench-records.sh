#!/usr/bin/env bash
# Records benchmark (issue 2): a 100k-Service table, 50% existing names / 50% search-path
# NXDOMAIN queries in random order. Prints the medians of 5 repetitions: ns and TSC cycles per
# query for respond() and its burst variant, full compile time, one-change rebuild time, table
# bytes per Service; then a lookup in the table against abseil's SwissTable. Not a test: run it
# by hand and copy the figures into README.md.
#   scripts/bench-records.sh [extra Google Benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); $(date -u +%Y-%m-%d)"
# Tables live in transparent huge pages (jemalloc, which the programs link, asked for them), as
# they will in the appliance's hugepage memory: with
# 4 KB pages every lookup in a 100 MB table also misses the TLB.
MALLOC_CONF=thp:always,metadata_thp:always build/bench/records_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_display_aggregates_only=true "$@" 2>&1 | grep -E "median|Benchmark|---"
# The table's own open addressing against abseil's SwissTable, one lookup at a time.
MALLOC_CONF=thp:always,metadata_thp:always build/bench/lookup_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true 2>&1 | grep median
