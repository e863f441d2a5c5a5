#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test under ctest, then runs the
# same tests again in the ASan+UBSan build, then the libFuzzer targets (60 s each) when clang is
# present. Exit status is non-zero if anything failed.
#   scripts/test.sh                 everything
#   CDNS_FUZZ_SECONDS=0 scripts/test.sh   skip the fuzzers
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh

echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== tests (ASan+UBSan build)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCDNS_SANITIZE=ON -DCDNS_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

fuzz_seconds=${CDNS_FUZZ_SECONDS:-60}
if command -v clang++-14 >/dev/null && [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzzers (${fuzz_seconds} s each)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDNS_FUZZ=ON -DCDNS_BENCH=OFF \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_all
  # New inputs go to build-fuzz/corpus/<name>, crash inputs to build-fuzz/artifacts/ (not the
  # repository root); a failing fuzzer shows the end of its log and fails the run.
  mkdir -p build-fuzz/artifacts
  for f in build-fuzz/tests/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="build-fuzz/corpus/$name"
    log="build-fuzz/$name.log"
    mkdir -p "$corpus"
    echo "-- $name"
    if "$f" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
        -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" tests/fuzz/seeds/"$name" >"$log" 2>&1; then
      grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log"
    else
      tail -n 60 "$log"
      echo "$name failed; the input is in build-fuzz/artifacts/, the log in $log"
      exit 1
    fi
  done
fi
echo "== all tests passed"
